import { describe, expect, it } from 'vitest';
import { adaptType, type ApiTypeInfo } from './fields';

const L = (en: string, zh: string) => ({ en, zh });

describe('adaptType', () => {
  it('resolves a line field\'s `line_of` to the type its reference field targets', () => {
    const info = {
      name: 'shipping_notice',
      app: 'procurement',
      revision: 1,
      declaration: {
        name: 'shipping_notice',
        label: L('Shipping notice', '发货通知'),
        fields: [
          { name: 'purchase_order', label: L('Order', '订单'), type: 'reference', target: 'purchase_order' },
          {
            name: 'lines',
            label: L('Lines', '明细'),
            type: 'lines',
            fields: [
              { name: 'po_line', label: L('PO line', '订单行'), type: 'text', max_length: 36, line_of: 'purchase_order' },
              { name: 'qty', label: L('Qty', '数量'), type: 'decimal', scale: 3 },
            ],
          },
        ],
      },
      permissions: { read: true, create: true, update: true, delete: false, export: false, transitions: [] },
    } as unknown as ApiTypeInfo;
    const lines = adaptType(info).fields.find((f) => f.name === 'lines')!.lines!;
    expect(lines[0].lineOf).toEqual({ field: 'purchase_order', target: 'purchase_order' });
    expect(lines[1].lineOf).toBeUndefined();
  });
});
