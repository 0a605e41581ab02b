// The list page's setup (view kind, columns, filter controls, applied filter, sort) as one
// value: what a saved view stores and restores, and what an export asks the server for.
// Pure functions, unit-tested; the page holds the state, the server checks every part.
import type { FilterValue } from '../feel/filter';
import type { TypeDef } from '../meta/fields';
import type { Schemas } from '../api/client';

export type ViewSpec = Schemas['ViewSpec'];
export type SavedView = Schemas['SavedView'];
/** The page's own name for a view kind (`table` is the API's `list`). */
export type PageView = 'table' | 'board' | 'calendar';

export interface ListSetup {
  view: PageView;
  /** The chosen field columns, in order. */
  columns: string[];
  /** The filter controls' values by field (`state` for the lifecycle). */
  filters: Record<string, FilterValue | undefined>;
  /** The FEEL filter in force. */
  applied?: string;
  sort: string;
  /** The calendar's date field and month (`YYYY-MM`) when chosen; absent: the type's
   *  first date field, the month it is opened in. */
  calendar?: { field?: string; month?: string };
}

/** `YYYY-MM`, month 01–12. */
export function isMonth(text: string | null | undefined): text is string {
  return !!text && /^\d{4}-(0[1-9]|1[0-2])$/.test(text);
}

export const DEFAULT_SORT = '-created_at';

/** What a saved view stores of the page's setup. */
export function specOf(setup: ListSetup): ViewSpec {
  const filters: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(setup.filters)) if (value) filters[name] = value;
  const spec: ViewSpec = {
    kind: setup.view === 'table' ? 'list' : setup.view,
    columns: setup.columns,
    sort: setup.sort === DEFAULT_SORT ? null : setup.sort,
    filter: setup.applied ?? null,
    filters,
  };
  if (setup.view === 'calendar') {
    if (setup.calendar?.field) spec.date_field = setup.calendar.field;
    if (isMonth(setup.calendar?.month)) spec.month = setup.calendar.month;
  }
  return spec;
}

function isFilterValue(v: unknown): v is FilterValue {
  if (!v || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  switch (o.op) {
    case 'contains':
      return typeof o.text === 'string';
    case 'range':
      return true;
    case 'in':
      return Array.isArray(o.values) && o.values.every((x) => typeof x === 'string');
    case 'is':
      return typeof o.value === 'boolean';
    default:
      return false;
  }
}

/** A saved view's setup for this type as it is now: columns the type no longer lists,
 * and a kind it can no longer show, fall back to the defaults. */
export function setupOf(spec: ViewSpec, def: TypeDef, listable: string[], defaultColumns: string[]): ListSetup {
  const canBoard = def.states.length > 0;
  const canCalendar = def.fields.some((f) => f.kind === 'date' || f.kind === 'datetime');
  const view: PageView =
    spec.kind === 'board' && canBoard ? 'board' : spec.kind === 'calendar' && canCalendar ? 'calendar' : 'table';
  const columns = (spec.columns ?? []).filter((c) => listable.includes(c));
  const filters: Record<string, FilterValue | undefined> = {};
  for (const [name, value] of Object.entries(spec.filters ?? {})) if (isFilterValue(value)) filters[name] = value;
  const setup: ListSetup = {
    view,
    columns: columns.length ? columns : defaultColumns,
    filters,
    applied: spec.filter ?? undefined,
    sort: spec.sort || DEFAULT_SORT,
  };
  if (view === 'calendar') {
    // A date field the type no longer has falls back to the first one.
    const field = def.fields.find((f) => f.name === spec.date_field && (f.kind === 'date' || f.kind === 'datetime'));
    setup.calendar = { field: field?.name, month: isMonth(spec.month) ? spec.month : undefined };
  }
  return setup;
}

/** The address parameters that show `setup`'s view kind (and a calendar's field and month). */
export function viewParams(setup: Pick<ListSetup, 'view' | 'calendar'>): Record<string, string> {
  if (setup.view === 'table') return {};
  const out: Record<string, string> = { view: setup.view };
  if (setup.view === 'calendar') {
    if (setup.calendar?.field) out.date = setup.calendar.field;
    if (isMonth(setup.calendar?.month)) out.month = setup.calendar.month;
  }
  return out;
}

/** Are two setups the same (the picker marks a chosen view as changed when not)? */
export function sameSetup(a: ListSetup, b: ListSetup): boolean {
  return JSON.stringify(specOf(a)) === JSON.stringify(specOf(b));
}

/** The export of what the list shows: its columns (title, chosen fields, state, updated),
 * its filter and its order, headed in the page's language. */
export function exportUrl(
  def: TypeDef,
  setup: Pick<ListSetup, 'columns' | 'applied' | 'sort'>,
  format: 'csv' | 'xlsx',
  lang: string,
): string {
  const title = def.titleField ?? 'number';
  const columns = [title, ...setup.columns.filter((c) => c !== title)];
  if (def.states.length) columns.push('state');
  columns.push('updated_at');
  const q = new URLSearchParams();
  q.set('format', format);
  q.set('columns', columns.join(','));
  if (setup.applied) q.set('filter', setup.applied);
  if (setup.sort && setup.sort !== DEFAULT_SORT) q.set('sort', setup.sort);
  q.set('lang', lang.startsWith('en') ? 'en' : 'zh');
  return `/api/v1/records/${encodeURIComponent(def.name)}/export?${q.toString()}`;
}

/** The most rows each export format holds (the server's caps, `weft_workspace::export`):
 * the page says so before asking rather than after. */
export const EXPORT_LIMIT = { csv: 100_000, xlsx: 10_000 } as const;

/** The file name the server suggests, from `Content-Disposition`, else `fallback`. */
export function fileNameOf(disposition: string | null, fallback: string): string {
  const m = disposition ? /filename="([^"]+)"/.exec(disposition) : null;
  return m ? m[1] : fallback;
}
