// The object-type editor's pure half: a declaration's field ⇄ the field form, the problems
// of a refused declaration by field row, and what a dry-run plan says. The declaration is
// kept as JSON exactly as the server gave it, so whatever the editor does not edit
// (lifecycle, naming, unique constraints, a text field's `line_of`) goes back unchanged.
import type { Problem, Schemas } from '../api/client';

export type FieldJson = Record<string, unknown> & { name: string; type: string };
export type DeclJson = Record<string, unknown> & { name: string; fields: FieldJson[] };
export type Plan = Schemas['DeclarePlan'];

/** Every kind the kernel declares, in the order the editor offers them. */
export const FIELD_TYPES = [
  'text',
  'long_text',
  'rich_text',
  'integer',
  'decimal',
  'money',
  'percent',
  'boolean',
  'date',
  'datetime',
  'duration',
  'email',
  'phone',
  'url',
  'select',
  'multi_select',
  'reference',
  'party',
  'principal',
  'org_unit',
  'lines',
  'attachment',
  'json',
  'computed',
] as const satisfies readonly Schemas['FieldKind']['type'][];
export type FieldType = (typeof FIELD_TYPES)[number];

/** The kinds a computed field may produce. */
export const RESULT_TYPES = ['text', 'integer', 'decimal', 'money', 'percent', 'boolean', 'date', 'datetime', 'duration'] as const;
export const ON_DELETE = ['restrict', 'set_null', 'cascade'] as const;

/** The keys a field has whatever its kind. */
const COMMON = ['name', 'label', 'help', 'type', 'required', 'default', 'unique', 'indexed'];

export interface OptionForm {
  value: string;
  label_zh?: string;
  label_en?: string;
  color?: string;
}

export interface FieldForm {
  name: string;
  label_zh?: string;
  label_en?: string;
  help_zh?: string;
  help_en?: string;
  type: FieldType;
  required?: boolean;
  unique?: boolean;
  indexed?: boolean;
  /** `none`, a JSON literal (or plain text), or a FEEL expression. */
  default_kind?: 'none' | 'literal' | 'feel';
  default_text?: string;
  max_length?: number | null;
  min?: string | null;
  max?: string | null;
  scale?: number | null;
  currency?: string | null;
  options?: OptionForm[];
  target?: string;
  on_delete?: (typeof ON_DELETE)[number];
  multiple?: boolean;
  expression?: string;
  result_type?: (typeof RESULT_TYPES)[number];
  result_scale?: number | null;
  result_currency?: string | null;
  stored?: boolean;
  /** A lines field's own fields, as declarations. */
  lines?: FieldJson[];
}

type Label = { en?: string; zh?: string };

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const text = (v: unknown): string | null => (typeof v === 'string' || typeof v === 'number' ? String(v) : null);
const trimmed = (v: string | null | undefined): string | undefined => (v?.trim() ? v.trim() : undefined);

/** A label for the server: both languages, the other one standing in for a missing one. */
export function labelFrom(zh?: string, en?: string): { en: string; zh: string } {
  const z = zh?.trim() ?? '';
  const e = en?.trim() ?? '';
  return { en: e || z, zh: z || e };
}

export function formOfField(field: FieldJson): FieldForm {
  const label = (field.label ?? {}) as Label;
  const help = (field.help ?? undefined) as Label | undefined;
  const def = field.default;
  const feel = def && typeof def === 'object' && !Array.isArray(def) && typeof (def as { feel?: unknown }).feel === 'string';
  const result = (field.result ?? {}) as Record<string, unknown>;
  return {
    name: field.name,
    label_zh: label.zh,
    label_en: label.en,
    help_zh: help?.zh,
    help_en: help?.en,
    type: field.type as FieldType,
    required: !!field.required,
    unique: !!field.unique,
    indexed: !!field.indexed,
    default_kind: def === undefined || def === null ? 'none' : feel ? 'feel' : 'literal',
    default_text:
      def === undefined || def === null
        ? undefined
        : feel
          ? (def as { feel: string }).feel
          : typeof def === 'string'
            ? def
            : JSON.stringify(def),
    max_length: field.type === 'text' ? (num(field.max_length) ?? 255) : null,
    min: text(field.min),
    max: text(field.max),
    scale: num(field.scale),
    currency: str(field.currency) ?? null,
    options: Array.isArray(field.options)
      ? (field.options as { value: string; label?: Label; color?: string }[]).map((o) => ({
          value: o.value,
          label_zh: o.label?.zh,
          label_en: o.label?.en,
          color: o.color,
        }))
      : undefined,
    target: str(field.target),
    on_delete: (str(field.on_delete) as FieldForm['on_delete']) ?? 'restrict',
    multiple: !!field.multiple,
    expression: str(field.expression),
    result_type: (str(result.type) as FieldForm['result_type']) ?? 'text',
    result_scale: num(result.scale),
    result_currency: str(result.currency) ?? null,
    stored: !!field.stored,
    lines: Array.isArray(field.fields) ? (field.fields as FieldJson[]) : undefined,
  };
}

/** A literal default as typed: JSON when it reads as JSON, else the text itself. Exact
 *  numbers stay strings (the server keeps `12.50` as typed; a float would not). */
export function literalOf(textValue: string, type: FieldType): unknown {
  const t = textValue.trim();
  if (['decimal', 'money', 'percent'].includes(type) && /^-?\d+(\.\d+)?$/.test(t)) return t;
  if (['text', 'long_text', 'rich_text', 'email', 'phone', 'url', 'select', 'date', 'datetime', 'duration'].includes(type) && !t.startsWith('"') && !t.startsWith('['))
    return textValue;
  try {
    return JSON.parse(t);
  } catch {
    return textValue;
  }
}

/** The field declaration the form describes. Kind parameters the form does not show
 *  (`line_of`) are kept from `previous` while the kind stays the same. */
export function fieldOfForm(form: FieldForm, previous?: FieldJson): FieldJson {
  const out: Record<string, unknown> = {};
  if (previous && previous.type === form.type) {
    for (const [k, v] of Object.entries(previous)) if (!COMMON.includes(k)) out[k] = v;
  }
  out.name = form.name.trim();
  out.label = labelFrom(form.label_zh, form.label_en);
  if (trimmed(form.help_zh) || trimmed(form.help_en)) out.help = labelFrom(form.help_zh, form.help_en);
  out.type = form.type;
  const set = (key: string, value: unknown) => {
    if (value === undefined || value === null || value === '') delete out[key];
    else out[key] = value;
  };
  switch (form.type) {
    case 'text':
      set('max_length', form.max_length ?? 255);
      break;
    case 'integer':
      set('min', form.min != null && form.min !== '' ? Number(form.min) : undefined);
      set('max', form.max != null && form.max !== '' ? Number(form.max) : undefined);
      break;
    case 'decimal':
      set('scale', form.scale ?? 2);
      set('min', trimmed(form.min));
      set('max', trimmed(form.max));
      break;
    case 'money':
      set('currency', trimmed(form.currency)?.toUpperCase());
      set('scale', form.scale ?? undefined);
      break;
    case 'select':
    case 'multi_select':
      out.options = (form.options ?? []).map((o) => {
        const option: Record<string, unknown> = { value: o.value?.trim() ?? '', label: labelFrom(o.label_zh, o.label_en) };
        if (trimmed(o.color)) option.color = trimmed(o.color);
        return option;
      });
      break;
    case 'reference':
      set('target', form.target);
      set('on_delete', form.on_delete ?? 'restrict');
      break;
    case 'attachment':
      set('multiple', form.multiple ? true : undefined);
      break;
    case 'lines':
      out.fields = form.lines ?? [];
      break;
    case 'computed': {
      out.expression = form.expression ?? '';
      const result: Record<string, unknown> = { type: form.result_type ?? 'text' };
      if (form.result_type === 'decimal') result.scale = form.result_scale ?? 2;
      if (form.result_type === 'money') {
        if (trimmed(form.result_currency)) result.currency = trimmed(form.result_currency)?.toUpperCase();
        if (form.result_scale != null) result.scale = form.result_scale;
      }
      out.result = result;
      set('stored', form.stored ? true : undefined);
      break;
    }
    default:
      break;
  }
  if (form.required) out.required = true;
  if (form.unique && indexable(form)) out.unique = true;
  if (form.indexed && indexable(form)) out.indexed = true;
  if (form.default_kind === 'feel' && trimmed(form.default_text)) out.default = { feel: form.default_text!.trim() };
  else if (form.default_kind === 'literal' && form.default_text !== undefined && form.default_text !== '')
    out.default = literalOf(form.default_text, form.type);
  return out as FieldJson;
}

/** Whether the field's column can carry an index or a unique constraint (the server's
 *  `FieldKind::indexable`). */
export function indexable(form: Pick<FieldForm, 'type' | 'multiple' | 'stored'>): boolean {
  switch (form.type) {
    case 'long_text':
    case 'rich_text':
    case 'json':
    case 'multi_select':
    case 'lines':
      return false;
    case 'attachment':
      return !form.multiple;
    case 'computed':
      return !!form.stored;
    default:
      return true;
  }
}

/** Whether a default makes sense for the kind (computed fields compute, lines hold lines). */
export function takesDefault(type: FieldType): boolean {
  return !['computed', 'lines', 'attachment', 'rich_text'].includes(type);
}

export interface Problems {
  /** By field row (`/fields/3/scale` → row 3): each problem's path inside the field and reason. */
  rows: Map<number, { path: string; reason: string }[]>;
  /** The declaration's own problems (`/label`, `/title_field`…), with their pointer. */
  other: { pointer: string; reason: string }[];
}

/** A refused declaration's problems by field row, every one of them kept. */
export function problemsOf(problem: Pick<Problem, 'errors' | 'detail' | 'title'> | undefined): Problems {
  const rows = new Map<number, { path: string; reason: string }[]>();
  const other: { pointer: string; reason: string }[] = [];
  for (const e of problem?.errors ?? []) {
    const m = /^\/fields\/(\d+)(\/.*)?$/.exec(e.pointer);
    if (m) {
      const list = rows.get(Number(m[1])) ?? [];
      list.push({ path: (m[2] ?? '').slice(1), reason: e.reason });
      rows.set(Number(m[1]), list);
    } else other.push({ pointer: e.pointer, reason: e.reason });
  }
  if (!problem?.errors?.length && problem) other.push({ pointer: '', reason: problem.detail ?? problem.title ?? '' });
  return { rows, other };
}

/** The field form's item a problem path inside a field belongs to (`options/2/value` →
 *  `options`, `label` → `label_en`), else null. */
export function formItemOf(path: string): string | null {
  const head = path.split('/')[0];
  switch (head) {
    case 'label':
      return 'label_en';
    case 'help':
      return 'help_en';
    case 'default':
      return 'default_text';
    case 'result':
      return 'result_type';
    case 'fields':
      return 'lines';
    case 'name':
    case 'type':
    case 'max_length':
    case 'min':
    case 'max':
    case 'scale':
    case 'currency':
    case 'options':
    case 'target':
    case 'on_delete':
    case 'expression':
    case 'unique':
    case 'indexed':
    case 'required':
      return head;
    default:
      return null;
  }
}

/** A key that changes whenever the declaration does: a preview is of the draft only while
 *  the key is the same. */
export function draftKey(decl: DeclJson): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sorted)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sorted(x)]))
        : v;
  return JSON.stringify(sorted(decl));
}

/** A new type's declaration. */
export function newDecl(name: string, zh?: string, en?: string): DeclJson {
  return { name: name.trim(), label: labelFrom(zh, en), fields: [] };
}

/** Whether applying the plan needs the destructive confirmation. */
export function needsConfirmation(plan: Plan | null): boolean {
  return !!plan && (plan.destructive || plan.steps.some((s) => s.destructive) || plan.changes.some((c) => c.includes('[destructive]')));
}

/** Moves item `from` to `to` (a field's order in the form). */
export function moved<T>(list: T[], from: number, to: number): T[] {
  if (to < 0 || to >= list.length || from === to) return list;
  const next = [...list];
  const [item] = next.splice(from, 1);
  next.splice(to, 0, item);
  return next;
}
