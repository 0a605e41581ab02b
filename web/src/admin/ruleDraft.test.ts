import { describe, expect, it } from 'vitest';
import type { Problem } from '../api/client';
import type { TypeDef } from '../meta/fields';
import { defOf, eventsOf, problemsOf, recipientsOf, retype, ruleFormOf, ruleLabel, ruleOf, settableFields, type RuleDef } from './ruleDraft';

const label = (en: string, zh = en) => ({ en, zh });
const def = {
  name: 'test_order',
  fields: [
    { name: 'title', kind: 'text', label: label('Title') },
    { name: 'priority', kind: 'select', label: label('Priority') },
    { name: 'handler', kind: 'principal', label: label('Handler') },
    { name: 'items', kind: 'lines', label: label('Items') },
    { name: 'total', kind: 'computed', label: label('Total') },
  ],
  transitions: [{ name: 'submit' }, { name: 'reject' }],
} as unknown as TypeDef;

const RULE: RuleDef = {
  name: 'route_big_orders',
  label: { en: 'Big orders', zh: '大额订单' },
  type: 'test_order',
  on: ['created', 'transitioned:submit'],
  condition: 'quantity > 5',
  actions: [
    { set: { priority: '"high"', title: 'title + "!"' } },
    { decide: { decision: 'po_approval/route', inputs: { amount: 'amount.amount' }, set: { handler: 'approver' } } },
    { transition: 'submit' },
    { alert: { to: ['owner', 'role:buyer'], summary: { en: 'Big order', zh: '大额订单' } } },
  ],
  enabled: false,
};

describe('rule drafts', () => {
  it('round-trip: the form of a rule describes the same rule', () => {
    const form = ruleFormOf(RULE);
    expect(form.actions[0]).toEqual({ kind: 'set', set: [{ field: 'priority', value: '"high"' }, { field: 'title', value: 'title + "!"' }] });
    expect(form.actions[1]).toMatchObject({ kind: 'decide', inputs: [{ name: 'amount', value: 'amount.amount' }], outputs: [{ field: 'handler', output: 'approver' }] });
    expect(ruleOf(form)).toEqual(RULE);
  });

  it('leaves out empty rows, a blank condition and a blank label; one language is used for both', () => {
    const form = ruleFormOf(undefined, 'test_order');
    form.name = ' r1 ';
    form.condition = '   ';
    form.actions = [
      { kind: 'set', set: [{ field: 'priority', value: ' "low" ' }, {}, { field: '', value: 'x' }] },
      { kind: 'alert', to: ['owner', ' '], summary_zh: '看一下', summary_en: '' },
    ];
    expect(ruleOf(form)).toEqual({
      name: 'r1',
      type: 'test_order',
      on: ['created'],
      actions: [{ set: { priority: '"low"' } }, { alert: { to: ['owner'], summary: { zh: '看一下', en: '看一下' } } }],
      enabled: true,
    });
    expect(ruleOf({ ...form, label_en: 'Only English' }).label).toEqual({ en: 'Only English', zh: 'Only English' });
  });

  it('the view without its bookkeeping is the document', () => {
    expect(defOf({ ...RULE, version: 3, updated_at: '2026-01-01T00:00:00Z' })).toEqual(RULE);
  });

  it('labels in the page language, else the other, else the name', () => {
    expect(ruleLabel(RULE, 'en')).toBe('Big orders');
    expect(ruleLabel(RULE, 'zh')).toBe('大额订单');
    expect(ruleLabel({ name: 'x', label: { en: 'Only', zh: '' } }, 'zh')).toBe('Only');
    expect(ruleLabel({ name: 'x' }, 'zh')).toBe('x');
  });

  it('offers the type’s events, settable fields and recipients', () => {
    expect(eventsOf(def)).toEqual(['created', 'updated', 'transitioned', 'transitioned:submit', 'transitioned:reject']);
    expect(eventsOf(undefined)).toEqual(['created', 'updated', 'transitioned']);
    expect(settableFields(def).map((f) => f.name)).toEqual(['title', 'priority', 'handler']);
    expect(recipientsOf(def, ['buyer'])).toEqual(['owner', 'created_by', 'updated_by', 'handler', 'role:buyer']);
    // The people of a referenced record, when its type is known.
    const order = { name: 'order', fields: [{ name: 'buyer', kind: 'principal', label: label('Buyer') }] };
    const inspection = {
      name: 'inspection',
      fields: [{ name: 'order', kind: 'reference', target: 'order', label: label('Order') }],
    } as unknown as TypeDef;
    expect(recipientsOf(inspection, [], [inspection, order as unknown as TypeDef])).toEqual([
      'owner',
      'created_by',
      'updated_by',
      'order.owner',
      'order.created_by',
      'order.updated_by',
      'order.buyer',
    ]);
    const other = { ...def, transitions: [{ name: 'approve' }] } as unknown as TypeDef;
    expect(retype(ruleFormOf(RULE), other).on).toEqual(['created']);
  });

  it('puts each server problem at its row', () => {
    const form = ruleFormOf(RULE);
    form.actions[0].set = [{ field: 'priorty', value: '"high"' }, { field: 'title', value: 'titel' }];
    const problem = {
      status: 422,
      errors: [
        { pointer: '/condition', code: 'invalid_format', reason: 'unknown name `quantiti`' },
        { pointer: '/on/1', code: 'unknown_option', reason: 'bad event' },
        { pointer: '/on/2', code: 'unknown_option', reason: 'worse event' },
        { pointer: '/actions/0/set/priorty', code: 'unknown_field', reason: 'no field `priorty`' },
        { pointer: '/actions/0/set/title', code: 'invalid_format', reason: 'unknown name `titel`' },
        { pointer: '/actions/1/decide/decision', code: 'unknown_reference', reason: 'no model' },
        { pointer: '/actions/1/decide/inputs/amount', code: 'invalid_format', reason: 'bad input' },
        { pointer: '/actions/1/decide/set/handler', code: 'unknown_field', reason: 'bad output field' },
        { pointer: '/actions/2/transition', code: 'unknown_option', reason: 'needs inputs' },
        { pointer: '/actions/3/alert/to/1', code: 'unknown_reference', reason: 'no role' },
        { pointer: '/actions/3/alert/summary', code: 'required', reason: 'say what' },
        { pointer: '/actions/9/set/x', code: 'unknown_field', reason: 'gone' },
        { pointer: '', code: 'invalid_format', reason: 'whole' },
      ],
    } as unknown as Problem;
    const { fields, other } = problemsOf(problem, form);
    expect(fields).toEqual([
      { name: ['condition'], errors: ['unknown name `quantiti`'] },
      { name: ['on'], errors: ['bad event', 'worse event'] },
      { name: ['actions', 0, 'set', 0, 'field'], errors: ['no field `priorty`'] },
      { name: ['actions', 0, 'set', 1, 'value'], errors: ['unknown name `titel`'] },
      { name: ['actions', 1, 'decision'], errors: ['no model'] },
      { name: ['actions', 1, 'inputs', 0, 'value'], errors: ['bad input'] },
      { name: ['actions', 1, 'outputs', 0, 'field'], errors: ['bad output field'] },
      { name: ['actions', 2, 'transition'], errors: ['needs inputs'] },
      { name: ['actions', 3, 'to'], errors: ['no role'] },
      { name: ['actions', 3, 'summary_zh'], errors: ['say what'] },
    ]);
    expect(other).toEqual(['/actions/9/set/x: gone', 'whole']);
  });

  it('an action without any entry is refused at its kind', () => {
    const form = ruleFormOf({ ...RULE, actions: [{ set: {} }] });
    const problem = { errors: [{ pointer: '/actions/0/set', code: 'required', reason: 'name at least one field' }] } as unknown as Problem;
    expect(problemsOf(problem, form).fields).toEqual([{ name: ['actions', 0, 'kind'], errors: ['name at least one field'] }]);
  });
});
