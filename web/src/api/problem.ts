import type { Problem, Schemas } from './client';

export type FieldError = Schemas['FieldError'];

/**
 * Field errors of a problem, by the form's name path: `/amount` → `['amount']`,
 * `/lines/0/qty` → `['lines', 0, 'qty']`, `/amount/amount` (money's part) → `['amount']`.
 * `prefix` is dropped first (transition inputs live under a form of their own).
 */
export function fieldErrors(
  problem: Problem,
  known: (name: string) => boolean,
  message: (e: FieldError) => string = (e) => e.reason,
): {
  fields: { name: (string | number)[]; errors: string[] }[];
  other: string[];
} {
  const byPath = new Map<string, { name: (string | number)[]; errors: string[] }>();
  const other: string[] = [];
  for (const e of problem.errors ?? []) {
    const tokens = e.pointer
      .split('/')
      .slice(1)
      .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
    if (tokens.length === 0 || !known(tokens[0])) {
      other.push(e.pointer ? `${e.pointer}: ${message(e)}` : message(e));
      continue;
    }
    // Lines address a line's field; deeper parts (money's amount) belong to the field.
    const name: (string | number)[] =
      tokens.length >= 3 && /^\d+$/.test(tokens[1]) ? [tokens[0], Number(tokens[1]), tokens[2]] : [tokens[0]];
    const key = JSON.stringify(name);
    const entry = byPath.get(key) ?? { name, errors: [] };
    entry.errors.push(message(e));
    byPath.set(key, entry);
  }
  return { fields: [...byPath.values()], other };
}
