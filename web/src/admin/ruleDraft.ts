// Automation rules between the admin API's JSON (`RuleDef`) and the editor's form: maps
// become lists of rows so that each entry has its own inputs (and its own place for an
// error), and the server's problem pointers (`/actions/0/set/priority`) are turned into
// those rows' form paths. Pure, unit-tested; RulesAdmin renders it.
import type { Problem, Schemas } from '../api/client';
import type { FieldError } from '../api/problem';
import type { TypeDef } from '../meta/fields';

export type RuleDef = Schemas['RuleDef'];
export type RuleView = Schemas['RuleView'];
export type RuleAction = Schemas['RuleAction'];

export const ACTION_KINDS = ['set', 'decide', 'transition', 'alert'] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];
export const BASE_EVENTS = ['created', 'updated', 'transitioned'] as const;
/** The recipients every record has, besides its principal fields and `role:<name>`. */
export const BASE_RECIPIENTS = ['owner', 'created_by', 'updated_by'] as const;
export const RULE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

export interface ActionForm {
  kind: ActionKind;
  /** set: field ← FEEL. */
  set?: { field?: string; value?: string }[];
  /** decide. */
  decision?: string;
  inputs?: { name?: string; value?: string }[];
  outputs?: { field?: string; output?: string }[];
  /** transition. */
  transition?: string;
  /** alert. */
  to?: string[];
  summary_zh?: string;
  summary_en?: string;
}

export interface RuleForm {
  name: string;
  label_zh?: string;
  label_en?: string;
  type?: string;
  on: string[];
  condition?: string;
  enabled: boolean;
  actions: ActionForm[];
}

export type FormPath = (string | number)[];

const rows = <K extends string, V extends string>(map: Record<string, string> | undefined, k: K, v: V) =>
  Object.entries(map ?? {}).map(([key, value]) => ({ [k]: key, [v]: value }) as Record<K | V, string>);

function actionForm(action: RuleAction): ActionForm {
  if ('set' in action) return { kind: 'set', set: rows(action.set, 'field', 'value') };
  if ('decide' in action)
    return {
      kind: 'decide',
      decision: action.decide.decision,
      inputs: rows(action.decide.inputs, 'name', 'value'),
      outputs: rows(action.decide.set, 'field', 'output'),
    };
  if ('transition' in action) return { kind: 'transition', transition: action.transition };
  return { kind: 'alert', to: action.alert.to, summary_zh: action.alert.summary.zh, summary_en: action.alert.summary.en };
}

/** A new action of `kind`, with one empty row where it has rows. */
export function newAction(kind: ActionKind): ActionForm {
  switch (kind) {
    case 'set':
      return { kind, set: [{}] };
    case 'decide':
      return { kind, decision: '', inputs: [{}], outputs: [{}] };
    case 'transition':
      return { kind };
    case 'alert':
      return { kind, to: ['owner'], summary_zh: '', summary_en: '' };
  }
}

/** The editor's values for a saved rule, or for a new one on `type`. */
export function ruleFormOf(rule: RuleDef | undefined, type?: string): RuleForm {
  if (!rule) return { name: '', type, on: ['created'], condition: '', enabled: true, actions: [newAction('set')] };
  return {
    name: rule.name,
    label_zh: rule.label?.zh ?? '',
    label_en: rule.label?.en ?? '',
    type: rule.type,
    on: [...rule.on],
    condition: rule.condition ?? '',
    enabled: rule.enabled ?? true,
    actions: rule.actions.map(actionForm),
  };
}

const trimmed = (s: string | undefined) => (s ?? '').trim();

/** Rows to a map; rows without a key are left out (an empty row is not an entry). */
function mapOf<T>(list: T[] | undefined, key: (row: T) => string | undefined, value: (row: T) => string | undefined) {
  const out: Record<string, string> = {};
  for (const row of list ?? []) {
    const k = trimmed(key(row));
    if (k) out[k] = trimmed(value(row));
  }
  return out;
}

function actionOf(a: ActionForm): RuleAction {
  switch (a.kind) {
    case 'set':
      return { set: mapOf(a.set, (r) => r.field, (r) => r.value) };
    case 'decide':
      return {
        decide: {
          decision: trimmed(a.decision),
          inputs: mapOf(a.inputs, (r) => r.name, (r) => r.value),
          set: mapOf(a.outputs, (r) => r.field, (r) => r.output),
        },
      };
    case 'transition':
      return { transition: trimmed(a.transition) };
    case 'alert': {
      // A label has both languages; one written is used for both.
      const zh = trimmed(a.summary_zh);
      const en = trimmed(a.summary_en);
      return { alert: { to: (a.to ?? []).map(trimmed).filter(Boolean), summary: { zh: zh || en, en: en || zh } } };
    }
  }
}

/** The rule document the form describes. */
export function ruleOf(form: RuleForm): RuleDef {
  const zh = trimmed(form.label_zh);
  const en = trimmed(form.label_en);
  const condition = trimmed(form.condition);
  return {
    name: trimmed(form.name),
    ...(zh || en ? { label: { zh: zh || en, en: en || zh } } : {}),
    type: form.type ?? '',
    on: form.on ?? [],
    ...(condition ? { condition } : {}),
    actions: (form.actions ?? []).map(actionOf),
    enabled: form.enabled,
  };
}

/** The saved rule as a document to send again (the view's bookkeeping left out). */
export function defOf(view: RuleView): RuleDef {
  const { version: _v, updated_at: _u, ...def } = view;
  return def;
}

/** The label in the page's language, else the other one, else the name. */
export function ruleLabel(rule: Pick<RuleDef, 'name' | 'label'>, lang: string): string {
  const label = rule.label;
  if (!label) return rule.name;
  return (lang === 'en' ? label.en || label.zh : label.zh || label.en) || rule.name;
}

/** The events a rule on `def` may name: the three kinds, then each of its transitions. */
export function eventsOf(def: TypeDef | undefined): string[] {
  return [...BASE_EVENTS, ...(def?.transitions ?? []).map((x) => `transitioned:${x.name}`)];
}

/** Fields a rule may set: neither computed nor lines (the server refuses those). */
export function settableFields(def: TypeDef | undefined) {
  return (def?.fields ?? []).filter((f) => f.kind !== 'computed' && f.kind !== 'lines');
}

/** The people a record of `def` names: owner, creator, last editor and its person fields. */
function peopleOf(def: TypeDef | undefined): string[] {
  return [...BASE_RECIPIENTS, ...(def?.fields ?? []).filter((f) => f.kind === 'principal').map((f) => f.name)];
}

/**
 * Recipients an alert on `def` may name: the record's people, the people of the records
 * it refers to (`purchase_order.buyer`, when `types` knows the target), then everyone in
 * a role.
 */
export function recipientsOf(def: TypeDef | undefined, roles: string[], types: TypeDef[] = []): string[] {
  const through = (def?.fields ?? []).flatMap((f) => {
    const target = f.kind === 'reference' ? types.find((d) => d.name === f.target) : undefined;
    return target ? peopleOf(target).map((p) => `${f.name}.${p}`) : [];
  });
  return [...peopleOf(def), ...through, ...roles.map((r) => `role:${r}`)];
}

/** The form once its type is changed to `def`: events the type does not have are dropped. */
export function retype(form: RuleForm, def: TypeDef | undefined): RuleForm {
  const events = new Set(eventsOf(def));
  return { ...form, on: (form.on ?? []).filter((e) => events.has(e)) };
}

const unescape = (t: string) => t.replaceAll('~1', '/').replaceAll('~0', '~');

/** The form path a problem belongs to, given the form the rule was sent from; null when
 * it has no field of its own (it is then shown above the form). */
export function pathOf(error: Pick<FieldError, 'pointer' | 'code'>, form: RuleForm): FormPath | null {
  const t = error.pointer.split('/').slice(1).map(unescape);
  switch (t[0]) {
    case 'name':
    case 'type':
    case 'condition':
    case 'enabled':
      return t.length === 1 ? [t[0]] : null;
    case 'on':
      return ['on'];
    case 'label':
      return [t[1] === 'en' ? 'label_en' : 'label_zh'];
    case 'actions':
      break;
    default:
      return null;
  }
  if (t.length < 2 || !/^\d+$/.test(t[1])) return null;
  const i = Number(t[1]);
  const action = form.actions?.[i];
  if (!action) return null;
  const at = (...rest: FormPath): FormPath => ['actions', i, ...rest];
  const row = <T>(list: T[] | undefined, key: (r: T) => string | undefined, name: string | undefined) =>
    name === undefined ? -1 : (list ?? []).findIndex((r) => trimmed(key(r)) === name);
  const [kind, part, key] = t.slice(2);
  switch (kind) {
    case 'set': {
      const j = row(action.set, (r) => r.field, part);
      // An expression's problem is at its value; a field that cannot be set is at the field.
      const fieldItself = error.code === 'unknown_field' || error.code === 'not_editable';
      return j < 0 ? at('kind') : at('set', j, fieldItself ? 'field' : 'value');
    }
    case 'decide':
      if (part === 'decision') return at('decision');
      if (part === 'inputs') {
        const j = row(action.inputs, (r) => r.name, key);
        return j < 0 ? at('decision') : at('inputs', j, 'value');
      }
      if (part === 'set') {
        const j = row(action.outputs, (r) => r.field, key);
        return j < 0 ? at('decision') : at('outputs', j, 'field');
      }
      return at('decision');
    case 'transition':
      return at('transition');
    case 'alert':
      if (part === 'summary') return at(trimmed(action.summary_zh) || !trimmed(action.summary_en) ? 'summary_zh' : 'summary_en');
      return at('to');
    default:
      return at('kind');
  }
}

/** Each problem at its form path (several at one path joined), and the rest. */
export function problemsOf(
  problem: Problem,
  form: RuleForm,
  message: (e: FieldError) => string = (e) => e.reason,
): { fields: { name: FormPath; errors: string[] }[]; other: string[] } {
  const byPath = new Map<string, { name: FormPath; errors: string[] }>();
  const other: string[] = [];
  for (const e of problem.errors ?? []) {
    const name = pathOf(e, form);
    if (!name) {
      other.push(e.pointer ? `${e.pointer}: ${message(e)}` : message(e));
      continue;
    }
    const key = JSON.stringify(name);
    const entry = byPath.get(key) ?? { name, errors: [] };
    entry.errors.push(message(e));
    byPath.set(key, entry);
  }
  return { fields: [...byPath.values()], other };
}
