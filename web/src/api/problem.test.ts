import { describe, expect, it } from 'vitest';
import type { Problem } from './client';
import { fieldErrors } from './problem';

const problem = (errors: { pointer: string; reason: string }[]) =>
  ({ type: 'x', title: 'x', status: 422, code: 'validation_failed', errors }) as unknown as Problem;

describe('fieldErrors', () => {
  it('puts each error at its field, a line cell or the whole form', () => {
    const known = (n: string) => ['amount', 'lines', 'name'].includes(n);
    const out = fieldErrors(
      problem([
        { pointer: '/amount/amount', reason: 'too many decimals' },
        { pointer: '/name', reason: 'required' },
        { pointer: '/name', reason: 'too long' },
        { pointer: '/lines/1/qty', reason: 'required' },
        { pointer: '/ghost', reason: 'there is no field `ghost`' },
        { pointer: '', reason: 'bad body' },
      ]),
      known,
    );
    expect(out.fields).toEqual([
      { name: ['amount'], errors: ['too many decimals'] },
      { name: ['name'], errors: ['required', 'too long'] },
      { name: ['lines', 1, 'qty'], errors: ['required'] },
    ]);
    expect(out.other).toEqual(['/ghost: there is no field `ghost`', 'bad body']);
  });
});
