import { describe, expect, it } from 'vitest';
import type { TypeDef } from '../meta/fields';
import { filterName, filterSpecs, INLINE_FILTERS, moreFilters, shownFilters } from './filters';

const label = (en: string, zh = en) => ({ en, zh });
const field = (name: string, kind: string, extra = {}) => ({ name, kind, label: label(name, `${name}字段`), sortable: true, ...extra });
const def = {
  name: 'test_order',
  states: [{ name: 'draft', label: label('Draft'), final: false }],
  fields: [
    field('title', 'text'),
    field('customer', 'party'),
    field('amount', 'money'),
    field('quantity', 'integer'),
    field('weight', 'decimal'),
    field('discount', 'percent'),
    field('urgent', 'boolean'),
    field('due', 'date'),
    field('items', 'lines'),
    field('priority', 'select', { options: [] }),
    field('total', 'computed', { sortable: false, result: 'decimal' }),
    field('stored_total', 'computed', { sortable: true, result: 'decimal' }),
  ],
} as unknown as TypeDef;

const names = (specs: { field: unknown }[]) => specs.map((s) => filterName(s as never));

describe('list filters', () => {
  it('every field with a filter, the state first; no cut-off', () => {
    expect(names(filterSpecs(def))).toEqual([
      'state', 'title', 'amount', 'quantity', 'weight', 'discount', 'urgent', 'due', 'priority', 'stored_total',
    ]);
    expect(names(filterSpecs({ ...def, states: [] } as TypeDef))[0]).toBe('title');
  });

  it('shows the first few, then those added or holding a value, in the type’s order', () => {
    const specs = filterSpecs(def);
    expect(INLINE_FILTERS).toBe(6);
    expect(names(shownFilters(specs, [], {}))).toEqual(['state', 'title', 'amount', 'quantity', 'weight', 'discount']);
    expect(names(shownFilters(specs, ['priority', 'urgent'], {}))).toEqual([
      'state', 'title', 'amount', 'quantity', 'weight', 'discount', 'urgent', 'priority',
    ]);
    // A saved view's filter on a later field brings its control.
    expect(names(shownFilters(specs, [], { due: { op: 'range', from: '2026-01-01' }, title: undefined }))).toContain('due');
    expect(names(shownFilters(specs, [], {}, 2))).toEqual(['state', 'title']);
  });

  it('offers the rest in the picker, labelled in the page’s language', () => {
    const specs = filterSpecs(def);
    const shown = shownFilters(specs, ['priority'], {});
    expect(moreFilters(specs, shown, 'zh', '状态')).toEqual([
      { value: 'urgent', label: 'urgent字段' },
      { value: 'due', label: 'due字段' },
      { value: 'stored_total', label: 'stored_total字段' },
    ]);
    expect(moreFilters(specs, shownFilters(specs, [], {}, 0), 'en', 'State')[0]).toEqual({ value: 'state', label: 'State' });
    expect(moreFilters(specs, specs, 'en', 'State')).toEqual([]);
  });
});
