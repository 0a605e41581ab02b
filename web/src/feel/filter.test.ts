import { describe, expect, it } from 'vitest';
import { adaptField } from '../meta/fields';
import type { ApiFieldDecl } from '../meta/fields';
import { buildFilter, clause, feelString, filterKindOf } from './filter';

const label = { en: 'x', zh: 'x' };
const field = (decl: Record<string, unknown>) => adaptField({ name: 'f', label, ...decl } as unknown as ApiFieldDecl);

describe('feelString', () => {
  it.each([
    ['plain', '"plain"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['back\\slash', '"back\\\\slash"'],
    ['two\nlines\ttab', '"two\\nlines\\ttab"'],
    ['bell\u0007', '"bell\\u0007"'],
    ['中文', '"中文"'],
  ])('%j → %s', (input, expected) => expect(feelString(input)).toBe(expected));

  it('cannot be escaped from', () => {
    expect(clause('name', 'text', { op: 'contains', text: '") or true or ("' })).toBe(
      'contains(name, "\\") or true or (\\"")',
    );
  });
});

describe('clause', () => {
  it.each([
    ['text contains', 'name', 'text', { op: 'contains', text: ' steel ' }, 'contains(name, "steel")'],
    ['empty text', 'name', 'text', { op: 'contains', text: '  ' }, null],
    ['number range', 'amount', 'number', { op: 'range', from: '10', to: '20.5' }, 'amount between 10 and 20.5'],
    ['number from', 'amount', 'number', { op: 'range', from: 10 }, 'amount >= 10'],
    ['number to', 'amount', 'number', { op: 'range', to: '-3' }, 'amount <= -3'],
    ['not a number', 'amount', 'number', { op: 'range', from: '1e9; drop' }, null],
    ['date range', 'due', 'date', { op: 'range', from: '2026-01-01', to: '2026-01-31' }, 'due between date("2026-01-01") and date("2026-01-31")'],
    ['instant', 'at', 'datetime', { op: 'range', from: '2026-01-01T08:00:00+08:00' }, 'at >= date and time("2026-01-01T00:00:00.000Z")'],
    ['one option', 'state', 'options', { op: 'in', values: ['draft'] }, 'state = "draft"'],
    ['options', 'state', 'options', { op: 'in', values: ['draft', 'done'] }, 'state in ("draft", "done")'],
    ['no option', 'state', 'options', { op: 'in', values: [] }, null],
    ['boolean', 'urgent', 'boolean', { op: 'is', value: false }, 'urgent = false'],
  ] as const)('%s', (_what, name, kind, value, expected) => {
    expect(clause(name, kind, value as never)).toBe(expected);
  });

  it('refuses names that are not field names', () => {
    expect(() => clause('a or b', 'text', { op: 'contains', text: 'x' })).toThrow();
  });
});

describe('buildFilter', () => {
  it('joins clauses with and, skipping empty ones', () => {
    expect(buildFilter([null, 'a = 1', undefined, 'contains(b, "x")'])).toBe('a = 1 and contains(b, "x")');
    expect(buildFilter(['a = 1'])).toBe('a = 1');
    expect(buildFilter([null])).toBeUndefined();
  });
});

describe('filterKindOf', () => {
  it.each([
    [{ type: 'text' }, 'text'],
    [{ type: 'email' }, 'text'],
    [{ type: 'money', currency: 'CNY' }, 'number'],
    [{ type: 'percent' }, 'number'],
    [{ type: 'date' }, 'date'],
    [{ type: 'datetime' }, 'datetime'],
    [{ type: 'select', options: [] }, 'options'],
    [{ type: 'boolean' }, 'boolean'],
    [{ type: 'lines', fields: [] }, null],
    [{ type: 'json' }, null],
    [{ type: 'computed', expression: 'a', result: { type: 'integer' } }, null],
    [{ type: 'computed', expression: 'a', result: { type: 'integer' }, stored: true, indexed: true }, 'number'],
  ])('%j → %s', (decl, expected) => expect(filterKindOf(field(decl))).toBe(expected));
});
