// Bulk actions on the list's selected rows: a lifecycle transition (its inputs asked once,
// for every record) or a delete, sent as one request whose answer is one outcome per
// record (`POST /records/{type}/bulk-actions`: each record through the normal command
// path). The outcome of every record is shown; those refused stay selected for a retry.
import { CheckCircleFilled, CloseCircleFilled, DeleteOutlined, DownOutlined, ThunderboltOutlined } from '@ant-design/icons';
import { Alert, App, Button, Dropdown, Form, Modal, Space, Table, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type Problem, type RecordJson, type Schemas } from '../api/client';
import { FieldInput } from '../fields/dispatch';
import { titleOf } from '../meta/context';
import { labelOf, type TransitionDef, type TypeDef } from '../meta/fields';
import { useFieldErrorText } from '../pages/transition';

type Outcome = Schemas['BulkActionOutcome'];

interface Props {
  def: TypeDef;
  selected: RecordJson[];
  onClear: () => void;
  /** After a run: the records that succeeded (with their new versions, for transitions)
   * and the ids that did not. */
  onDone: (changed: RecordJson[], deleted: string[], failed: string[]) => void;
}

/** One record's refusal in words: field problems with their reasons, else by status. */
export function useOutcomeText(def: TypeDef) {
  const { t, i18n } = useTranslation();
  const fieldText = useFieldErrorText();
  // A field problem names the field by its label: the record's fields and the inputs.
  const labelFor = (pointer: string) => {
    const name = pointer.split('/')[1] ?? pointer;
    const field = [...def.fields, ...def.transitions.flatMap((x) => x.inputs)].find((f) => f.name === name);
    return field ? labelOf(field.label, i18n.language) : name;
  };
  return (o: Outcome): string => {
    const p = o.problem as Problem | undefined | null;
    if (!p) return t('bulk.done');
    if (p.status === 412) return t('bulk.stale');
    if (p.status === 403) return t('record.forbidden');
    if (p.status === 404) return t('record.notFound');
    if (p.errors?.length) {
      // A guard's problem points at the record as a whole (no field): no prefix then.
      return p.errors.map((e) => (e.pointer && e.pointer !== '/' ? `${labelFor(e.pointer)}: ${fieldText(e)}` : fieldText(e))).join('; ');
    }
    return t('record.transitionRefused', { detail: p.detail ?? p.title });
  };
}

export default function BulkActions({ def, selected, onClear, onDone }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { modal } = App.useApp();
  const [asking, setAsking] = useState<TransitionDef | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [report, setReport] = useState<{ title: string; rows: { record: RecordJson; outcome: Outcome }[] } | null>(null);
  const [form] = Form.useForm();
  const outcomeText = useOutcomeText(def);

  // Transitions the caller holds that leave a state some selected record is in.
  const states = new Set(selected.map((r) => String(r.state ?? '')));
  const transitions = def.transitions.filter((x) => x.allowed && x.from.some((s) => states.has(s)));

  const run = async (action: { kind: 'transition'; transition: TransitionDef; inputs: Record<string, unknown> } | { kind: 'delete' }) => {
    setBusy(true);
    setError(null);
    const { data, error: problem } = await api.POST('/api/v1/records/{type}/bulk-actions', {
      params: { path: { type: def.name } },
      body: {
        action: action.kind,
        transition: action.kind === 'transition' ? action.transition.name : undefined,
        inputs: action.kind === 'transition' ? action.inputs : undefined,
        items: selected.map((r) => ({ id: r.id, version: r.version })),
      },
    });
    setBusy(false);
    if (!data) {
      setError(t('bulk.failed', { detail: problem?.detail ?? problem?.title ?? '' }));
      return false;
    }
    const byId = new Map(selected.map((r) => [r.id, r]));
    const rows = data.results.map((outcome) => ({ record: byId.get(outcome.id) ?? ({ id: outcome.id, version: 0 } as RecordJson), outcome }));
    const name = action.kind === 'transition' ? labelOf(action.transition.label, lang) : t('bulk.delete');
    setReport({ title: t('bulk.resultTitle', { action: name, ok: data.succeeded, failed: data.failed }), rows });
    const ok = rows.filter((r) => r.outcome.status < 300);
    onDone(
      ok.filter((r) => r.outcome.record).map((r) => ({ ...(r.outcome.record as RecordJson), version: r.outcome.version ?? r.record.version })),
      ok.filter((r) => r.outcome.status === 204).map((r) => r.record.id),
      rows.filter((r) => r.outcome.status >= 300).map((r) => r.record.id),
    );
    return true;
  };

  const start = (transition: TransitionDef) => {
    if (transition.inputs.length) {
      form.resetFields();
      setError(null);
      setAsking(transition);
    } else void run({ kind: 'transition', transition, inputs: {} });
  };

  const confirmDelete = () =>
    modal.confirm({
      title: t('bulk.deleteConfirm', { count: selected.length }),
      okText: t('bulk.delete'),
      okButtonProps: { danger: true },
      cancelText: t('record.cancel'),
      onOk: () => run({ kind: 'delete' }),
    });

  const submitInputs = async () => {
    if (!asking) return;
    const values = (await form.validateFields().catch(() => null)) as Record<string, unknown> | null;
    if (!values) return;
    const inputs: Record<string, unknown> = {};
    for (const f of asking.inputs) if (values[f.name] !== undefined && values[f.name] !== null) inputs[f.name] = values[f.name];
    if (await run({ kind: 'transition', transition: asking, inputs })) setAsking(null);
  };

  const reportModal = report ? (
    <Modal
      open
      title={report.title}
      onCancel={() => setReport(null)}
      footer={
        <Button type="primary" onClick={() => setReport(null)}>
          {t('bulk.close')}
        </Button>
      }
      width={640}
    >
      <Table
        size="small"
        rowKey={(r) => r.record.id}
        pagination={false}
        dataSource={report.rows}
        data-testid="bulk-report"
        columns={[
          { key: 'record', title: t('bulk.record'), render: (_, r) => titleOf(def, r.record) },
          {
            key: 'outcome',
            title: t('bulk.outcome'),
            render: (_, r) =>
              r.outcome.status < 300 ? (
                <span className="weft-outcome-ok" data-outcome="ok">
                  <CheckCircleFilled /> {t('bulk.done')}
                </span>
              ) : (
                <span className="weft-outcome-failed" data-outcome="failed">
                  <CloseCircleFilled /> {outcomeText(r.outcome)}
                </span>
              ),
          },
        ]}
      />
    </Modal>
  ) : null;

  // Nothing selected (any more): only the last run's report, until it is closed.
  if (!selected.length) return reportModal;

  return (
    <div className="weft-bulk" role="region" aria-label={t('bulk.selected', { count: selected.length })} data-testid="bulk-bar">
      <Typography.Text strong>{t('bulk.selected', { count: selected.length })}</Typography.Text>
      <Space wrap>
        {transitions.length ? (
          <Dropdown
            trigger={['click']}
            menu={{
              items: transitions.map((x) => ({ key: x.name, label: <span data-transition={x.name}>{labelOf(x.label, lang)}</span> })),
              onClick: ({ key }) => {
                const x = transitions.find((tr) => tr.name === key);
                if (x) start(x);
              },
            }}
          >
            <Button icon={<ThunderboltOutlined />} loading={busy && !asking} data-testid="bulk-transition">
              {t('bulk.transition')} <DownOutlined />
            </Button>
          </Dropdown>
        ) : null}
        {def.permissions.delete ? (
          <Button danger icon={<DeleteOutlined />} onClick={confirmDelete} data-testid="bulk-delete">
            {t('bulk.delete')}
          </Button>
        ) : null}
        <Button type="link" onClick={onClear}>
          {t('bulk.clear')}
        </Button>
      </Space>
      {error && !asking ? <Alert role="alert" type="error" showIcon message={error} /> : null}
      {asking ? (
        <Modal
          open
          title={t('bulk.inputsTitle', { action: labelOf(asking.label, lang), count: selected.length })}
          onCancel={() => setAsking(null)}
          onOk={() => void submitInputs()}
          okText={t('record.confirm')}
          cancelText={t('record.cancel')}
          confirmLoading={busy}
          destroyOnClose
        >
          <Typography.Paragraph type="secondary">{t('bulk.inputsHelp')}</Typography.Paragraph>
          {error ? <Alert role="alert" type="error" showIcon message={error} style={{ marginBottom: 12 }} /> : null}
          <Form form={form} layout="vertical" name="bulk_inputs">
            {asking.inputs.map((f) => (
              <Form.Item
                key={f.name}
                name={f.name}
                label={labelOf(f.label, lang)}
                rules={f.required ? [{ required: true, message: t('fieldError.required') }] : []}
              >
                <FieldInput field={f} />
              </Form.Item>
            ))}
          </Form>
        </Modal>
      ) : null}
      {reportModal}
    </div>
  );
}
