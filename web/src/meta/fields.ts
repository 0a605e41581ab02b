// The one adapter from server metadata (object-type declarations, as `GET /api/v1/types`
// returns them) to the UI's field definitions. Pages and field components read only
// `FieldDef`/`TypeDef`, never the declaration JSON, so a change of the declaration
// format is met here (and, through the generated API types, caught by the compiler).
import type { components } from '../api/schema';

export type ApiTypeInfo = components['schemas']['TypeInfo'];
export type ApiFieldDecl = components['schemas']['FieldDecl'];
export type Label = components['schemas']['Label'];

/** Every field kind the kernel has (`weft_model::schema::FieldKind`). */
export const FIELD_KINDS = [
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
] as const;
export type FieldKind = (typeof FIELD_KINDS)[number];

// The compiler holds this list to the server's: a kind added to (or removed from)
// `FieldKind` in weft-model changes `web/openapi.json`, and then this line fails `tsc`.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const FIELD_KINDS_MATCH_SERVER: Same<FieldKind, components['schemas']['FieldKind']['type']> = true;

/** What a computed field produces: the kinds it is displayed as. */
export type ScalarKind = Extract<
  FieldKind,
  'text' | 'integer' | 'decimal' | 'money' | 'percent' | 'boolean' | 'date' | 'datetime' | 'duration'
>;

export interface OptionDef {
  value: string;
  label: Label;
  color?: string;
}

export interface FieldDef {
  name: string;
  label: Label;
  help?: Label;
  kind: FieldKind;
  required: boolean;
  /** Computed fields; the form shows them but never sends them. */
  readOnly: boolean;
  /** Indexed (or unique) fields can be sorted on. */
  sortable: boolean;
  maxLength?: number;
  min?: number | string;
  max?: number | string;
  scale?: number;
  /** Money: the fixed currency, when the declaration fixes one. */
  currency?: string;
  options?: OptionDef[];
  /** Reference: the target type; party fields target `party`. */
  target?: string;
  multiple?: boolean;
  /** Lines: the line's fields. */
  lines?: FieldDef[];
  /** Text naming a line of the record that another field references (`line_of`): the
   * field of the record (for a line's field, of its parent) and that field's target type. */
  lineOf?: { field: string; target?: string };
  /** Computed: the kind of the result, and how it is shown. */
  result?: ScalarKind;
}

export interface TransitionDef {
  name: string;
  label: Label;
  from: string[];
  to: string;
  inputs: FieldDef[];
  allowed: boolean;
}

export interface StateDef {
  name: string;
  label: Label;
  editable?: string[];
  final: boolean;
}

export interface TypeDef {
  name: string;
  app: string;
  label: Label;
  pluralLabel: Label;
  fields: FieldDef[];
  titleField?: string;
  states: StateDef[];
  initialState?: string;
  transitions: TransitionDef[];
  permissions: { read: boolean; create: boolean; update: boolean; delete: boolean; export: boolean };
}

const PERCENT_SCALE = 4;

// The declaration's field: common keys plus the kind's `type` tag and parameters.
type LooseDecl = ApiFieldDecl & Record<string, unknown>;

export function adaptField(raw: ApiFieldDecl): FieldDef {
  const decl = raw as LooseDecl;
  const kind = decl.type as FieldKind;
  const base: FieldDef = {
    name: decl.name,
    label: decl.label,
    help: decl.help ?? undefined,
    kind,
    required: !!decl.required,
    readOnly: kind === 'computed',
    sortable: !!decl.indexed || !!decl.unique,
  };
  switch (kind) {
    case 'text': {
      const lineOf = decl.line_of as string | undefined;
      return { ...base, maxLength: (decl.max_length as number | undefined) ?? 255, ...(lineOf ? { lineOf: { field: lineOf } } : {}) };
    }
    case 'integer':
      return { ...base, min: decl.min as number | undefined, max: decl.max as number | undefined, scale: 0 };
    case 'decimal':
      return { ...base, scale: decl.scale as number, min: decl.min as string | undefined, max: decl.max as string | undefined };
    case 'money':
      return { ...base, currency: (decl.currency as string | undefined) ?? undefined, scale: decl.scale as number | undefined };
    case 'percent':
      return { ...base, scale: PERCENT_SCALE };
    case 'select':
    case 'multi_select':
      return { ...base, options: (decl.options as OptionDef[]) ?? [] };
    case 'reference':
      return { ...base, target: decl.target as string };
    case 'party':
      return { ...base, target: 'party' };
    case 'lines':
      return { ...base, lines: ((decl.fields as ApiFieldDecl[]) ?? []).map(adaptField) };
    case 'attachment':
      return { ...base, multiple: !!decl.multiple };
    case 'computed': {
      const result = decl.result as { type: ScalarKind; scale?: number; currency?: string };
      return { ...base, sortable: base.sortable && !!decl.stored, result: result.type, scale: result.scale, currency: result.currency };
    }
    default:
      return base;
  }
}

/** Resolves each `line_of` to the type its reference field targets. */
function withLineTargets(fields: FieldDef[]): FieldDef[] {
  const target = (name: string) => fields.find((f) => f.name === name)?.target;
  const resolve = (f: FieldDef): FieldDef => (f.lineOf ? { ...f, lineOf: { ...f.lineOf, target: target(f.lineOf.field) } } : f);
  return fields.map((f) => (f.lines ? { ...resolve(f), lines: f.lines.map(resolve) } : resolve(f)));
}

export function adaptType(info: ApiTypeInfo): TypeDef {
  const d = info.declaration;
  const lifecycle = d.lifecycle ?? undefined;
  const allowed = new Set(info.permissions.transitions);
  return {
    name: info.name,
    app: info.app,
    label: d.label,
    pluralLabel: d.plural_label ?? d.label,
    fields: withLineTargets((d.fields ?? []).map(adaptField)),
    titleField: d.title_field ?? undefined,
    states: (lifecycle?.states ?? []).map((s) => ({
      name: s.name,
      label: s.label,
      editable: s.editable ?? undefined,
      final: !!s.final,
    })),
    initialState: lifecycle?.initial,
    transitions: (lifecycle?.transitions ?? []).map((t) => ({
      name: t.name,
      label: t.label,
      from: t.from,
      to: t.to,
      inputs: (t.inputs ?? []).map(adaptField),
      allowed: allowed.has(t.name),
    })),
    permissions: {
      read: info.permissions.read,
      create: info.permissions.create,
      update: info.permissions.update,
      delete: info.permissions.delete,
      export: info.permissions.export,
    },
  };
}

/** The label in the UI's language. */
export function labelOf(label: Label | undefined, lang: string): string {
  if (!label) return '';
  const text = lang === 'en' ? label.en : label.zh;
  return text || label.en || label.zh;
}

/** The kind a field is displayed as: a computed field as its result. */
export function displayKind(field: FieldDef): Exclude<FieldKind, 'computed'> {
  return field.kind === 'computed' ? (field.result ?? 'text') : field.kind;
}
