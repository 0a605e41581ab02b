// One display component per field kind. Each gets the field's definition and the value
// as the API writes it, and renders it for the UI's language. `FieldDisplay` in
// `dispatch.tsx` picks the component; nothing else switches on the kind.
import { Tag, Typography } from 'antd';
import type { ReactNode } from 'react';
import { message, useLang } from '../i18n/lang';
import {
  formatDate,
  formatDateTime,
  formatDecimal,
  formatDuration,
  formatInteger,
  formatMoney,
  formatPercent,
} from '../format';
import { labelOf, type FieldDef } from '../meta/fields';
import { PrincipalName, UnitName } from './people';
import { LinkedRecord } from './reference';
// Lines show their cells through the dispatcher (used at render time only).
import { FieldDisplay } from './dispatch';

export interface DisplayProps {
  field: FieldDef;
  value: unknown;
}

const Empty = () => <span className="weft-empty">—</span>;

export function TextDisplay({ value }: DisplayProps) {
  return <span>{String(value)}</span>;
}

export function LongTextDisplay({ value }: DisplayProps) {
  return <span style={{ whiteSpace: 'pre-wrap' }}>{String(value)}</span>;
}

/** HTML the server sanitised on input. */
export function RichTextDisplay({ value }: DisplayProps) {
  return <div className="weft-rich" dangerouslySetInnerHTML={{ __html: String(value) }} />;
}

export function IntegerDisplay({ value }: DisplayProps) {
  return <span className="weft-num">{formatInteger(useLang(), value as number)}</span>;
}

export function DecimalDisplay({ field, value }: DisplayProps) {
  return <span className="weft-num">{formatDecimal(useLang(), value as string, field.scale)}</span>;
}

export function MoneyDisplay({ value }: DisplayProps) {
  const lang = useLang();
  const m = value as { amount: string; currency: string };
  if (!m || typeof m !== 'object') return <span>{String(value)}</span>;
  return <span className="weft-num">{formatMoney(lang, m.amount, m.currency)}</span>;
}

export function PercentDisplay({ value }: DisplayProps) {
  return <span className="weft-num">{formatPercent(useLang(), value as string)}</span>;
}

export function BooleanDisplay({ value }: DisplayProps) {
  const lang = useLang();
  return <span>{message(lang, value ? 'common.yes' : 'common.no')}</span>;
}

export function DateDisplay({ value }: DisplayProps) {
  return <span>{formatDate(useLang(), String(value))}</span>;
}

export function DateTimeDisplay({ value }: DisplayProps) {
  return <span>{formatDateTime(useLang(), String(value))}</span>;
}

export function DurationDisplay({ value }: DisplayProps) {
  return <span>{formatDuration(useLang(), String(value))}</span>;
}

export function EmailDisplay({ value }: DisplayProps) {
  return <a href={`mailto:${String(value)}`}>{String(value)}</a>;
}

export function PhoneDisplay({ value }: DisplayProps) {
  return <a href={`tel:${String(value).replace(/[^\d+]/g, '')}`}>{String(value)}</a>;
}

export function UrlDisplay({ value }: DisplayProps) {
  const href = String(value);
  return /^https?:\/\//i.test(href) ? (
    <a href={href} target="_blank" rel="noopener noreferrer">
      {href}
    </a>
  ) : (
    <span>{href}</span>
  );
}

function optionTag(field: FieldDef, value: string, lang: string): ReactNode {
  const option = field.options?.find((o) => o.value === value);
  return (
    <Tag key={value} color={option?.color}>
      {option ? labelOf(option.label, lang) : value}
    </Tag>
  );
}

export function SelectDisplay({ field, value }: DisplayProps) {
  return <>{optionTag(field, String(value), useLang())}</>;
}

export function MultiSelectDisplay({ field, value }: DisplayProps) {
  const lang = useLang();
  return <>{(Array.isArray(value) ? value : []).map((v) => optionTag(field, String(v), lang))}</>;
}

export function ReferenceDisplay({ field, value }: DisplayProps) {
  return <LinkedRecord type={field.target ?? ''} id={String(value)} />;
}

export function PrincipalDisplay({ value }: DisplayProps) {
  return <PrincipalName id={String(value)} />;
}

export function OrgUnitDisplay({ value }: DisplayProps) {
  return <UnitName id={String(value)} />;
}

export function LinesDisplay({ field, value }: DisplayProps) {
  const lang = useLang();
  const lines = Array.isArray(value) ? (value as Record<string, unknown>[]) : [];
  if (lines.length === 0) return <span className="weft-empty">{message(lang, 'record.noLines')}</span>;
  const cols = field.lines ?? [];
  return (
    <div className="weft-lines-scroll">
      <table className="weft-lines">
        <thead>
          <tr>
            {cols.map((c) => (
              <th key={c.name}>{labelOf(c.label, lang)}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {lines.map((line, i) => (
            <tr key={String(line.id ?? i)}>
              {cols.map((c) => (
                <td key={c.name}>
                  <FieldDisplay field={c} value={line[c.name]} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function AttachmentDisplay({ value }: DisplayProps) {
  const lang = useLang();
  const items = Array.isArray(value) ? value : [value];
  return (
    <span title={items.join('\n')}>
      {items.length === 1 ? <Typography.Text code>{String(items[0]).slice(0, 12)}</Typography.Text> : message(lang, 'record.attachments', { count: items.length })}
    </span>
  );
}

export function JsonDisplay({ value }: DisplayProps) {
  return <code className="weft-json">{JSON.stringify(value)}</code>;
}

export { Empty };
