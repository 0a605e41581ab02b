// References: a link showing the target's title, and a search-as-you-type picker.
import { Form, Select, Spin } from 'antd';
import { createContext, useContext, useEffect, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { api, type RecordJson } from '../api/client';
import { feelString } from '../feel/filter';
import { titleOf, useTypes } from '../meta/context';
import type { FieldDef } from '../meta/fields';

const titles = new Map<string, Promise<string | null>>();
/** Titles already fetched, so a list shows them in its first render. */
const known = new Map<string, string>();

function fetchTitle(type: string, id: string, title: (r: RecordJson) => string): Promise<string | null> {
  const key = `${type}/${id}`;
  let p = titles.get(key);
  if (!p) {
    p = api
      .GET('/api/v1/records/{type}/{id}', { params: { path: { type, id } } })
      .then(({ data }) => {
        const text = data ? title(data as RecordJson) : null;
        if (text) known.set(key, text);
        return text;
      })
      .catch(() => null);
    titles.set(key, p);
  }
  return p;
}

export function LinkedRecord({ type, id }: { type: string; id: string }) {
  const { byName } = useTypes();
  const def = byName(type);
  const [title, setTitle] = useState<string | null>(() => known.get(`${type}/${id}`) ?? null);
  useEffect(() => {
    let live = true;
    if (def?.permissions.read && !known.has(`${type}/${id}`))
      void fetchTitle(type, id, (r) => titleOf(def, r)).then((t) => live && setTitle(t));
    return () => {
      live = false;
    };
  }, [type, id, def]);
  // Without a title the record is not readable (or not there): no link to a dead end.
  return title ? <Link to={`/r/${type}/${id}`}>{title}</Link> : <span title={id}>{id.slice(0, 8)}</span>;
}

interface PickerProps {
  target: string;
  value?: string | null;
  onChange?: (value: string | null) => void;
  id?: string;
  'aria-label'?: string;
}

/** Picks a record of `target`, searching its title field as one types. */
export function ReferencePicker({ target, value, onChange, id, ...rest }: PickerProps) {
  const { byName } = useTypes();
  const def = byName(target);
  const [options, setOptions] = useState<{ value: string; label: string }[]>([]);
  const [loading, setLoading] = useState(false);
  const seq = useRef(0);

  const search = (text: string) => {
    const n = ++seq.current;
    setLoading(true);
    const titleField = def?.titleField;
    const filter = text && titleField ? `contains(${titleField}, ${feelString(text)})` : undefined;
    void api
      .GET('/api/v1/records/{type}', { params: { path: { type: target }, query: { filter, limit: 20 } } })
      .then(({ data }) => {
        if (n !== seq.current) return;
        setOptions((data?.items ?? []).map((r) => ({ value: String(r.id), label: titleOf(def, r as RecordJson) })));
      })
      .finally(() => n === seq.current && setLoading(false));
  };

  useEffect(() => {
    if (!value) return;
    void fetchTitle(target, value, (r) => titleOf(def, r)).then((label) => {
      if (label) setOptions((o) => (o.some((x) => x.value === value) ? o : [...o, { value, label }]));
    });
  }, [target, value, def]);

  return (
    <Select
      id={id}
      aria-label={rest['aria-label']}
      showSearch
      allowClear
      value={value ?? undefined}
      filterOption={false}
      onSearch={search}
      onFocus={() => options.length <= 1 && search('')}
      onChange={(v) => onChange?.(v ?? null)}
      notFoundContent={loading ? <Spin size="small" /> : undefined}
      options={options}
      style={{ width: '100%' }}
    />
  );
}

/** The values of the record being shown, for displays that depend on a sibling field. */
export const RecordValues = createContext<Record<string, unknown> | null>(null);

const recordLines = new Map<string, Promise<{ value: string; label: string }[]>>();

/** The lines of `type/id` as picker options (`#2 M8 nut × 20`), fetched once per page. */
function linesOf(type: string, id: string): Promise<{ value: string; label: string }[]> {
  const key = `${type}/${id}`;
  let p = recordLines.get(key);
  if (!p) {
    p = api
      .GET('/api/v1/records/{type}/{id}', { params: { path: { type, id } } })
      .then(({ data }) => {
        const rows = ((data as Record<string, unknown> | undefined)?.lines ?? []) as Record<string, unknown>[];
        return rows.map((l, i) => ({
          value: String(l.id),
          label: [`#${i + 1}`, l.description, l.qty != null ? `× ${String(l.qty).replace(/\.?0+$/, '')}` : null]
            .filter(Boolean)
            .join(' '),
        }));
      })
      .catch(() => []);
    recordLines.set(key, p);
    // A later page (after an edit of the order) reads it again.
    setTimeout(() => recordLines.delete(key), 30_000);
  }
  return p;
}

/** A `line_of` value shown as the line it names, when the shown record says whose. */
export function LineOfDisplay({ field, value }: { field: FieldDef; value: unknown }) {
  const record = useContext(RecordValues);
  const of = field.lineOf;
  const parent = of ? (record?.[of.field] as string | undefined) : undefined;
  const [label, setLabel] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    if (of?.target && parent) void linesOf(of.target, parent).then((ls) => live && setLabel(ls.find((l) => l.value === value)?.label ?? null));
    return () => {
      live = false;
    };
  }, [of?.target, parent, value]);
  return <span title={String(value)}>{label ?? `${String(value).slice(0, 8)}…`}</span>;
}

/** A line of the record another field of the form references (`line_of`): a shipping
 * notice's line picks one of its purchase order's lines, shown by description and quantity. */
export function LinePicker({
  field,
  value,
  onChange,
  id,
}: {
  field: FieldDef;
  value?: unknown;
  onChange?: (value: unknown) => void;
  id?: string;
}) {
  const form = Form.useFormInstance();
  const of = field.lineOf;
  const parent = Form.useWatch(of?.field ?? '', form) as string | null | undefined;
  const [lines, setLines] = useState<{ value: string; label: string }[] | null>(null);
  useEffect(() => {
    let live = true;
    setLines(null);
    if (!of?.target || !parent) return;
    void linesOf(of.target, parent).then((options) => live && setLines(options));
    return () => {
      live = false;
    };
  }, [of?.target, parent]);
  return (
    <Select
      id={id}
      style={{ width: '100%', minWidth: 180 }}
      value={(value as string) ?? undefined}
      disabled={!parent}
      loading={!!parent && lines === null}
      options={lines ?? []}
      onChange={(v) => onChange?.(v ?? null)}
      allowClear
      data-testid={`line-of-${field.name}`}
    />
  );
}
