import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  FIELD_TYPES,
  type FieldJson,
  draftKey,
  fieldOfForm,
  formItemOf,
  formOfField,
  indexable,
  literalOf,
  moved,
  needsConfirmation,
  problemsOf,
} from './typeDraft';

const roundTrip = (field: FieldJson) => fieldOfForm(formOfField(field), field);

describe('field declarations ⇄ the field form', () => {
  it('round-trips every kind with its parameters unchanged', () => {
    const fields: FieldJson[] = [
      { name: 'code', label: { en: 'Code', zh: '编码' }, type: 'text', max_length: 40, required: true, unique: true, line_of: 'po' },
      { name: 'qty', label: { en: 'Qty', zh: '数量' }, type: 'integer', min: 0, max: 999, indexed: true, default: 1 },
      { name: 'price', label: { en: 'Price', zh: '单价' }, type: 'decimal', scale: 3, min: '0.000', default: '1.500' },
      { name: 'total', label: { en: 'Total', zh: '合计' }, type: 'money', currency: 'CNY' },
      { name: 'due', label: { en: 'Due', zh: '到期' }, type: 'date', default: { feel: 'today()' }, help: { en: 'When', zh: '何时' } },
      {
        name: 'tier',
        label: { en: 'Tier', zh: '等级' },
        type: 'select',
        options: [
          { value: 'a', label: { en: 'A', zh: '甲' }, color: 'green' },
          { value: 'b', label: { en: 'B', zh: '乙' } },
        ],
      },
      { name: 'vendor', label: { en: 'Vendor', zh: '供应商' }, type: 'reference', target: 'vendor', on_delete: 'set_null' },
      { name: 'files', label: { en: 'Files', zh: '文件' }, type: 'attachment', multiple: true },
      {
        name: 'lines',
        label: { en: 'Lines', zh: '明细' },
        type: 'lines',
        fields: [{ name: 'item', label: { en: 'Item', zh: '物料' }, type: 'text', max_length: 255 }],
      },
      { name: 'amount', label: { en: 'Amount', zh: '金额' }, type: 'computed', expression: 'qty * price', result: { type: 'decimal', scale: 2 }, stored: true, indexed: true },
      { name: 'meta', label: { en: 'Meta', zh: '元数据' }, type: 'json' },
    ];
    for (const f of fields) expect(roundTrip(f)).toEqual(f);
  });

  it('drops the old kind’s parameters when the kind changes, and a label missing a language takes the other', () => {
    const before: FieldJson = { name: 'x', label: { en: 'X', zh: '甲' }, type: 'decimal', scale: 2 };
    const form = { ...formOfField(before), type: 'text' as const, max_length: null, label_en: '' };
    expect(fieldOfForm(form, before)).toEqual({ name: 'x', label: { en: '甲', zh: '甲' }, type: 'text', max_length: 255 });
  });

  it('keeps unique and indexed only where the column can carry them', () => {
    expect(indexable({ type: 'long_text' })).toBe(false);
    expect(indexable({ type: 'attachment', multiple: true })).toBe(false);
    expect(indexable({ type: 'attachment', multiple: false })).toBe(true);
    expect(indexable({ type: 'computed', stored: false })).toBe(false);
    const f = fieldOfForm({ name: 'n', label_en: 'N', type: 'multi_select', unique: true, indexed: true, options: [{ value: 'a', label_en: 'A' }] });
    expect(f.unique).toBeUndefined();
    expect(f.indexed).toBeUndefined();
  });

  it('reads literal defaults as JSON where it reads as JSON, exact numbers as strings', () => {
    expect(literalOf('12.50', 'decimal')).toBe('12.50');
    expect(literalOf('12', 'integer')).toBe(12);
    expect(literalOf('true', 'boolean')).toBe(true);
    expect(literalOf('hello', 'text')).toBe('hello');
    expect(literalOf('123', 'text')).toBe('123');
    expect(literalOf('["a","b"]', 'multi_select')).toEqual(['a', 'b']);
  });

  it('offers every kind the server declares', () => {
    const doc = JSON.parse(readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8'));
    const kinds: string[] = doc.components.schemas.FieldKind.oneOf.map((o: { properties: { type: { enum: string[] } } }) => o.properties.type.enum[0]);
    expect([...FIELD_TYPES].sort()).toEqual(kinds.sort());
  });
});

describe('problems of a refused declaration', () => {
  it('puts every problem at its field row and keeps the rest', () => {
    const p = problemsOf({
      title: 'Unprocessable',
      errors: [
        { pointer: '/fields/1/name', reason: 'bad name' },
        { pointer: '/fields/1/scale', reason: 'too many places' },
        { pointer: '/fields/3/options/0/value', reason: 'duplicate' },
        { pointer: '/fields/4', reason: 'unreadable' },
        { pointer: '/title_field', reason: 'unknown field' },
      ],
    });
    expect(p.rows.get(1)).toEqual([
      { path: 'name', reason: 'bad name' },
      { path: 'scale', reason: 'too many places' },
    ]);
    expect(p.rows.get(3)).toEqual([{ path: 'options/0/value', reason: 'duplicate' }]);
    expect(p.rows.get(4)).toEqual([{ path: '', reason: 'unreadable' }]);
    expect(p.other).toEqual([{ pointer: '/title_field', reason: 'unknown field' }]);
  });

  it('keeps a problem without pointers as its detail', () => {
    expect(problemsOf({ title: 'Conflict', detail: 'belongs to the app `core`' }).other).toEqual([{ pointer: '', reason: 'belongs to the app `core`' }]);
  });

  it('maps a path inside a field to the dialog item showing it', () => {
    expect(formItemOf('options/2/value')).toBe('options');
    expect(formItemOf('label')).toBe('label_en');
    expect(formItemOf('scale')).toBe('scale');
    expect(formItemOf('')).toBeNull();
  });
});

describe('preview and apply', () => {
  it('a draft key ignores key order but not values', () => {
    const a = { name: 't', fields: [{ name: 'a', type: 'text', label: { en: 'A', zh: 'A' } }] };
    const b = { fields: [{ label: { zh: 'A', en: 'A' }, type: 'text', name: 'a' }], name: 't' };
    expect(draftKey(a)).toBe(draftKey(b));
    expect(draftKey(a)).not.toBe(draftKey({ ...a, name: 'u' }));
  });

  it('asks for the confirmation when anything in the plan is destructive', () => {
    const plan = { type_name: 't', action: 'alter', changes: ['field a: added'], steps: [], destructive: false, applied: false };
    expect(needsConfirmation(plan)).toBe(false);
    expect(needsConfirmation({ ...plan, changes: ['field b: removed [destructive]'] })).toBe(true);
    expect(needsConfirmation({ ...plan, steps: [{ description: 'rename', sql: '', destructive: true }] })).toBe(true);
    expect(needsConfirmation(null)).toBe(false);
  });

  it('moves a field within bounds only', () => {
    expect(moved(['a', 'b', 'c'], 0, 1)).toEqual(['b', 'a', 'c']);
    expect(moved(['a', 'b'], 0, -1)).toEqual(['a', 'b']);
  });
});
