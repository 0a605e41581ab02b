// What a phone shows of a list: each record as a card (title, number, state, a few fields)
// instead of a table row, and the list's order as one picker instead of column headers.
// Pure functions over the metadata adapter's TypeDef, unit-tested; RecordCards renders them.
import { labelOf, type FieldDef, type TypeDef } from '../meta/fields';
import { DEFAULT_SORT } from './setup';

/** How many fields a card shows under its title. */
export const CARD_FIELDS = 3;
/** Kinds too large for a card's line. */
const WIDE = new Set(['long_text', 'rich_text', 'lines', 'json', 'attachment']);

/** The fields a card shows: the list's chosen columns in their order (the same choice the
 * table makes), without the title and anything too large for one line; the type's first
 * such fields when no column is chosen. */
export function cardFields(def: TypeDef, columns: string[], max = CARD_FIELDS): FieldDef[] {
  const fits = (f: FieldDef) => f.name !== def.titleField && !WIDE.has(f.kind);
  const chosen = columns.map((c) => def.fields.find((f) => f.name === c)).filter((f): f is FieldDef => !!f && fits(f));
  return (chosen.length ? chosen : def.fields.filter(fits)).slice(0, max);
}

export interface SortOption {
  value: string;
  label: string;
}

/** The orders a phone's picker offers: newest first (the default), last updated, the state,
 * and every field the server can sort on, each both ways. */
export function sortOptions(def: TypeDef, lang: string, t: (key: string) => string): SortOption[] {
  const keys: { key: string; label: string }[] = [{ key: 'updated_at', label: t('list.updated') }];
  if (def.states.length) keys.push({ key: 'state', label: t('list.state') });
  for (const f of def.fields) if (f.sortable) keys.push({ key: f.name, label: labelOf(f.label, lang) });
  const out: SortOption[] = [{ value: DEFAULT_SORT, label: t('list.sortNewest') }];
  for (const k of keys) {
    out.push({ value: k.key, label: `${k.label} ↑` });
    out.push({ value: `-${k.key}`, label: `${k.label} ↓` });
  }
  return out;
}
