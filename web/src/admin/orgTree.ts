// The org tree as the API gives it (`GET /org/units`: nested nodes) for antd's Tree and
// TreeSelect: flattened, the units below one unit, and tree data with some units left
// out (a unit cannot move under itself or a unit below it; archived units take no one).
import type { ReactNode } from 'react';
import type { Schemas } from '../api/client';

export type UnitNode = Schemas['UnitView'] & { children: UnitNode[] };

export function flatten(nodes: UnitNode[]): UnitNode[] {
  return nodes.flatMap((n) => [n, ...flatten(n.children ?? [])]);
}

/** `id` and every unit below it. */
export function descendantsOf(nodes: UnitNode[], id: string): Set<string> {
  const out = new Set<string>();
  const walk = (list: UnitNode[], inside: boolean) => {
    for (const n of list) {
      const here = inside || n.id === id;
      if (here) out.add(n.id);
      walk(n.children ?? [], here);
    }
  };
  walk(nodes, false);
  return out;
}

export interface UnitTreeItem {
  key: string;
  value: string;
  title: ReactNode;
  disabled?: boolean;
  children: UnitTreeItem[];
}

/** Tree data without the `excluded` units (and what is below them); with `activeOnly`,
 *  archived units are left out too. */
export function treeData(
  nodes: UnitNode[],
  excluded: Set<string>,
  activeOnly: boolean,
  title: (u: UnitNode) => ReactNode = (u) => u.name,
): UnitTreeItem[] {
  return nodes
    .filter((n) => !excluded.has(n.id) && !(activeOnly && n.archived))
    .map((n) => ({ key: n.id, value: n.id, title: title(n), children: treeData(n.children ?? [], excluded, activeOnly, title) }));
}
