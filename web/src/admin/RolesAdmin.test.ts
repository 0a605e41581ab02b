import { describe, expect, it } from 'vitest';
import { roleLabel, roleOf } from './RolesAdmin';

describe('role documents', () => {
  it('labels in the page language, falling back to the other, then the name', () => {
    const role = { name: 'sales', labels: { 'zh-CN': '销售', en: 'Sales' } };
    expect(roleLabel(role, 'zh-CN')).toBe('销售');
    expect(roleLabel(role, 'en')).toBe('Sales');
    expect(roleLabel({ name: 'sales', labels: { en: 'Sales' } }, 'zh-CN')).toBe('Sales');
    expect(roleLabel({ name: 'sales' }, 'en')).toBe('sales');
  });

  it('builds the whole document, keeping field rules and other labels, trimming conditions', () => {
    const previous = {
      name: 'sales',
      labels: { 'zh-CN': '旧', fr: 'Ventes' },
      builtin: false,
      revision: 3,
      field_rules: [{ type: 'deal', field: 'margin', rule: 'hidden' as const }],
    };
    const doc = roleOf(
      {
        name: ' sales ',
        label_zh: '销售',
        label_en: '',
        for_guests: false,
        grants: [
          { type: 'deal', actions: ['read', 'transition:win'], scope: 'unit', condition: '  amount < 100 ' },
          { type: '*', actions: ['read'], scope: 'all', condition: '   ' },
        ],
      },
      previous as never,
    );
    expect(doc).toEqual({
      name: 'sales',
      labels: { 'zh-CN': '销售', fr: 'Ventes' },
      description: '',
      for_guests: false,
      grants: [
        { type: 'deal', actions: ['read', 'transition:win'], scope: 'unit', condition: 'amount < 100' },
        { type: '*', actions: ['read'], scope: 'all', condition: null },
      ],
      field_rules: previous.field_rules,
    });
  });
});
