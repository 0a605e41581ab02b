// Automation rules (`/admin/rules`): every rule with its type, events and whether it is on;
// an editor per rule (type, events including the type's transitions, a FEEL condition, and
// its actions as a list with a form per kind); on/off straight from the list. Each save
// sends the whole rule document (`PUT /admin/rules/{name}`); the server checks it against
// the type (fields, transitions, roles, decision models, strict FEEL) and answers every
// problem with its pointer, shown here at its row's input. On a phone the table keeps its
// first column (which then says what the hidden ones would), the switch and the buttons.
import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, EditOutlined, MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { Alert, App, AutoComplete, Button, Card, Checkbox, Drawer, Form, Grid, Input, Select, Space, Switch, Table, Tag, Typography } from 'antd';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, asProblem, type Problem } from '../api/client';
import type { FieldError } from '../api/problem';
import { formatDateTime } from '../format';
import { useTypes } from '../meta/context';
import { labelOf, type TypeDef } from '../meta/fields';
import {
  ACTION_KINDS,
  defOf,
  eventsOf,
  newAction,
  problemsOf,
  recipientsOf,
  retype,
  RULE_NAME,
  ruleFormOf,
  ruleLabel,
  ruleOf,
  settableFields,
  type ActionKind,
  type RuleForm,
  type RuleView,
} from './ruleDraft';

/** An event's words: `created`, or `transitioned:submit` by the transition's label. */
function useEventLabel() {
  const { t, i18n } = useTranslation();
  return useCallback(
    (event: string, def: TypeDef | undefined) => {
      const transition = event.startsWith('transitioned:') ? event.slice('transitioned:'.length) : null;
      if (transition === null) return t(`rules.event.${event}` as 'rules.event.created', { defaultValue: event });
      const x = def?.transitions.find((d) => d.name === transition);
      return t('rules.event.transition', { name: x ? labelOf(x.label, i18n.language) : transition });
    },
    [t, i18n],
  );
}

export default function RulesAdmin() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { message, modal } = App.useApp();
  const { byName } = useTypes();
  const [rules, setRules] = useState<RuleView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<RuleView | 'new' | null>(null);
  const [toggling, setToggling] = useState<string | null>(null);
  const phone = Grid.useBreakpoint().md === false;
  const eventLabel = useEventLabel();

  const load = useCallback(async () => {
    const { data, error: problem, response } = await api.GET('/api/v1/admin/rules');
    if (data) {
      setRules(data);
      setError(null);
    } else setError(asProblem(problem, response.status).detail ?? response.statusText);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const typeLabel = (name: string) => {
    const def = byName(name);
    return def ? labelOf(def.label, lang) : name;
  };
  const events = (r: RuleView) =>
    r.on.map((e) => (
      <Tag key={e} data-event={e}>
        {eventLabel(e, byName(r.type))}
      </Tag>
    ));

  const toggle = async (rule: RuleView, enabled: boolean) => {
    setToggling(rule.name);
    const { data, error: problem, response } = await api.PUT('/api/v1/admin/rules/{name}', {
      params: { path: { name: rule.name } },
      body: { ...defOf(rule), enabled },
    });
    setToggling(null);
    if (data) {
      setRules((list) => (list ?? []).map((r) => (r.name === data.name ? data : r)));
      void message.success(t(enabled ? 'rules.enabledNow' : 'rules.disabledNow', { name: ruleLabel(data, lang) }));
    } else {
      // The type may have changed under the rule since it was saved: open it to fix it.
      const p = asProblem(problem, response.status);
      void message.error(t('rules.failed', { detail: p.errors?.map((e) => `${e.pointer}: ${e.reason}`).join('; ') || p.detail || p.title }));
    }
  };

  const remove = (rule: RuleView) =>
    modal.confirm({
      title: t('rules.deleteConfirm', { name: ruleLabel(rule, lang) }),
      okText: t('rules.delete'),
      okButtonProps: { danger: true },
      cancelText: t('record.cancel'),
      onOk: async () => {
        const { error: problem, response } = await api.DELETE('/api/v1/admin/rules/{name}', { params: { path: { name: rule.name } } });
        if (response.ok) {
          void message.success(t('rules.deleted', { name: ruleLabel(rule, lang) }));
          await load();
        } else void message.error(asProblem(problem, response.status).detail ?? response.statusText);
      },
    });

  return (
    <Card
      size="small"
      title={t('rules.title')}
      extra={
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="new-rule">
          {t('rules.new')}
        </Button>
      }
      data-testid="rules"
    >
      <Typography.Paragraph type="secondary">{t('rules.intro')}</Typography.Paragraph>
      {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} /> : null}
      <div className="weft-table-scroll">
        <Table<RuleView>
          rowKey="name"
          size="small"
          loading={rules === null}
          dataSource={rules ?? []}
          pagination={false}
          locale={{ emptyText: t('rules.none') }}
          onRow={(r) => ({ 'data-rule': r.name }) as React.HTMLAttributes<HTMLElement>}
          columns={[
            {
              key: 'name',
              title: t('rules.rule'),
              className: 'weft-wrap',
              render: (_: unknown, r: RuleView) => (
                <>
                  <strong>{ruleLabel(r, lang)}</strong>{' '}
                  <Typography.Text type="secondary" code>
                    {r.name}
                  </Typography.Text>
                  {phone ? (
                    <div className="weft-cell-more">
                      {typeLabel(r.type)} · {events(r)}
                      <div>
                        v{r.version} · {formatDateTime(lang, r.updated_at)}
                      </div>
                    </div>
                  ) : r.condition ? (
                    <div className="weft-cell-more weft-mono">{r.condition}</div>
                  ) : null}
                </>
              ),
            },
            { key: 'type', title: t('rules.type'), responsive: ['md'], render: (_: unknown, r: RuleView) => typeLabel(r.type) },
            { key: 'on', title: t('rules.events'), responsive: ['md'], className: 'weft-wrap', render: (_: unknown, r: RuleView) => events(r) },
            {
              key: 'enabled',
              title: t('rules.enabled'),
              render: (_: unknown, r: RuleView) => (
                <Switch
                  size="small"
                  checked={r.enabled !== false}
                  loading={toggling === r.name}
                  onChange={(on) => void toggle(r, on)}
                  aria-label={t('rules.toggleNamed', { name: r.name })}
                  data-testid="toggle-rule"
                />
              ),
            },
            { key: 'version', dataIndex: 'version', title: t('rules.version'), align: 'right' as const, responsive: ['md'] },
            { key: 'updated', title: t('rules.updated'), responsive: ['md'], render: (_: unknown, r: RuleView) => formatDateTime(lang, r.updated_at) },
            {
              key: 'actions',
              title: '',
              render: (_: unknown, r: RuleView) => (
                <Space size={4}>
                  <Button size="small" icon={<EditOutlined />} onClick={() => setEditing(r)} aria-label={t('rules.editNamed', { name: r.name })} data-testid="edit-rule">
                    {phone ? null : t('rules.edit')}
                  </Button>
                  <Button size="small" danger icon={<DeleteOutlined />} onClick={() => remove(r)} aria-label={t('rules.deleteNamed', { name: r.name })} data-testid="delete-rule" />
                </Space>
              ),
            },
          ]}
        />
      </div>
      {editing ? (
        <RuleEditor
          rule={editing === 'new' ? null : editing}
          taken={(rules ?? []).map((r) => r.name)}
          onClose={() => setEditing(null)}
          onSaved={(saved) => {
            setEditing(null);
            void message.success(t('rules.saved', { name: ruleLabel(saved, lang) }));
            void load();
          }}
        />
      ) : null}
    </Card>
  );
}

function RuleEditor({ rule, taken, onClose, onSaved }: { rule: RuleView | null; taken: string[]; onClose: () => void; onSaved: (rule: RuleView) => void }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { types, byName } = useTypes();
  const [form] = Form.useForm<RuleForm>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [roles, setRoles] = useState<{ name: string; label: string }[]>([]);
  const [models, setModels] = useState<string[]>([]);
  const eventLabel = useEventLabel();
  const typeName = Form.useWatch('type', form);
  const actions = Form.useWatch('actions', form);
  // The document as it would be sent, for those who keep rules as files or use the API.
  const preview = Form.useWatch((values: RuleForm) => (values.name === undefined ? '' : JSON.stringify(ruleOf(values), null, 2)), form);
  const def = typeName ? byName(typeName) : undefined;
  const initial = useMemo(() => ruleFormOf(rule ?? undefined), [rule]);

  useEffect(() => {
    void api.GET('/api/v1/admin/roles').then(({ data }) =>
      setRoles((data ?? []).map((r) => ({ name: r.name, label: (lang === 'en' ? r.labels?.en : r.labels?.['zh-CN']) || r.name }))),
    );
    void api.GET('/api/v1/decisions').then(({ data }) => setModels((data?.items ?? []).map((m) => m.name)));
  }, [lang]);

  // Server reasons are English; in Chinese the kind of problem leads, the reason (names,
  // the FEEL parser's words) follows so nothing is lost.
  const errorText = useCallback(
    (e: FieldError) => {
      const isFeel = e.code === 'invalid_format' && (e.pointer === '/condition' || /\/(set|inputs)\/[^/]+$/.test(e.pointer));
      if (lang === 'en') return isFeel ? `${t('rules.feelError')}: ${e.reason}` : e.reason;
      if (!isFeel && !i18n.exists(`fieldError.${e.code}`)) return e.reason;
      const kind = isFeel ? t('rules.feelError') : t(`fieldError.${e.code}` as 'fieldError.required').replace(/。$/, '');
      return `${kind}：${e.reason}`;
    },
    [lang, i18n, t],
  );

  const save = async (values: RuleForm) => {
    const body = ruleOf({ ...values, enabled: values.enabled ?? true });
    setBusy(true);
    setError(null);
    const { data, error: problem, response } = await api.PUT('/api/v1/admin/rules/{name}', { params: { path: { name: body.name } }, body });
    setBusy(false);
    if (data) return onSaved(data);
    const p = asProblem(problem as Problem | undefined, response.status);
    if (p.status === 422 && p.errors?.length) {
      const { fields, other } = problemsOf(p, values, errorText);
      form.setFields(fields.map((f) => ({ name: f.name as never, errors: f.errors })));
      if (fields.length) form.scrollToField(fields[0].name as never, { block: 'center' });
      setError(other.length ? `${t('record.invalid')} ${other.join('; ')}` : t('record.invalid'));
    } else setError(p.detail ?? p.title);
  };

  const typeOptions = types.map((d) => ({ value: d.name, label: `${labelOf(d.label, lang)} (${d.name})` }));
  const fieldOptions = settableFields(def).map((f) => ({ value: f.name, label: `${labelOf(f.label, lang)} (${f.name})` }));
  const recipientLabel = (to: string) => {
    if (to.startsWith('role:')) {
      const name = to.slice(5);
      return t('rules.role', { name: roles.find((r) => r.name === name)?.label ?? name });
    }
    const person = (on: typeof def, name: string) => {
      const field = on?.fields.find((f) => f.name === name);
      return field
        ? labelOf(field.label, lang)
        : t(`rules.recipient.${name}` as 'rules.recipient.owner', { defaultValue: name });
    };
    const [reference, name] = to.split('.');
    if (name) {
      const field = def?.fields.find((f) => f.name === reference);
      const target = types.find((d) => d.name === field?.target);
      return `${field ? labelOf(field.label, lang) : reference} → ${person(target, name)}`;
    }
    return person(def, to);
  };
  const recipients = recipientsOf(
    def,
    roles.map((r) => r.name),
    types,
  ).map((to) => ({ value: to, label: `${recipientLabel(to)} (${to})` }));
  const transitionOptions = (def?.transitions ?? []).map((x) => {
    const needsInputs = x.inputs.some((i) => i.required);
    return {
      value: x.name,
      label: `${labelOf(x.label, lang)} (${x.name})${needsInputs ? ` · ${t('rules.needsInputs')}` : ''}`,
      disabled: needsInputs,
    };
  });
  const required = { required: true, message: t('fieldError.required') };
  const feel = (placeholder: string) => <Input className="weft-mono" placeholder={placeholder} autoComplete="off" spellCheck={false} />;

  return (
    <Drawer
      open
      onClose={onClose}
      width="min(900px, 100vw)"
      title={rule ? t('rules.editTitle', { name: ruleLabel(rule, lang) }) : t('rules.new')}
      className="weft-rule-editor"
      destroyOnClose
      footer={
        <Space wrap style={{ justifyContent: 'flex-end', width: '100%' }}>
          <Button onClick={onClose}>{t('record.cancel')}</Button>
          <Button type="primary" loading={busy} onClick={() => form.submit()} data-testid="save-rule">
            {t('record.save')}
          </Button>
        </Space>
      }
    >
      {error ? <Alert role="alert" type="error" showIcon message={error} style={{ marginBottom: 12 }} data-testid="rule-problems" /> : null}
      <Form form={form} layout="vertical" name="rule" initialValues={initial} onFinish={(v) => void save(v)}>
        <div className="weft-form-grid">
          <Form.Item
            name="name"
            label={t('rules.name')}
            extra={rule ? undefined : t('rules.nameHelp')}
            rules={[
              required,
              { pattern: RULE_NAME, message: t('rules.nameRule') },
              { validator: async (_, v?: string) => (!rule && v && taken.includes(v.trim()) ? Promise.reject(new Error(t('rules.nameTaken'))) : undefined) },
            ]}
          >
            <Input disabled={!!rule} autoComplete="off" className="weft-mono" />
          </Form.Item>
          <Form.Item name="type" label={t('rules.type')} rules={[required]}>
            <Select
              showSearch
              optionFilterProp="label"
              options={typeOptions}
              onChange={(name: string) => form.setFieldValue('on', retype(form.getFieldsValue(true) as RuleForm, byName(name)).on)}
            />
          </Form.Item>
          <Form.Item name="label_zh" label={t('rules.labelZh')}>
            <Input />
          </Form.Item>
          <Form.Item name="label_en" label={t('rules.labelEn')}>
            <Input />
          </Form.Item>
        </div>
        <Form.Item name="on" label={t('rules.events')} rules={[{ required: true, type: 'array', min: 1, message: t('rules.eventsRequired') }]}>
          <Checkbox.Group options={eventsOf(def).map((e) => ({ value: e, label: eventLabel(e, def) }))} />
        </Form.Item>
        <Form.Item name="condition" label={t('rules.condition')} extra={t('rules.conditionHelp')}>
          <Input.TextArea className="weft-mono" autoSize={{ minRows: 2, maxRows: 8 }} placeholder='quantity > 10 and priority = "high"' spellCheck={false} />
        </Form.Item>
        {def ? (
          <details className="weft-rule-fields">
            <summary>{t('rules.fieldsOf', { type: labelOf(def.label, lang), count: def.fields.length })}</summary>
            <ul>
              {def.fields.map((f) => (
                <li key={f.name}>
                  <code>{f.name}</code> {labelOf(f.label, lang)}
                </li>
              ))}
            </ul>
          </details>
        ) : null}
        <Form.Item name="enabled" valuePropName="checked" label={t('rules.enabled')}>
          <Switch />
        </Form.Item>

        <Typography.Title level={5}>{t('rules.actions')}</Typography.Title>
        <Typography.Paragraph type="secondary">{t('rules.actionsHelp')}</Typography.Paragraph>
        <Form.List
          name="actions"
          rules={[{ validator: async (_, list?: unknown[]) => (list?.length ? undefined : Promise.reject(new Error(t('rules.actionsRequired')))) }]}
        >
          {(items, { add, remove, move }, { errors }) => (
            <>
              {items.map(({ key, name }, index) => {
                const kind = actions?.[name]?.kind as ActionKind | undefined;
                return (
                  <section key={key} className="weft-rule-action" data-testid="rule-action" data-kind={kind}>
                    <div className="weft-rule-action-head">
                      <span className="weft-rule-action-no">{index + 1}</span>
                      <Form.Item name={[name, 'kind']} rules={[required]} className="weft-rule-action-kind">
                        <Select
                          aria-label={t('rules.actionKind')}
                          options={ACTION_KINDS.map((k) => ({ value: k, label: t(`rules.kind.${k}`) }))}
                          onChange={(k: ActionKind) => form.setFieldValue(['actions', name], newAction(k))}
                        />
                      </Form.Item>
                      <Space size={0} className="weft-rule-action-tools">
                        <Button type="text" size="small" icon={<ArrowUpOutlined />} disabled={index === 0} onClick={() => move(index, index - 1)} aria-label={t('rules.moveUp')} />
                        <Button type="text" size="small" icon={<ArrowDownOutlined />} disabled={index === items.length - 1} onClick={() => move(index, index + 1)} aria-label={t('rules.moveDown')} />
                        <Button type="text" size="small" danger icon={<DeleteOutlined />} onClick={() => remove(name)} aria-label={t('rules.removeAction', { n: index + 1 })} />
                      </Space>
                    </div>
                    {kind === 'set' ? (
                      <Form.List name={[name, 'set']}>
                        {(rows, rowOps) => (
                          <>
                            {rows.map((row) => (
                              <div key={row.key} className="weft-rule-row" data-testid="set-row">
                                <Form.Item name={[row.name, 'field']} label={t('rules.setField')} rules={[required]}>
                                  <Select showSearch optionFilterProp="label" options={fieldOptions} />
                                </Form.Item>
                                <Form.Item name={[row.name, 'value']} label={t('rules.setValue')} rules={[required]}>
                                  {feel('"high"')}
                                </Form.Item>
                                <Button type="text" danger icon={<MinusCircleOutlined />} onClick={() => rowOps.remove(row.name)} aria-label={t('rules.removeRow')} />
                              </div>
                            ))}
                            <Button type="dashed" size="small" icon={<PlusOutlined />} onClick={() => rowOps.add({})}>
                              {t('rules.addSet')}
                            </Button>
                          </>
                        )}
                      </Form.List>
                    ) : null}
                    {kind === 'decide' ? (
                      <>
                        <Form.Item name={[name, 'decision']} label={t('rules.decision')} extra={t('rules.decisionHelp')} rules={[required]}>
                          <AutoComplete options={models.map((m) => ({ value: m }))} filterOption className="weft-mono" />
                        </Form.Item>
                        <Typography.Text type="secondary">{t('rules.inputs')}</Typography.Text>
                        <Form.List name={[name, 'inputs']}>
                          {(rows, rowOps) => (
                            <>
                              {rows.map((row) => (
                                <div key={row.key} className="weft-rule-row">
                                  <Form.Item name={[row.name, 'name']} label={t('rules.inputName')} rules={[required]}>
                                    <Input className="weft-mono" autoComplete="off" />
                                  </Form.Item>
                                  <Form.Item name={[row.name, 'value']} label={t('rules.inputValue')} rules={[required]}>
                                    {feel('amount.amount')}
                                  </Form.Item>
                                  <Button type="text" danger icon={<MinusCircleOutlined />} onClick={() => rowOps.remove(row.name)} aria-label={t('rules.removeRow')} />
                                </div>
                              ))}
                              <Button type="dashed" size="small" icon={<PlusOutlined />} onClick={() => rowOps.add({})}>
                                {t('rules.addInput')}
                              </Button>
                            </>
                          )}
                        </Form.List>
                        <div style={{ marginTop: 12 }}>
                          <Typography.Text type="secondary">{t('rules.outputs')}</Typography.Text>
                        </div>
                        <Form.List name={[name, 'outputs']}>
                          {(rows, rowOps) => (
                            <>
                              {rows.map((row) => (
                                <div key={row.key} className="weft-rule-row">
                                  <Form.Item name={[row.name, 'field']} label={t('rules.setField')} rules={[required]}>
                                    <Select showSearch optionFilterProp="label" options={fieldOptions} />
                                  </Form.Item>
                                  <Form.Item name={[row.name, 'output']} label={t('rules.outputName')} rules={[required]}>
                                    <Input className="weft-mono" autoComplete="off" />
                                  </Form.Item>
                                  <Button type="text" danger icon={<MinusCircleOutlined />} onClick={() => rowOps.remove(row.name)} aria-label={t('rules.removeRow')} />
                                </div>
                              ))}
                              <Button type="dashed" size="small" icon={<PlusOutlined />} onClick={() => rowOps.add({})}>
                                {t('rules.addOutput')}
                              </Button>
                            </>
                          )}
                        </Form.List>
                      </>
                    ) : null}
                    {kind === 'transition' ? (
                      <Form.Item name={[name, 'transition']} label={t('rules.transition')} extra={t('rules.transitionHelp')} rules={[required]}>
                        <Select options={transitionOptions} notFoundContent={t('rules.noTransitions')} />
                      </Form.Item>
                    ) : null}
                    {kind === 'alert' ? (
                      <>
                        <Form.Item name={[name, 'to']} label={t('rules.to')} extra={t('rules.toHelp')} rules={[{ ...required, type: 'array', min: 1 }]}>
                          <Select mode="tags" options={recipients} tokenSeparators={[',', ' ']} />
                        </Form.Item>
                        <div className="weft-form-grid">
                          <Form.Item name={[name, 'summary_zh']} label={t('rules.summaryZh')}>
                            <Input />
                          </Form.Item>
                          <Form.Item name={[name, 'summary_en']} label={t('rules.summaryEn')}>
                            <Input />
                          </Form.Item>
                        </div>
                      </>
                    ) : null}
                  </section>
                );
              })}
              <Space wrap>
                {ACTION_KINDS.map((k) => (
                  <Button key={k} type="dashed" icon={<PlusOutlined />} onClick={() => add(newAction(k))} data-testid={`add-${k}`}>
                    {t(`rules.kind.${k}`)}
                  </Button>
                ))}
              </Space>
              <Form.ErrorList errors={errors} />
            </>
          )}
        </Form.List>
      </Form>
      <details className="weft-rule-json">
        <summary>{t('rules.json')}</summary>
        <pre className="weft-json" data-testid="rule-json">{preview}</pre>
      </details>
    </Drawer>
  );
}
