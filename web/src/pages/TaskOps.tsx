// The other things one does with a to-do besides approving it: 转交 (hand it to someone
// else), 委托 (ask someone to do it for you; you stay on it), 退回 (send it back to an
// earlier step) and 加签 (add an approver before or after you). Server refusals land at
// their fields (`/to`, `/principal`, `/position`, `/element`) or above the form.
import { Alert, Form, Input, Modal, Radio, Select, Skeleton } from 'antd';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, asProblem, type Schemas } from '../api/client';
import { useSession } from '../auth/session';
import { usePeople } from '../collab/people';
import { useFieldErrorText } from './transition';

export type TaskOp = 'transfer' | 'delegate' | 'return' | 'add-approver';
export const TASK_OPS: TaskOp[] = ['transfer', 'delegate', 'return', 'add-approver'];

type Task = Schemas['TaskBody'];
type Values = { to?: string; element?: string; position?: 'before' | 'after'; comment?: string };

/** The earlier steps a task may go back to: user tasks of its instance already answered,
 *  other than its own step, newest first, each once. */
export function returnTargets(current: string, tasks: Task[]): { element: string; name: string }[] {
  const seen = new Set<string>([current]);
  const out: { element: string; name: string }[] = [];
  const answered = tasks.filter((t) => t.status === 'completed').sort((a, b) => (b.ended_at ?? '').localeCompare(a.ended_at ?? ''));
  for (const t of answered) {
    if (seen.has(t.element)) continue;
    seen.add(t.element);
    out.push({ element: t.element, name: t.name ?? t.element });
  }
  return out;
}

/** Which form field a problem pointer belongs to. */
export function opField(pointer: string): keyof Values | null {
  const name = pointer.replace(/^\//, '').split('/')[0];
  if (name === 'to' || name === 'principal') return 'to';
  if (name === 'element' || name === 'position' || name === 'comment') return name;
  return null;
}

export function TaskOpDialog({ task, op, summary, onClose, onDone }: { task: string; op: TaskOp; summary: string; onClose: () => void; onDone: () => void }) {
  const { t } = useTranslation();
  const { principal } = useSession();
  const people = usePeople();
  const errorText = useFieldErrorText();
  const [form] = Form.useForm<Values>();
  const [targets, setTargets] = useState<{ element: string; name: string }[] | null>(op === 'return' ? null : []);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (op !== 'return') return;
    void (async () => {
      const { data: one, error: problem, response } = await api.GET('/api/v1/tasks/{id}', { params: { path: { id: task } } });
      if (!one) return setError(asProblem(problem, response.status).detail ?? response.statusText);
      const { data: instance } = await api.GET('/api/v1/process-instances/{id}', { params: { path: { id: one.instance } } });
      setTargets(returnTargets(one.element, instance?.tasks ?? []));
    })();
  }, [op, task]);

  const choices = useMemo(
    () => people.filter((p) => p.id !== principal?.id).map((p) => ({ value: p.id, label: p.name })),
    [people, principal],
  );

  const submit = async () => {
    const v = await form.validateFields().catch(() => null);
    if (!v) return;
    setBusy(true);
    const comment = v.comment?.trim() || null;
    const id = { path: { id: task } };
    const { error: problem, response } =
      op === 'transfer'
        ? await api.POST('/api/v1/tasks/{id}/transfer', { params: id, body: { to: v.to as string } })
        : op === 'delegate'
          ? await api.POST('/api/v1/tasks/{id}/delegate', { params: id, body: { to: v.to as string } })
          : op === 'return'
            ? await api.POST('/api/v1/tasks/{id}/return', { params: id, body: { element: v.element as string, comment } })
            : await api.POST('/api/v1/tasks/{id}/add-approver', {
                params: id,
                body: { principal: v.to as string, position: v.position ?? 'after', comment },
              });
    setBusy(false);
    if (response.ok) return onDone();
    const p = asProblem(problem, response.status);
    const at = (p.errors ?? []).map((e) => ({ field: opField(e.pointer), reason: errorText(e) })).filter((e) => e.field);
    if (at.length) form.setFields(at.map((e) => ({ name: e.field as keyof Values, errors: [e.reason] })));
    setError(at.length ? t('record.invalid') : (p.detail ?? response.statusText));
  };

  const needsPerson = op !== 'return';
  return (
    <Modal
      open
      title={t(`taskOps.${op}Title`, { summary })}
      okText={t(`taskOps.${op}`)}
      okButtonProps={{ loading: busy, disabled: targets === null }}
      onOk={() => void submit()}
      onCancel={onClose}
    >
      {error ? <Alert role="alert" type="error" showIcon message={error} style={{ marginBottom: 12 }} /> : null}
      <Form form={form} layout="vertical" name={`task-${op}`} initialValues={{ position: 'after' }}>
        {needsPerson ? (
          <Form.Item name="to" label={t(op === 'add-approver' ? 'taskOps.approver' : 'taskOps.to')} rules={[{ required: true, message: t('login.required') }]}>
            <Select showSearch optionFilterProp="label" options={choices} placeholder={t('taskOps.pick')} />
          </Form.Item>
        ) : targets === null ? (
          <Skeleton active paragraph={{ rows: 1 }} />
        ) : targets.length ? (
          <Form.Item name="element" label={t('taskOps.backTo')} rules={[{ required: true, message: t('login.required') }]}>
            <Radio.Group options={targets.map((s) => ({ value: s.element, label: s.name }))} />
          </Form.Item>
        ) : (
          <Alert type="info" showIcon message={t('taskOps.noEarlier')} />
        )}
        {op === 'add-approver' ? (
          <Form.Item name="position" label={t('taskOps.position')}>
            <Radio.Group
              options={[
                { value: 'before', label: t('taskOps.before') },
                { value: 'after', label: t('taskOps.after') },
              ]}
            />
          </Form.Item>
        ) : null}
        {op === 'return' || op === 'add-approver' ? (
          <Form.Item name="comment" label={t('inbox.comment')}>
            <Input.TextArea rows={2} />
          </Form.Item>
        ) : null}
      </Form>
    </Modal>
  );
}
