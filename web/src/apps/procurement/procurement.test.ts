import { describe, expect, it } from 'vitest';
import type { Schemas } from '../../api/client';
import type { FieldDef, TypeDef } from '../../meta/fields';
import { relationsTo } from '../../pages/RelatedRecords';
import { requisitionLineOptions } from './OrderFromRequisition';
import { chartOptions } from './Scorecard';

const L = (en: string) => ({ en, zh: en });
const field = (name: string, kind: FieldDef['kind'], target?: string): FieldDef => ({
  name,
  label: L(name),
  kind,
  target,
  required: false,
  readOnly: false,
  sortable: false,
});
const type = (name: string, fields: FieldDef[], read = true): TypeDef => ({
  name,
  app: 'procurement',
  label: L(name),
  pluralLabel: L(name),
  fields,
  states: [],
  transitions: [],
  permissions: { read, create: false, update: false, delete: false, export: false },
});

describe('relationsTo', () => {
  const types = [
    type('purchase_order', [field('supplier', 'party', 'party'), field('requisition', 'reference', 'purchase_requisition')]),
    type('payable', [field('supplier', 'party', 'party'), field('purchase_order', 'reference', 'purchase_order')]),
    type('secret', [field('supplier', 'party', 'party')], false),
  ];

  it('finds every readable type pointing at the target, party fields for parties', () => {
    const toParty = relationsTo('party', types).map((r) => `${r.type.name}.${r.field.name}`);
    expect(toParty).toEqual(['purchase_order.supplier', 'payable.supplier']);
    expect(relationsTo('purchase_order', types).map((r) => r.type.name)).toEqual(['payable']);
    expect(relationsTo('item', types)).toEqual([]);
  });
});

describe('requisitionLineOptions', () => {
  it('labels lines by position, description and quantity', () => {
    const record = { id: 'r', version: 1, lines: [{ description: 'M8 bolt', qty: '40.000' }, { description: 'Housing', qty: '5.500' }] };
    expect(requisitionLineOptions(record)).toEqual([
      { value: 0, label: '#1 M8 bolt × 40' },
      { value: 1, label: '#2 Housing × 5.5' },
    ]);
  });
});

describe('chartOptions', () => {
  const view = {
    supplier: 's',
    profile: 'p',
    display_name: 'Suzhou Precision',
    shared: false,
    alert_below: '70',
    good_from: '85',
    weights: { on_time: 40, quality: 35, price: 15, response: 10 },
    scorecard: {
      since: '2025-12-01',
      until: '2026-12-01',
      score: '73.7',
      band: 'watch',
      on_time_rate: '50.0',
      quality_rate: '90.0',
      qc_pass_rate: null,
      acceptance_rate: '96.0',
      basis: {} as Schemas['Basis'],
    },
  } as Schemas['ScorecardView'];

  it('bands the gauge at the workspace thresholds and colours each rate by them', () => {
    const { gauge, bars, rates } = chartOptions(view, (k) => k);
    expect(gauge.series[0].axisLine.lineStyle.color).toEqual([[0.7, '#ff4d4f'], [0.85, '#faad14'], [1, '#52c41a']]);
    expect(gauge.series[0].data[0].value).toBe(73.7);
    // A rate with no evidence (QC) is left out, not drawn as zero.
    expect(rates).toBe(3);
    expect(bars.yAxis.data).toEqual(['on_time_rate', 'quality_rate', 'acceptance_rate']);
    expect(bars.series[0].data.map((d) => d.itemStyle.color)).toEqual(['#ff4d4f', '#52c41a', '#52c41a']);
  });
});
