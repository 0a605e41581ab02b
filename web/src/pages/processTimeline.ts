import type { TFunction } from 'i18next';
import type { TimelineEntry } from '../api/client';

/** What one process entry of a record's timeline says: a title and detail lines. */
export type ProcessLine = { title: string; details: string[] };

/**
 * Describes a `process` entry of the record timeline (GET …/timeline) in the user's
 * language; `null` for history entries, which the record page renders from the type's
 * metadata. A person is shown by name when the server could name them, else by a short id.
 */
export function describeProcess(e: TimelineEntry, t: TFunction): ProcessLine | null {
  const p = e.process;
  if (e.kind !== 'process' || !p) return null;
  const step = p.step_name ?? p.element ?? '';
  const process = p.process_name ?? p.process;
  const who = p.to_name ?? (p.to ? p.to.slice(0, 8) : t('process.nobody'));
  const title = ((): string => {
    switch (e.command) {
      case 'process.started':
        return t('process.started', { process });
      case 'process.task_created':
        return t('process.taskCreated', { step, who });
      case 'process.task_completed':
        if (p.outcome === 'approved') return t('process.approved', { step });
        if (p.outcome === 'rejected') return t('process.rejected', { step });
        return t('process.completed', { step });
      case 'process.task_cancelled':
        return t('process.taskCancelled', { step });
      case 'process.claimed':
        return t('process.claimed', { step });
      case 'process.transferred':
        return t('process.transferred', { step, who });
      case 'process.delegated':
        return t('process.delegated', { step, who });
      case 'process.returned':
        return t('process.returned', { step, target: p.to_step_name ?? p.to_step ?? '' });
      case 'process.approver_added':
        return p.position === 'before' ? t('process.addedBefore', { step, who }) : t('process.addedAfter', { step, who });
      case 'process.withdrawn':
        return t('process.withdrawn', { process });
      case 'process.cancelled':
        return t('process.cancelled', { process });
      case 'process.reminded':
        return t('process.reminded', { step });
      case 'process.escalated':
        return t('process.escalated', { step });
      case 'process.timer':
        return t('process.timer', { step });
      case 'process.migrated':
        return t('process.migrated', { process, versions: p.comment ?? '' });
      case 'process.ended':
        if (p.outcome === 'withdrawn') return t('process.withdrawn', { process });
        if (p.outcome === 'cancelled') return t('process.cancelled', { process });
        return t('process.ended', { process });
      default:
        return t('timeline.other', { command: e.command });
    }
  })();
  const details: string[] = [];
  if (p.comment && e.command !== 'process.migrated') {
    const reason = e.command === 'process.withdrawn' || e.command === 'process.cancelled' || e.command === 'process.returned';
    details.push(reason ? t('process.reason', { text: p.comment }) : t('process.comment', { text: p.comment }));
  }
  return { title, details };
}
