import { describe, expect, it } from 'vitest';
import type { TypeDef } from '../meta/fields';
import { cardFields, sortOptions } from './cards';

const label = (en: string, zh = en) => ({ en, zh });
const def = {
  name: 'test_order',
  app: 'test',
  label: label('Order'),
  pluralLabel: label('Orders'),
  titleField: 'title',
  fields: [
    { name: 'title', kind: 'text', label: label('Title'), sortable: true },
    { name: 'notes', kind: 'long_text', label: label('Notes') },
    { name: 'amount', kind: 'money', label: label('Amount', '金额'), sortable: true },
    { name: 'items', kind: 'lines', label: label('Items') },
    { name: 'due', kind: 'date', label: label('Due'), sortable: false },
    { name: 'priority', kind: 'select', label: label('Priority'), sortable: true },
    { name: 'files', kind: 'attachment', label: label('Files') },
  ],
  states: [{ name: 'draft', label: label('Draft'), final: false }],
  transitions: [],
  permissions: { read: true, create: true, update: true, delete: true, export: true },
} as unknown as TypeDef;

const names = (fields: { name: string }[]) => fields.map((f) => f.name);

describe('cards on a phone', () => {
  it('show the chosen columns in their order, without the title or large fields', () => {
    expect(names(cardFields(def, ['priority', 'title', 'notes', 'amount']))).toEqual(['priority', 'amount']);
    expect(names(cardFields(def, ['due', 'priority', 'amount', 'files']))).toEqual(['due', 'priority', 'amount']);
  });

  it('fall back to the first fields that fit, at most three', () => {
    expect(names(cardFields(def, []))).toEqual(['amount', 'due', 'priority']);
    expect(names(cardFields(def, ['gone']))).toEqual(['amount', 'due', 'priority']);
    expect(names(cardFields(def, [], 2))).toEqual(['amount', 'due']);
  });

  it('offer every sortable order both ways, newest first by default', () => {
    const t = (k: string) => ({ 'list.updated': 'Updated', 'list.state': 'State', 'list.sortNewest': 'Newest' })[k] ?? k;
    const options = sortOptions(def, 'zh', t);
    expect(options[0]).toEqual({ value: '-created_at', label: 'Newest' });
    expect(options.map((o) => o.value)).toEqual([
      '-created_at', 'updated_at', '-updated_at', 'state', '-state', 'title', '-title', 'amount', '-amount', 'priority', '-priority',
    ]);
    expect(options.find((o) => o.value === '-amount')?.label).toBe('金额 ↓');
    const plain = { ...def, states: [] } as TypeDef;
    expect(sortOptions(plain, 'en', t).some((o) => o.value === 'state')).toBe(false);
  });
});
