import { describe, expect, it } from 'vitest';
import type { Schemas } from '../api/client';
import { opField, returnTargets } from './TaskOps';

const task = (element: string, status: string, ended_at: string | null, name: string | null = null) =>
  ({ element, status, ended_at, name }) as unknown as Schemas['TaskBody'];

describe('task operations', () => {
  it('offers each answered earlier step once, newest first, never the current one', () => {
    const tasks = [
      task('fill_in', 'completed', '2026-12-01T08:00:00Z', 'Fill in'),
      task('team_lead', 'completed', '2026-12-01T09:00:00Z', 'Team lead'),
      task('fill_in', 'completed', '2026-12-01T10:00:00Z', 'Fill in'),
      task('hr_check', 'open', null, 'HR'),
      task('legal', 'cancelled', '2026-12-01T11:00:00Z'),
    ];
    expect(returnTargets('hr_check', tasks)).toEqual([
      { element: 'fill_in', name: 'Fill in' },
      { element: 'team_lead', name: 'Team lead' },
    ]);
    expect(returnTargets('fill_in', [task('fill_in', 'completed', '2026-12-01T08:00:00Z')])).toEqual([]);
  });

  it('puts server problems at the field they name', () => {
    expect(opField('/principal')).toBe('to');
    expect(opField('/to')).toBe('to');
    expect(opField('/position')).toBe('position');
    expect(opField('/element')).toBe('element');
    expect(opField('')).toBeNull();
  });
});
