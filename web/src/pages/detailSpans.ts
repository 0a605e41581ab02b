const WIDE = new Set(['long_text', 'rich_text', 'lines', 'json']);

/** Each field's span in the two-column details: a wide field takes a row of its own, and a
 * field left alone in its row before one takes the whole row (else the wide one would be
 * squeezed into the second column). */
export function detailSpans(kinds: string[]): number[] {
  let column = 0;
  return kinds.map((kind, i) => {
    if (WIDE.has(kind)) {
      column = 0;
      return 2;
    }
    if (column === 0 && i + 1 < kinds.length && WIDE.has(kinds[i + 1])) return 2;
    column = (column + 1) % 2;
    return 1;
  });
}
