import { describe, expect, it } from 'vitest';
import type { TypeDef } from '../meta/fields';
import { exportUrl, fileNameOf, isMonth, sameSetup, setupOf, specOf, viewParams, type ListSetup } from './setup';

const label = { en: 'x', zh: 'x' };
const def = {
  name: 'test_order',
  app: 'test',
  label,
  pluralLabel: label,
  titleField: 'title',
  fields: [
    { name: 'title', kind: 'text', label },
    { name: 'amount', kind: 'decimal', label },
    { name: 'due', kind: 'date', label },
    { name: 'meeting', kind: 'datetime', label },
  ],
  states: [{ name: 'draft', label, final: false }],
  transitions: [],
  permissions: { read: true, create: true, update: true, delete: true, export: true },
} as unknown as TypeDef;

const setup: ListSetup = {
  view: 'board',
  columns: ['amount', 'title'],
  filters: { amount: { op: 'range', from: '10', to: null }, title: undefined },
  applied: 'amount >= 10',
  sort: '-amount',
};

describe('list setup', () => {
  it('round-trips through a saved view', () => {
    const spec = specOf(setup);
    expect(spec).toEqual({
      kind: 'board',
      columns: ['amount', 'title'],
      sort: '-amount',
      filter: 'amount >= 10',
      filters: { amount: { op: 'range', from: '10', to: null } },
    });
    const back = setupOf(spec, def, ['title', 'amount', 'due'], ['title']);
    expect(sameSetup(back, setup)).toBe(true);
  });

  it('a calendar keeps its date field and month, and restores them into the address', () => {
    const calendar: ListSetup = { view: 'calendar', columns: ['title'], filters: {}, sort: '-created_at', calendar: { field: 'meeting', month: '2026-03' } };
    const spec = specOf(calendar);
    expect(spec).toMatchObject({ kind: 'calendar', date_field: 'meeting', month: '2026-03' });
    const back = setupOf(spec, def, ['title'], ['title']);
    expect(back.calendar).toEqual({ field: 'meeting', month: '2026-03' });
    expect(sameSetup(back, calendar)).toBe(true);
    expect(viewParams(back)).toEqual({ view: 'calendar', date: 'meeting', month: '2026-03' });
    // Another month is another setup; a table stores neither.
    expect(sameSetup(back, { ...calendar, calendar: { field: 'meeting', month: '2026-04' } })).toBe(false);
    expect(specOf({ ...calendar, view: 'table' })).not.toHaveProperty('month');
    // A field that is no longer a date falls back to the first; a bad month is dropped.
    const stale = setupOf({ kind: 'calendar', date_field: 'title', month: '2026-13' }, def, ['title'], ['title']);
    expect(stale.calendar).toEqual({ field: undefined, month: undefined });
    expect(viewParams(stale)).toEqual({ view: 'calendar' });
    expect(viewParams({ view: 'table' })).toEqual({});
    expect([isMonth('2026-01'), isMonth('2026-12'), isMonth('2026-00'), isMonth('26-01'), isMonth(null)]).toEqual([true, true, false, false, false]);
  });

  it('the table is the API\'s list kind; the default sort is not stored', () => {
    const spec = specOf({ view: 'table', columns: [], filters: {}, sort: '-created_at' });
    expect(spec.kind).toBe('list');
    expect(spec.sort).toBeNull();
    expect(spec.filter).toBeNull();
  });

  it('falls back for what the type no longer has, and drops malformed controls', () => {
    const noStates = { ...def, states: [], fields: def.fields.filter((f) => f.kind !== 'date' && f.kind !== 'datetime') } as TypeDef;
    const back = setupOf(
      { kind: 'calendar', columns: ['gone'], filters: { amount: { op: 'between' }, title: { op: 'contains', text: 'a' } } },
      noStates,
      ['title', 'amount'],
      ['title'],
    );
    expect(back).toEqual({ view: 'table', columns: ['title'], filters: { title: { op: 'contains', text: 'a' } }, applied: undefined, sort: '-created_at' });
    expect(setupOf({ kind: 'board' }, noStates, [], []).view).toBe('table');
  });

  it('exports the visible columns with the filter, order and language', () => {
    const url = new URL(exportUrl(def, setup, 'xlsx', 'en'), 'http://x');
    expect(url.pathname).toBe('/api/v1/records/test_order/export');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      format: 'xlsx',
      columns: 'title,amount,state,updated_at',
      filter: 'amount >= 10',
      sort: '-amount',
      lang: 'en',
    });
    const plain = new URL(exportUrl({ ...def, titleField: undefined, states: [] } as TypeDef, { columns: ['amount'], sort: '-created_at' }, 'csv', 'zh-CN'), 'http://x');
    expect(Object.fromEntries(plain.searchParams)).toEqual({ format: 'csv', columns: 'number,amount,updated_at', lang: 'zh' });
  });

  it('takes the file name from Content-Disposition', () => {
    expect(fileNameOf('attachment; filename="test_order.xlsx"', 'x.csv')).toBe('test_order.xlsx');
    expect(fileNameOf(null, 'x.csv')).toBe('x.csv');
  });
});
