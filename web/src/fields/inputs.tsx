// One input component per field kind. antd's Form.Item hands each `value`, `onChange`
// and `id`; values go in and out exactly as the API writes and reads them (decimals and
// money amounts as strings, dates as `YYYY-MM-DD`, instants in UTC, durations in ISO 8601).
import { Button, DatePicker, Input, InputNumber, Select, Space, Switch } from 'antd';
import dayjs from 'dayjs';
import utc from 'dayjs/plugin/utc';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { durationToIso, parseDuration } from '../format';
import { labelOf, type FieldDef } from '../meta/fields';
import { LinePicker, ReferencePicker } from './reference';
// Lines edit their cells through the dispatcher (used at render time only).
import { FieldInput } from './dispatch';

dayjs.extend(utc);

export interface InputProps {
  field: FieldDef;
  value?: unknown;
  onChange?: (value: unknown) => void;
  id?: string;
  'aria-invalid'?: boolean | 'true' | 'false';
}

const full = { width: '100%' };
const emptyToNull = (s: string) => (s === '' ? null : s);

export function TextInput({ field, value, onChange, id }: InputProps) {
  if (field.lineOf?.target) return <LinePicker field={field} value={value} onChange={onChange} id={id} />;
  return (
    <Input
      id={id}
      value={(value as string) ?? ''}
      maxLength={field.maxLength}
      onChange={(e) => onChange?.(emptyToNull(e.target.value))}
    />
  );
}

export function LongTextInput({ value, onChange, id }: InputProps) {
  return (
    <Input.TextArea
      id={id}
      value={(value as string) ?? ''}
      autoSize={{ minRows: 2, maxRows: 8 }}
      onChange={(e) => onChange?.(emptyToNull(e.target.value))}
    />
  );
}

/** HTML source; the server sanitises it. */
export function RichTextInput({ value, onChange, id }: InputProps) {
  return (
    <Input.TextArea
      id={id}
      className="weft-mono"
      value={(value as string) ?? ''}
      autoSize={{ minRows: 3, maxRows: 12 }}
      placeholder="<p>…</p>"
      onChange={(e) => onChange?.(emptyToNull(e.target.value))}
    />
  );
}

export function IntegerInput({ field, value, onChange, id }: InputProps) {
  return (
    <InputNumber
      id={id}
      style={full}
      precision={0}
      min={field.min as number | undefined}
      max={field.max as number | undefined}
      value={(value as number | null) ?? null}
      onChange={(v) => onChange?.(v ?? null)}
    />
  );
}

/** Exact decimals: antd's string mode never goes through a float. */
function DecimalBox({ value, onChange, id, scale, addon }: { value: unknown; onChange?: (v: string | null) => void; id?: string; scale?: number; addon?: string }) {
  return (
    <InputNumber<string>
      id={id}
      style={full}
      stringMode
      step={scale ? (1 / 10 ** scale).toFixed(scale) : '1'}
      value={value == null ? null : String(value)}
      addonAfter={addon}
      onChange={(v) => onChange?.(v === null || v === '' ? null : String(v))}
    />
  );
}

export function DecimalInput({ field, value, onChange, id }: InputProps) {
  return <DecimalBox id={id} value={value} scale={field.scale} onChange={onChange} />;
}

export function PercentInput({ value, onChange, id }: InputProps) {
  return <DecimalBox id={id} value={value} addon="%" onChange={onChange} />;
}

/** `{amount, currency}`; a fixed currency is shown, not asked. */
export function MoneyInput({ field, value, onChange, id }: InputProps) {
  const m = (value as { amount?: string; currency?: string } | null) ?? null;
  const [currency, setCurrency] = useState(m?.currency ?? field.currency ?? 'CNY');
  useEffect(() => {
    if (m?.currency) setCurrency(m.currency);
  }, [m?.currency]);
  const emit = (amount: string | null, cur: string) =>
    onChange?.(amount === null ? null : { amount, currency: field.currency ?? cur });
  return (
    <Space.Compact style={full}>
      <DecimalBox id={id} value={m?.amount ?? null} scale={field.scale} onChange={(a) => emit(a, currency)} />
      {field.currency ? (
        <Button tabIndex={-1} disabled style={{ color: 'inherit' }}>
          {field.currency}
        </Button>
      ) : (
        <Input
          aria-label="currency"
          style={{ width: 80 }}
          maxLength={3}
          value={currency}
          onChange={(e) => {
            const cur = e.target.value.toUpperCase();
            setCurrency(cur);
            if (m?.amount) emit(m.amount, cur);
          }}
        />
      )}
    </Space.Compact>
  );
}

export function BooleanInput({ value, onChange, id }: InputProps) {
  return <Switch id={id} checked={!!value} onChange={(v) => onChange?.(v)} />;
}

export function DateInput({ value, onChange, id }: InputProps) {
  return (
    <DatePicker
      id={id}
      style={full}
      value={value ? dayjs(String(value), 'YYYY-MM-DD') : null}
      format="YYYY-MM-DD"
      onChange={(d) => onChange?.(d ? d.format('YYYY-MM-DD') : null)}
    />
  );
}

/** Shown and picked in local time; sent in UTC. */
export function DateTimeInput({ value, onChange, id }: InputProps) {
  return (
    <DatePicker
      id={id}
      style={full}
      showTime={{ format: 'HH:mm' }}
      format="YYYY-MM-DD HH:mm"
      value={value ? dayjs(String(value)) : null}
      onChange={(d) => onChange?.(d ? d.second(0).millisecond(0).utc().format('YYYY-MM-DDTHH:mm:ss[Z]') : null)}
    />
  );
}

/** Days, hours and minutes → `P1DT2H30M`. */
export function DurationInput({ value, onChange, id }: InputProps) {
  const { t } = useTranslation();
  const p = (value ? parseDuration(String(value)) : null) ?? { negative: false, days: 0, hours: 0, minutes: 0, seconds: 0 };
  const set = (key: 'days' | 'hours' | 'minutes', n: number | null) => {
    const next = { ...p, [key]: n ?? 0 };
    const empty = !next.days && !next.hours && !next.minutes && !next.seconds;
    onChange?.(empty && !value ? null : durationToIso(next));
  };
  return (
    <Space.Compact style={full}>
      <InputNumber id={id} min={0} precision={0} value={p.days || null} addonAfter={t('record.days')} aria-label="days" onChange={(n) => set('days', n)} />
      <InputNumber min={0} max={23} precision={0} value={p.hours || null} addonAfter={t('record.hours')} aria-label="hours" onChange={(n) => set('hours', n)} />
      <InputNumber min={0} max={59} precision={0} value={p.minutes || null} addonAfter={t('record.minutes')} aria-label="minutes" onChange={(n) => set('minutes', n)} />
    </Space.Compact>
  );
}

export function EmailInput({ value, onChange, id }: InputProps) {
  return <Input id={id} type="email" inputMode="email" value={(value as string) ?? ''} onChange={(e) => onChange?.(emptyToNull(e.target.value))} />;
}

export function PhoneInput({ value, onChange, id }: InputProps) {
  return <Input id={id} type="tel" inputMode="tel" value={(value as string) ?? ''} onChange={(e) => onChange?.(emptyToNull(e.target.value))} />;
}

export function UrlInput({ value, onChange, id }: InputProps) {
  return <Input id={id} type="url" inputMode="url" placeholder="https://" value={(value as string) ?? ''} onChange={(e) => onChange?.(emptyToNull(e.target.value))} />;
}

function useOptions(field: FieldDef) {
  const { i18n } = useTranslation();
  return (field.options ?? []).map((o) => ({ value: o.value, label: labelOf(o.label, i18n.language) }));
}

export function SelectInput({ field, value, onChange, id }: InputProps) {
  return (
    <Select id={id} style={full} allowClear options={useOptions(field)} value={(value as string) ?? undefined} onChange={(v) => onChange?.(v ?? null)} />
  );
}

export function MultiSelectInput({ field, value, onChange, id }: InputProps) {
  return (
    <Select
      id={id}
      style={full}
      mode="multiple"
      allowClear
      options={useOptions(field)}
      value={(value as string[]) ?? []}
      onChange={(v) => onChange?.(v)}
    />
  );
}

export function ReferenceInput({ field, value, onChange, id }: InputProps) {
  return <ReferencePicker id={id} target={field.target ?? ''} value={(value as string) ?? null} onChange={onChange} />;
}

/** A principal or org unit, by id (pickers for them come with the admin pages). */
export function IdInput({ value, onChange, id }: InputProps) {
  return (
    <Input
      id={id}
      className="weft-mono"
      placeholder="00000000-0000-0000-0000-000000000000"
      value={(value as string) ?? ''}
      onChange={(e) => onChange?.(emptyToNull(e.target.value.trim()))}
    />
  );
}

function move<T>(items: T[], from: number, to: number): T[] {
  const out = [...items];
  const [item] = out.splice(from, 1);
  out.splice(to, 0, item);
  return out;
}

/** Child lines: add, edit, reorder and remove rows; each cell through the dispatcher. */
export function LinesInput({ field, value, onChange, id }: InputProps) {
  const { t, i18n } = useTranslation();
  const lines = Array.isArray(value) ? (value as Record<string, unknown>[]) : [];
  const cols = field.lines ?? [];
  const setCell = (i: number, name: string, v: unknown) =>
    onChange?.(lines.map((line, j) => (j === i ? { ...line, [name]: v } : line)));
  return (
    <div id={id} className="weft-lines-edit">
      {lines.map((line, i) => (
        <div className="weft-line" key={String(line.id ?? `new-${i}`)} data-line={i}>
          {cols.map((c) => (
            <label key={c.name} className="weft-line-cell">
              <span className="weft-line-label">
                {labelOf(c.label, i18n.language)}
                {c.required ? <span className="weft-required" aria-hidden> *</span> : null}
              </span>
              <FieldInput field={c} value={line[c.name]} onChange={(v) => setCell(i, c.name, v)} />
            </label>
          ))}
          <Space size={4}>
            <Button size="small" aria-label={t('record.moveUp')} disabled={i === 0} onClick={() => onChange?.(move(lines, i, i - 1))}>
              ↑
            </Button>
            <Button size="small" aria-label={t('record.moveDown')} disabled={i === lines.length - 1} onClick={() => onChange?.(move(lines, i, i + 1))}>
              ↓
            </Button>
            <Button danger size="small" onClick={() => onChange?.(lines.filter((_, j) => j !== i))}>
              {t('record.removeLine')}
            </Button>
          </Space>
        </div>
      ))}
      <Button size="small" style={{ alignSelf: 'flex-start' }} onClick={() => onChange?.([...lines, {}])}>
        {t('record.addLine')}
      </Button>
    </div>
  );
}

/** SHA-256 digests of stored files (uploads arrive with the attachments API). */
export function AttachmentInput({ field, value, onChange, id }: InputProps) {
  const items = Array.isArray(value) ? (value as string[]) : value ? [String(value)] : [];
  return (
    <Select
      id={id}
      style={full}
      mode="tags"
      className="weft-mono"
      maxCount={field.multiple ? undefined : 1}
      value={items}
      tokenSeparators={[',', ' ']}
      onChange={(v: string[]) => onChange?.(field.multiple ? v : (v[0] ?? null))}
    />
  );
}

/** Any JSON; kept as text while it does not parse. */
export function JsonInput({ value, onChange, id }: InputProps) {
  const { t } = useTranslation();
  const [text, setText] = useState(() => (value === undefined || value === null ? '' : JSON.stringify(value, null, 2)));
  const [bad, setBad] = useState(false);
  return (
    <>
      <Input.TextArea
        id={id}
        className="weft-mono"
        autoSize={{ minRows: 2, maxRows: 10 }}
        value={text}
        status={bad ? 'error' : undefined}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim() === '') {
            setBad(false);
            onChange?.(null);
            return;
          }
          try {
            onChange?.(JSON.parse(e.target.value));
            setBad(false);
          } catch {
            setBad(true);
          }
        }}
      />
      {bad ? <div className="weft-field-hint">{t('record.invalidJson')}</div> : null}
    </>
  );
}
