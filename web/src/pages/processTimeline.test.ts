import { beforeAll, describe, expect, it } from 'vitest';
import type { TimelineEntry } from '../api/client';
import { changeLang, i18n, initI18n } from '../i18n';
import { describeProcess } from './processTimeline';

const instance = '01a2385d-17fe-7350-a3ee-edb14a91144d';

function entry(command: string, process: Partial<NonNullable<TimelineEntry['process']>>): TimelineEntry {
  return {
    at: '2026-12-02T10:00:00Z',
    kind: 'process',
    actor: 'system',
    command,
    changes: {},
    process: { instance, process: 'po_approval', process_name: 'PO approval', ...process },
  };
}

describe('process entries of the record timeline', () => {
  beforeAll(() => {
    initI18n();
  });

  it('history entries are left to the record page', () => {
    const history: TimelineEntry = { at: '2026-12-02T10:00:00Z', kind: 'history', actor: 'system', command: 'create', version: 1, changes: {} };
    expect(describeProcess(history, i18n.t)).toBeNull();
  });

  it('say who approved, rejected, got, or was added, with comments, in English and Chinese', async () => {
    await changeLang('en');
    const t = i18n.t;
    const approved = entry('process.task_completed', { element: 'manager_approve', step_name: 'Manager approves', outcome: 'approved', comment: 'fine' });
    expect(describeProcess(approved, t)).toEqual({ title: 'Approved: Manager approves', details: ['Comment: fine'] });
    const rejected = entry('process.task_completed', { element: 'cfo_approve', outcome: 'rejected' });
    expect(describeProcess(rejected, t)?.title).toBe('Rejected: cfo_approve');
    const created = entry('process.task_created', { element: 'check', step_name: 'Check', to: instance, to_name: 'Li Lei' });
    expect(describeProcess(created, t)?.title).toBe('To-do for Li Lei: Check');
    const unnamed = entry('process.task_created', { element: 'check', to: instance });
    expect(describeProcess(unnamed, t)?.title).toBe('To-do for 01a2385d: check');
    const before = entry('process.approver_added', { element: 'check', step_name: 'Check', to_name: 'Han Mei', position: 'before', comment: 'legal first' });
    expect(describeProcess(before, t)).toEqual({ title: 'Approver Han Mei added before: Check', details: ['Comment: legal first'] });
    const returned = entry('process.returned', { step_name: 'Check', to_step: 'fill_in', to_step_name: 'Fill in', comment: 'dates' });
    expect(describeProcess(returned, t)).toEqual({ title: 'Returned from Check to Fill in', details: ['Reason: dates'] });
    expect(describeProcess(entry('process.escalated', { step_name: 'Check' }), t)?.title).toBe('Escalated (overdue): Check');
    expect(describeProcess(entry('process.ended', { outcome: 'withdrawn' }), t)?.title).toBe('Withdrawn: PO approval');
    expect(describeProcess(entry('process.started', {}), t)?.title).toBe('Process started: PO approval');
    const migrated = entry('process.migrated', { comment: 'v1 → v2' });
    expect(describeProcess(migrated, t)).toEqual({ title: 'Moved to another version of PO approval (v1 → v2)', details: [] });

    await changeLang('zh');
    expect(describeProcess(approved, i18n.t)).toEqual({ title: '同意：Manager approves', details: ['意见：fine'] });
    expect(describeProcess(before, i18n.t)?.title).toBe('前加签 Han Mei：Check');
    const after = entry('process.approver_added', { step_name: '经理审批', to_name: '韩梅', position: 'after' });
    expect(describeProcess(after, i18n.t)?.title).toBe('后加签 韩梅：经理审批');
    expect(describeProcess(migrated, i18n.t)?.title).toBe('PO approval 已迁移到新版本（v1 → v2）');
  });
});
