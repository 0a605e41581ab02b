// Object types and their fields. The list shows every declared type; opening one edits a
// draft of its declaration (labels, title field, fields in order). "Preview" sends the
// draft as a dry run and shows the planned schema change, destructive steps marked;
// "Apply" sends the same draft for real, with `allow_destructive` only when the
// administrator ticked the confirmation. The server checks the declaration as a whole and
// answers every problem at its pointer: shown at the field's row and inside its dialog. A
// built-in app's types are read-only here (`editable: false`): they change with their app.
import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, EditOutlined, EyeOutlined, PlusOutlined } from '@ant-design/icons';
import { Alert, App, Button, Card, Checkbox, Drawer, Form, Input, Select, Space, Table, Tag, Typography } from 'antd';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type Problem, type Schemas } from '../api/client';
import { useTypes } from '../meta/context';
import { labelOf } from '../meta/fields';
import FieldEditor from './FieldEditor';
import {
  type DeclJson,
  type FieldJson,
  type FieldType,
  type Plan,
  type Problems,
  draftKey,
  labelFrom,
  moved,
  needsConfirmation,
  newDecl,
  problemsOf,
} from './typeDraft';

type TypeInfo = Schemas['TypeInfo'];
const NAME = /^[a-z][a-z0-9_]{0,62}$/;
const NO_PROBLEMS: Problems = { rows: new Map(), other: [] };

interface Editing {
  /** The type as the server has it; undefined for a new one. */
  info?: TypeInfo;
  draft: DeclJson;
}

export default function TypesAdmin() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { message } = App.useApp();
  const { reload: reloadTypes } = useTypes();
  const [items, setItems] = useState<TypeInfo[]>([]);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [fieldOpen, setFieldOpen] = useState<{ index: number | null } | null>(null);
  const [plan, setPlan] = useState<{ key: string; plan: Plan } | null>(null);
  const [confirmed, setConfirmed] = useState(false);
  const [problems, setProblems] = useState<Problems>(NO_PROBLEMS);
  const [busy, setBusy] = useState(false);
  const [head] = Form.useForm<{ name: string; label_zh: string; label_en: string; title_field?: string }>();

  const load = useCallback(() => void api.GET('/api/v1/types').then(({ data }) => setItems(data?.items ?? [])), []);
  useEffect(load, [load]);

  const readOnly = !!editing?.info && !editing.info.editable;
  const isNew = !!editing && !editing.info;
  const draft = editing?.draft;
  const key = useMemo(() => (draft ? draftKey(draft) : ''), [draft]);
  const current = plan && plan.key === key ? plan.plan : null;
  const destructive = needsConfirmation(current);

  const open = (info?: TypeInfo) => {
    const draft = info ? (structuredClone(info.declaration) as unknown as DeclJson) : newDecl('', '', '');
    draft.fields ??= [];
    setEditing({ info, draft });
    setPlan(null);
    setConfirmed(false);
    setProblems(NO_PROBLEMS);
    head.resetFields();
    const label = (draft.label ?? {}) as { zh?: string; en?: string };
    head.setFieldsValue({ name: draft.name, label_zh: label.zh, label_en: label.en, title_field: (draft.title_field as string) ?? undefined });
  };

  /** Changes the draft (a new preview is needed after any change). */
  const change = (next: Partial<DeclJson>) => {
    if (!editing) return;
    const draft = { ...editing.draft, ...next } as DeclJson;
    if (draft.title_field === undefined || draft.title_field === null) delete draft.title_field;
    setEditing({ ...editing, draft });
    setConfirmed(false);
  };

  const onHead = (_: unknown, all: { name?: string; label_zh?: string; label_en?: string; title_field?: string }) =>
    change({
      ...(isNew ? { name: all.name?.trim() ?? '' } : {}),
      label: labelFrom(all.label_zh, all.label_en),
      title_field: all.title_field || undefined,
    });

  const send = async (dryRun: boolean) => {
    if (!editing) return;
    const ok = await head.validateFields().then(() => true).catch(() => false);
    if (!ok) return;
    const body = editing.draft as unknown as Schemas['ObjectTypeDecl'];
    const query = { dry_run: dryRun, allow_destructive: !dryRun && destructive && confirmed };
    setBusy(true);
    const answer = isNew
      ? await api.POST('/api/v1/types', { params: { query }, body })
      : await api.PUT('/api/v1/types/{name}', { params: { path: { name: editing.draft.name }, query }, body });
    setBusy(false);
    if (answer.data) {
      setProblems(NO_PROBLEMS);
      if (dryRun) {
        setPlan({ key, plan: answer.data });
        return;
      }
      void message.success(t('types.applied', { name: editing.draft.name }));
      setEditing(null);
      load();
      void reloadTypes();
      return;
    }
    setPlan(null);
    setProblems(problemsOf(answer.error as Problem | undefined));
  };

  const fields = draft?.fields ?? [];
  const storedNames = new Set(((editing?.info?.declaration.fields ?? []) as FieldJson[]).map((f) => f.name));
  const setFields = (next: FieldJson[]) => {
    // Problems belong to rows by position: stale once rows move or go.
    setProblems((p) => ({ ...p, rows: new Map() }));
    change({ fields: next });
  };
  const problemCount = problems.other.length + [...problems.rows.values()].reduce((n, l) => n + l.length, 0);
  const titleOptions = fields
    .filter((f) => ['text', 'email', 'phone', 'url', 'integer'].includes(f.type) || (f.type === 'computed' && (f.result as { type?: string })?.type === 'text'))
    .map((f) => ({ value: f.name, label: `${labelOf(f.label as never, lang)} (${f.name})` }));

  return (
    <Card
      title={t('types.title')}
      size="small"
      extra={
        <Button icon={<PlusOutlined />} onClick={() => open()} data-testid="new-type">
          {t('types.new')}
        </Button>
      }
      data-testid="types"
    >
      <Table<TypeInfo>
        rowKey="name"
        size="small"
        pagination={false}
        dataSource={items}
        scroll={{ x: 'max-content' }}
        onRow={(r) => ({ 'data-type': r.name }) as React.HTMLAttributes<HTMLElement>}
        columns={[
          {
            key: 'label',
            title: t('types.label'),
            render: (_, r) => (
              <Space size={4} wrap>
                <strong>{labelOf(r.declaration.label, lang)}</strong>
                <Typography.Text type="secondary" code>
                  {r.name}
                </Typography.Text>
              </Space>
            ),
          },
          { key: 'zh', title: t('types.labelZh'), render: (_, r) => r.declaration.label.zh, responsive: ['md'] },
          { key: 'en', title: t('types.labelEn'), render: (_, r) => r.declaration.label.en, responsive: ['md'] },
          {
            key: 'app',
            title: t('types.app'),
            render: (_, r) => (
              <Space size={4} wrap>
                <Tag>{t(`apps.${r.app}`, { defaultValue: r.app })}</Tag>
                {r.editable ? null : <Tag color="default">{t('types.readOnly')}</Tag>}
              </Space>
            ),
          },
          { key: 'fields', title: t('types.fieldCount'), align: 'right', render: (_, r) => r.declaration.fields?.length ?? 0 },
          {
            key: 'open',
            title: '',
            render: (_, r) => (
              <Button size="small" icon={r.editable ? <EditOutlined /> : <EyeOutlined />} onClick={() => open(r)} aria-label={t('types.open', { name: r.name })}>
                {r.editable ? t('types.edit') : t('types.view')}
              </Button>
            ),
          },
        ]}
      />
      <Drawer
        open={!!editing}
        onClose={() => setEditing(null)}
        width="min(1040px, 100vw)"
        title={isNew ? t('types.new') : t('types.editTitle', { name: labelOf((draft?.label ?? {}) as never, lang) || draft?.name })}
        destroyOnClose
        className="weft-type-editor"
        footer={
          readOnly ? null : (
            <div className="weft-type-footer">
              {destructive ? (
                <Checkbox checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} data-testid="allow-destructive">
                  {t('types.confirmDestructive')}
                </Checkbox>
              ) : null}
              <Space wrap>
                <Button icon={<EyeOutlined />} onClick={() => void send(true)} loading={busy && !current} data-testid="preview">
                  {t('types.preview')}
                </Button>
                <Button
                  type="primary"
                  onClick={() => void send(false)}
                  disabled={!current || current.action === 'unchanged' || (destructive && !confirmed)}
                  loading={busy && !!current}
                  data-testid="apply"
                >
                  {t('types.apply')}
                </Button>
              </Space>
            </div>
          )
        }
      >
        {readOnly ? (
          <Alert type="info" showIcon message={t('types.builtinNote', { app: t(`apps.${editing?.info?.app}`, { defaultValue: editing?.info?.app }) })} style={{ marginBottom: 12 }} />
        ) : null}
        <Form form={head} layout="vertical" name="type-head" onValuesChange={onHead} disabled={readOnly}>
          <div className="weft-form-grid">
            <Form.Item
              name="name"
              label={t('types.name')}
              extra={isNew ? t('types.nameHelp') : undefined}
              rules={[{ required: true, message: t('fieldError.required') }, { pattern: NAME, message: t('types.nameRule') }]}
            >
              <Input disabled={!isNew || readOnly} autoComplete="off" />
            </Form.Item>
            <Form.Item name="label_zh" label={t('types.labelZh')} rules={[{ required: true, message: t('fieldError.required') }]}>
              <Input />
            </Form.Item>
            <Form.Item name="label_en" label={t('types.labelEn')} rules={[{ required: true, message: t('fieldError.required') }]}>
              <Input />
            </Form.Item>
            <Form.Item name="title_field" label={t('types.titleField')}>
              <Select allowClear options={titleOptions} />
            </Form.Item>
          </div>
        </Form>

        {problemCount ? (
          <Alert
            type="error"
            showIcon
            role="alert"
            data-testid="type-problems"
            message={t('types.problems', { count: problemCount })}
            description={
              <ul className="weft-problems">
                {problems.other.map((p, i) => (
                  <li key={`o${i}`}>{p.pointer ? `${p.pointer}: ${p.reason}` : p.reason}</li>
                ))}
                {[...problems.rows].flatMap(([row, list]) =>
                  list.map((p, i) => (
                    <li key={`${row}-${i}`}>
                      <code>{fields[row]?.name ?? `#${row + 1}`}</code>
                      {p.path ? ` · ${p.path}` : ''}: {p.reason}
                    </li>
                  )),
                )}
              </ul>
            }
            style={{ marginBottom: 12 }}
          />
        ) : null}

        <Typography.Title level={5}>{t('types.fields')}</Typography.Title>
        <Table<FieldJson>
          rowKey={(f) => f.name}
          size="small"
          pagination={false}
          dataSource={fields}
          scroll={{ x: 'max-content' }}
          rowClassName={(_, i) => (problems.rows.has(i) ? 'weft-row-problem' : '')}
          onRow={(f) => ({ 'data-field': f.name }) as React.HTMLAttributes<HTMLElement>}
          columns={[
            {
              key: 'name',
              title: t('types.fieldName'),
              render: (_, f) => (
                <Space size={4} wrap>
                  <code>{f.name}</code>
                  {storedNames.has(f.name) || isNew ? null : <Tag color="blue">{t('types.newTag')}</Tag>}
                </Space>
              ),
            },
            { key: 'label', title: t('types.label'), render: (_, f) => labelOf(f.label as never, lang) },
            { key: 'type', title: t('types.fieldType'), render: (_, f) => <Tag>{t(`types.kind.${f.type as FieldType}`, { defaultValue: f.type })}</Tag> },
            {
              key: 'flags',
              title: t('types.flags'),
              render: (_, f) => (
                <Space size={2} wrap>
                  {f.required ? <Tag color="orange">{t('types.required')}</Tag> : null}
                  {f.unique ? <Tag color="purple">{t('types.unique')}</Tag> : null}
                  {f.indexed ? <Tag>{t('types.indexed')}</Tag> : null}
                </Space>
              ),
            },
            {
              key: 'problems',
              title: '',
              render: (_, _f, i) =>
                problems.rows.get(i)?.length ? (
                  <Typography.Text type="danger" className="weft-row-problems">
                    {problems.rows.get(i)!.map((p) => (p.path ? `${p.path}: ${p.reason}` : p.reason)).join('; ')}
                  </Typography.Text>
                ) : null,
            },
            {
              key: 'actions',
              title: '',
              render: (_, f, i) => (
                <Space size={0}>
                  <Button size="small" type="text" icon={<ArrowUpOutlined />} disabled={readOnly || i === 0} onClick={() => setFields(moved(fields, i, i - 1))} aria-label={t('types.moveUp', { name: f.name })} />
                  <Button size="small" type="text" icon={<ArrowDownOutlined />} disabled={readOnly || i === fields.length - 1} onClick={() => setFields(moved(fields, i, i + 1))} aria-label={t('types.moveDown', { name: f.name })} />
                  <Button size="small" type="text" icon={readOnly ? <EyeOutlined /> : <EditOutlined />} onClick={() => setFieldOpen({ index: i })} aria-label={t('types.editField', { name: f.name })} />
                  <Button size="small" type="text" danger icon={<DeleteOutlined />} disabled={readOnly} onClick={() => setFields(fields.filter((_, j) => j !== i))} aria-label={t('types.removeField', { name: f.name })} />
                </Space>
              ),
            },
          ]}
        />
        {readOnly ? null : (
          <Button type="dashed" icon={<PlusOutlined />} onClick={() => setFieldOpen({ index: null })} style={{ marginTop: 8 }} data-testid="add-field">
            {t('types.addField')}
          </Button>
        )}

        {current ? <PlanView plan={current} /> : null}
        {plan && !current ? (
          <Alert type="warning" showIcon message={t('types.previewStale')} style={{ marginTop: 16 }} />
        ) : null}
      </Drawer>
      {fieldOpen && editing ? (
        <FieldEditor
          field={fieldOpen.index === null ? undefined : fields[fieldOpen.index]}
          taken={fields.filter((_, j) => j !== fieldOpen.index).map((f) => f.name)}
          problems={fieldOpen.index === null ? undefined : problems.rows.get(fieldOpen.index)}
          stored={fieldOpen.index !== null && storedNames.has(fields[fieldOpen.index]?.name)}
          readOnly={readOnly}
          onCancel={() => setFieldOpen(null)}
          onDone={(f) => {
            const index = fieldOpen.index;
            if (index === null) change({ fields: [...fields, f] });
            else {
              change({ fields: fields.map((x, j) => (j === index ? f : x)) });
              setProblems((p) => {
                const rows = new Map(p.rows);
                rows.delete(index);
                return { ...p, rows };
              });
            }
            setFieldOpen(null);
          }}
        />
      ) : null}
    </Card>
  );
}

/** A dry run's plan: what changes in the declaration and the schema statements, the
 *  destructive ones marked. */
function PlanView({ plan }: { plan: Plan }) {
  const { t } = useTranslation();
  return (
    <section className="weft-plan" data-testid="plan" aria-label={t('types.plan')}>
      <Typography.Title level={5}>
        {t('types.plan')} <Tag color={plan.action === 'unchanged' ? 'default' : 'blue'}>{t(`types.action.${plan.action as 'create'}`, { defaultValue: plan.action })}</Tag>
        {plan.destructive ? <Tag color="red">{t('types.destructive')}</Tag> : null}
      </Typography.Title>
      {plan.action === 'unchanged' ? <Typography.Paragraph type="secondary">{t('types.unchanged')}</Typography.Paragraph> : null}
      {plan.changes.length ? (
        <>
          <Typography.Text strong>{t('types.changes')}</Typography.Text>
          <ul className="weft-plan-list">
            {plan.changes.map((c, i) => (
              <li key={i} className={c.includes('[destructive]') ? 'weft-plan-destructive' : undefined}>
                {c.replace(' [destructive]', '')}
                {c.includes('[destructive]') ? <Tag color="red" style={{ marginLeft: 6 }}>{t('types.destructive')}</Tag> : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {plan.steps.length ? (
        <>
          <Typography.Text strong>{t('types.steps')}</Typography.Text>
          <ol className="weft-plan-list">
            {plan.steps.map((s, i) => (
              <li key={i} className={s.destructive ? 'weft-plan-destructive' : undefined} data-destructive={s.destructive ? 'true' : undefined}>
                <div>
                  {s.description}
                  {s.destructive ? <Tag color="red" style={{ marginLeft: 6 }}>{t('types.destructive')}</Tag> : null}
                </div>
                <pre className="weft-sql">{s.sql}</pre>
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </section>
  );
}
