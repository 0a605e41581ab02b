import { describe, expect, it } from 'vitest';
import { detailSpans } from './detailSpans';

describe('detailSpans', () => {
  it('gives a wide field a row of its own and widens a field left alone before it', () => {
    // purchase_order, supplier | shipping_notice, expected_on | received_on ⟶ lines | note
    expect(detailSpans(['reference', 'party', 'reference', 'date', 'date', 'lines', 'long_text'])).toEqual([1, 1, 1, 1, 2, 2, 2]);
    expect(detailSpans(['text', 'text', 'lines', 'text'])).toEqual([1, 1, 2, 1]);
    expect(detailSpans(['text', 'lines', 'text', 'text', 'text'])).toEqual([2, 2, 1, 1, 1]);
  });
});
