import { describe, expect, it } from 'vitest';
import { descendantsOf, flatten, treeData, type UnitNode } from './orgTree';

const unit = (id: string, children: UnitNode[] = [], archived = false): UnitNode => ({
  id,
  name: id,
  archived,
  member_count: 0,
  created_at: '',
  updated_at: '',
  children,
});

const tree = [unit('hq', [unit('sales', [unit('east'), unit('west', [], true)]), unit('finance')])];

describe('the org tree', () => {
  it('flattens in tree order', () => {
    expect(flatten(tree).map((u) => u.id)).toEqual(['hq', 'sales', 'east', 'west', 'finance']);
  });

  it('knows a unit and everything below it', () => {
    expect([...descendantsOf(tree, 'sales')].sort()).toEqual(['east', 'sales', 'west']);
    expect([...descendantsOf(tree, 'finance')]).toEqual(['finance']);
  });

  it('leaves out a unit with its subtree, and archived units when asked', () => {
    const ids = (items: ReturnType<typeof treeData>): string[] => items.flatMap((i) => [i.value, ...ids(i.children)]);
    expect(ids(treeData(tree, descendantsOf(tree, 'sales'), false))).toEqual(['hq', 'finance']);
    expect(ids(treeData(tree, new Set(), true))).toEqual(['hq', 'sales', 'east', 'finance']);
  });
});
