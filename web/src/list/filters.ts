// Which filter controls the list shows. Every field with a filter (and the state) can be
// filtered on, at any width: the first few are always there, any other is added from a
// "more filters" picker and stays while it is chosen or holds a value (a saved view's
// filter on any field therefore shows its control). Pure, unit-tested; ListPage renders it.
import { filterKindOf, type FilterKind, type FilterValue } from '../feel/filter';
import { labelOf, type FieldDef, type TypeDef } from '../meta/fields';

export interface FilterSpec {
  field: FieldDef | 'state';
  kind: FilterKind;
}

/** How many controls show before any is added: a row on a desktop, a short fold on a phone. */
export const INLINE_FILTERS = 6;

/** The control's key: the field's name, or `state`. */
export function filterName(spec: FilterSpec): string {
  return spec.field === 'state' ? 'state' : spec.field.name;
}

/** Every filter the type offers: the state first (when it has a lifecycle), then its fields in order. */
export function filterSpecs(def: TypeDef): FilterSpec[] {
  const out: FilterSpec[] = [];
  if (def.states.length) out.push({ field: 'state', kind: 'options' });
  for (const f of def.fields) {
    const kind = filterKindOf(f);
    if (kind) out.push({ field: f, kind });
  }
  return out;
}

/** The controls shown, in the type's order: the first `max`, those added, those holding a value. */
export function shownFilters(
  specs: FilterSpec[],
  added: string[],
  values: Record<string, FilterValue | undefined>,
  max = INLINE_FILTERS,
): FilterSpec[] {
  return specs.filter((s, i) => i < max || added.includes(filterName(s)) || values[filterName(s)] !== undefined);
}

/** The picker's choices: every filter not shown, by label. */
export function moreFilters(
  specs: FilterSpec[],
  shown: FilterSpec[],
  lang: string,
  stateLabel: string,
): { value: string; label: string }[] {
  const on = new Set(shown.map(filterName));
  return specs
    .filter((s) => !on.has(filterName(s)))
    .map((s) => ({ value: filterName(s), label: s.field === 'state' ? stateLabel : labelOf(s.field.label, lang) }));
}
