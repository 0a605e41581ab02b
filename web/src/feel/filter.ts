// The list view's filters, compiled to the FEEL filter string the API takes
// (`GET /api/v1/records/{type}?filter=…`). Which filter a field gets follows from its
// kind; values become FEEL literals here and nowhere else, escaped so that no input can
// change the expression's shape.
import { displayKind, type FieldDef } from '../meta/fields';

export type FilterKind = 'text' | 'number' | 'date' | 'datetime' | 'options' | 'boolean';

export type FilterValue =
  | { op: 'contains'; text: string }
  | { op: 'range'; from?: string | number | null; to?: string | number | null }
  | { op: 'in'; values: string[] }
  | { op: 'is'; value: boolean };

/** The filter a field offers, or null when its kind has no column predicate. */
export function filterKindOf(field: FieldDef): FilterKind | null {
  if (field.kind === 'computed' && !field.sortable) return null; // not stored: no column
  const kind = displayKind(field);
  switch (kind) {
    case 'text':
    case 'long_text':
    case 'email':
    case 'phone':
    case 'url':
      return 'text';
    case 'integer':
    case 'decimal':
    case 'money':
    case 'percent':
      return 'number';
    case 'date':
      return 'date';
    case 'datetime':
      return 'datetime';
    case 'select':
      return 'options';
    case 'boolean':
      return 'boolean';
    case 'rich_text':
    case 'duration':
    case 'multi_select':
    case 'reference':
    case 'party':
    case 'principal':
    case 'org_unit':
    case 'lines':
    case 'attachment':
    case 'json':
      return null;
    default: {
      const never: never = kind;
      return never;
    }
  }
}

/** A FEEL string literal: `"…"` with `\"`, `\\`, `\n`, `\r`, `\t` and `\uXXXX` escapes. */
export function feelString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}

const NUMBER = /^-?\d+(\.\d+)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function literal(kind: FilterKind, v: string | number): string | null {
  const s = String(v).trim();
  switch (kind) {
    case 'number':
      return NUMBER.test(s) ? s : null;
    case 'date':
      return DATE.test(s) ? `date(${feelString(s)})` : null;
    case 'datetime':
      return Number.isNaN(Date.parse(s)) ? null : `date and time(${feelString(new Date(s).toISOString())})`;
    default:
      return feelString(s);
  }
}

const NAME = /^[a-z_][a-z0-9_]*$/;

/** One field's condition, or null when the value does not restrict anything. */
export function clause(name: string, kind: FilterKind, value: FilterValue): string | null {
  if (!NAME.test(name)) throw new Error(`not a field name: ${name}`);
  switch (value.op) {
    case 'contains':
      return value.text.trim() === '' ? null : `contains(${name}, ${feelString(value.text.trim())})`;
    case 'range': {
      const has = (x: unknown): x is string | number => x !== undefined && x !== null && String(x).trim() !== '';
      const from = has(value.from) ? literal(kind, value.from) : null;
      const to = has(value.to) ? literal(kind, value.to) : null;
      if (from && to) return `${name} between ${from} and ${to}`;
      if (from) return `${name} >= ${from}`;
      if (to) return `${name} <= ${to}`;
      return null;
    }
    case 'in':
      if (value.values.length === 0) return null;
      return value.values.length === 1
        ? `${name} = ${feelString(value.values[0])}`
        : `${name} in (${value.values.map(feelString).join(', ')})`;
    case 'is':
      return `${name} = ${value.value ? 'true' : 'false'}`;
  }
}

/** Every non-empty clause, joined with `and`; undefined when nothing filters. */
export function buildFilter(parts: (string | null | undefined)[]): string | undefined {
  const clauses = parts.filter((p): p is string => !!p);
  if (clauses.length === 0) return undefined;
  if (clauses.length === 1) return clauses[0];
  return clauses.map((c) => (/ or /.test(c) ? `(${c})` : c)).join(' and ');
}
