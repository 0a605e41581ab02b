// Roles and grants: every role with what it grants, an editor for a role's grants (type,
// actions, scope, optional FEEL condition), and who holds which roles. The server checks
// each role document as a whole (`PUT /admin/roles/{name}`: unknown types, actions or
// transitions, a condition that is not strict FEEL, a guest role reaching beyond `party`)
// and answers every problem with its pointer, shown here at its grant's field.
import { DeleteOutlined, EditOutlined, MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { Alert, App, Button, Card, Checkbox, Form, Input, Modal, Select, Space, Table, Tag, Typography } from 'antd';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type Principal, type Problem, type Schemas } from '../api/client';
import { fieldErrors } from '../api/problem';
import { useTypes } from '../meta/context';
import { labelOf } from '../meta/fields';

type Role = Schemas['RoleView'];
type Scope = Schemas['GrantScope'];

const SCOPES: Scope[] = ['own', 'unit', 'unit_tree', 'party', 'all'];
const BASE_ACTIONS = ['read', 'create', 'update', 'delete', 'export', 'comment', 'transition:*'];

interface RoleForm {
  name: string;
  label_zh?: string;
  label_en?: string;
  description?: string;
  for_guests: boolean;
  grants: { type: string; actions: string[]; scope: Scope; condition?: string }[];
}

/** A role's label in the page's language, else its name. */
export function roleLabel(role: Pick<Role, 'name' | 'labels'>, lang: string): string {
  const labels = role.labels ?? {};
  return (lang.startsWith('en') ? labels.en : labels['zh-CN']) || labels['zh-CN'] || labels.en || role.name;
}

/** The role document the form describes (field rules kept as they were: not edited here). */
export function roleOf(form: RoleForm, previous?: Role): Schemas['RoleDef'] {
  const labels: Record<string, string> = { ...(previous?.labels ?? {}) };
  if (form.label_zh?.trim()) labels['zh-CN'] = form.label_zh.trim();
  else delete labels['zh-CN'];
  if (form.label_en?.trim()) labels.en = form.label_en.trim();
  else delete labels.en;
  return {
    name: form.name.trim(),
    labels,
    description: form.description?.trim() ?? '',
    for_guests: form.for_guests,
    grants: (form.grants ?? []).map((g) => ({
      type: g.type,
      actions: g.actions ?? [],
      scope: g.scope,
      condition: g.condition?.trim() ? g.condition.trim() : null,
    })),
    field_rules: previous?.field_rules ?? [],
  };
}

export default function RolesAdmin({ people, onPeopleChanged }: { people: Principal[]; onPeopleChanged: () => void }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { message, modal } = App.useApp();
  const { types } = useTypes();
  const [roles, setRoles] = useState<Role[]>([]);
  const [editing, setEditing] = useState<{ role?: Role } | null>(null);
  const [holder, setHolder] = useState<Principal | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [form] = Form.useForm<RoleForm>();
  const [holderForm] = Form.useForm<{ roles: string[] }>();
  const guestRole = Form.useWatch('for_guests', form);
  const grants = Form.useWatch('grants', form);

  const load = useCallback(() => void api.GET('/api/v1/admin/roles').then(({ data }) => setRoles(data ?? [])), []);
  useEffect(load, [load]);

  const typeOptions = useMemo(
    () => [{ value: '*', label: t('roles.anyType') }, ...types.map((d) => ({ value: d.name, label: `${labelOf(d.label, lang)} (${d.name})` }))],
    [types, lang, t],
  );
  const actionOptions = (type: string | undefined) => {
    const transitions = types.find((d) => d.name === type)?.transitions ?? [];
    return [
      ...BASE_ACTIONS.map((a) => ({ value: a, label: t(`roles.action.${a.replace(':*', 'Any')}` as 'roles.action.read') })),
      ...transitions.map((x) => ({ value: `transition:${x.name}`, label: `${t('roles.transition')}: ${labelOf(x.label, lang)}` })),
      ...(guestRole ? [] : [{ value: 'admin', label: t('roles.action.admin') }]),
    ];
  };

  const open = (role?: Role) => {
    setError(null);
    form.resetFields();
    form.setFieldsValue(
      role
        ? {
            name: role.name,
            label_zh: role.labels?.['zh-CN'],
            label_en: role.labels?.en,
            description: role.description,
            for_guests: !!role.for_guests,
            grants: (role.grants ?? []).map((g) => ({ ...g, condition: g.condition ?? undefined })),
          }
        : { name: '', for_guests: false, grants: [{ type: types[0]?.name ?? '*', actions: ['read'], scope: 'all' }] },
    );
    setEditing({ role });
  };

  const save = async () => {
    const values = await form.validateFields().catch(() => null);
    if (!values) return;
    const body = roleOf(values, editing?.role);
    setBusy(true);
    setError(null);
    const { data, error: problem } = await api.PUT('/api/v1/admin/roles/{name}', { params: { path: { name: body.name } }, body });
    setBusy(false);
    if (data) {
      setEditing(null);
      load();
      void message.success(t('roles.saved', { name: roleLabel(data, lang) }));
      return;
    }
    showProblem(problem as Problem | undefined);
  };

  /** Each problem at its field (`/grants/0/type`), the rest above the form. */
  const showProblem = (problem: Problem | undefined) => {
    if (!problem) return setError(t('roles.failed', { detail: '' }));
    const known = (n: string) => ['name', 'grants', 'for_guests', 'description'].includes(n);
    const { fields, other } = fieldErrors(problem, known);
    form.setFields(fields.map((f) => ({ name: f.name as never, errors: f.errors })));
    setError(other.length || !fields.length ? t('roles.failed', { detail: other.join('; ') || problem.detail || problem.title }) : null);
  };

  const remove = (role: Role) =>
    modal.confirm({
      title: t('roles.deleteConfirm', { name: roleLabel(role, lang) }),
      okText: t('roles.delete'),
      okButtonProps: { danger: true },
      cancelText: t('record.cancel'),
      onOk: async () => {
        const { error: problem } = await api.DELETE('/api/v1/admin/roles/{name}', { params: { path: { name: role.name } } });
        if (problem) return void message.error(t('roles.failed', { detail: problem.detail ?? problem.title }));
        load();
        onPeopleChanged();
      },
    });

  const saveHolder = async () => {
    if (!holder) return;
    const { roles: chosen } = holderForm.getFieldsValue();
    const { data, error: problem } = await api.PUT('/api/v1/admin/principals/{id}/roles', {
      params: { path: { id: holder.id } },
      body: { roles: chosen ?? [] },
    });
    if (!data) {
      const at = problem?.errors?.[0];
      holderForm.setFields([{ name: 'roles', errors: [at?.reason ?? problem?.detail ?? problem?.title ?? ''] }]);
      return;
    }
    setHolder(null);
    onPeopleChanged();
    void message.success(t('roles.holderSaved', { name: data.display_name }));
  };

  return (
    <Card
      title={t('roles.title')}
      size="small"
      extra={
        <Button icon={<PlusOutlined />} onClick={() => open()} data-testid="new-role">
          {t('roles.new')}
        </Button>
      }
      data-testid="roles"
    >
      <Table<Role>
        rowKey="name"
        size="small"
        pagination={false}
        dataSource={roles}
        scroll={{ x: 'max-content' }}
        columns={[
          {
            key: 'name',
            title: t('roles.name'),
            render: (_, r) => (
              <Space size={4} wrap>
                <strong>{roleLabel(r, lang)}</strong>
                <Typography.Text type="secondary" code>
                  {r.name}
                </Typography.Text>
                {r.for_guests ? <Tag color="green">{t('roles.guest')}</Tag> : null}
                {r.builtin ? <Tag>{t('roles.builtin')}</Tag> : null}
              </Space>
            ),
          },
          {
            key: 'grants',
            title: t('roles.grants'),
            render: (_, r) => (
              <ul className="weft-grants">
                {(r.grants ?? []).map((g, i) => (
                  <li key={i}>
                    <code>{g.type}</code> · {g.actions.join(', ')} · {t(`roles.scope.${g.scope}`)}
                    {g.condition ? <> · <code>{g.condition}</code></> : null}
                  </li>
                ))}
              </ul>
            ),
          },
          {
            key: 'holders',
            title: t('roles.holders'),
            render: (_, r) => people.filter((p) => p.roles.includes(r.name)).length,
            align: 'right',
          },
          {
            key: 'actions',
            title: '',
            render: (_, r) => (
              <Space>
                <Button size="small" icon={<EditOutlined />} onClick={() => open(r)} aria-label={t('roles.edit', { name: r.name })} data-role={r.name}>
                  {t('roles.editShort')}
                </Button>
                {r.name !== 'admin' ? (
                  <Button size="small" danger icon={<DeleteOutlined />} onClick={() => remove(r)} aria-label={t('roles.delete') + ' ' + r.name} />
                ) : null}
              </Space>
            ),
          },
        ]}
      />
      <Typography.Title level={5} style={{ marginTop: 16 }}>
        {t('roles.whoHolds')}
      </Typography.Title>
      <Table<Principal>
        rowKey="id"
        size="small"
        pagination={false}
        dataSource={people}
        scroll={{ x: 'max-content' }}
        columns={[
          { key: 'name', dataIndex: 'display_name', title: t('admin.name') },
          { key: 'kind', dataIndex: 'kind', title: t('admin.kind'), render: (k: string) => <Tag>{k}</Tag> },
          {
            key: 'roles',
            title: t('admin.roles'),
            render: (_, p) => p.roles.map((name) => <Tag key={name}>{roleLabel(roles.find((r) => r.name === name) ?? { name }, lang)}</Tag>),
          },
          {
            key: 'edit',
            title: '',
            render: (_, p) => (
              <Button
                size="small"
                onClick={() => {
                  holderForm.setFieldsValue({ roles: p.roles });
                  setHolder(p);
                }}
                data-holder={p.login}
              >
                {t('roles.changeRoles')}
              </Button>
            ),
          },
        ]}
      />
      <Modal
        open={editing !== null}
        title={editing?.role ? t('roles.editTitle', { name: roleLabel(editing.role, lang) }) : t('roles.new')}
        onCancel={() => setEditing(null)}
        onOk={() => void save()}
        okText={t('record.save')}
        cancelText={t('record.cancel')}
        confirmLoading={busy}
        width={860}
        destroyOnClose
      >
        {error ? <Alert role="alert" type="error" showIcon message={error} style={{ marginBottom: 12 }} /> : null}
        <Form form={form} layout="vertical" name="role">
          <div className="weft-form-grid">
            <Form.Item name="name" label={t('roles.name')} rules={[{ required: true, pattern: /^[a-z][a-z0-9_]{0,62}$/, message: t('roles.nameRule') }]}>
              <Input disabled={!!editing?.role} autoComplete="off" />
            </Form.Item>
            <Form.Item name="label_zh" label={t('roles.labelZh')}>
              <Input />
            </Form.Item>
            <Form.Item name="label_en" label={t('roles.labelEn')}>
              <Input />
            </Form.Item>
            <Form.Item name="for_guests" valuePropName="checked" label=" ">
              <Checkbox disabled={!!editing?.role?.builtin}>{t('roles.forGuests')}</Checkbox>
            </Form.Item>
          </div>
          <Form.Item name="description" label={t('roles.description')}>
            <Input.TextArea autoSize={{ minRows: 1, maxRows: 3 }} />
          </Form.Item>
          <Typography.Text strong>{t('roles.grants')}</Typography.Text>
          <Form.List name="grants">
            {(items, { add, remove: drop }) => (
              <>
                {items.map(({ key, name }) => (
                  <div key={key} className="weft-grant-row" data-testid="grant-row">
                    <Form.Item name={[name, 'type']} label={t('roles.type')} rules={[{ required: true, message: t('fieldError.required') }]}>
                      <Select showSearch optionFilterProp="label" options={typeOptions} style={{ minWidth: 180 }} />
                    </Form.Item>
                    <Form.Item name={[name, 'actions']} label={t('roles.actions')} rules={[{ required: true, message: t('fieldError.required') }]}>
                      <Select mode="multiple" options={actionOptions(grants?.[name]?.type)} style={{ minWidth: 220 }} />
                    </Form.Item>
                    <Form.Item name={[name, 'scope']} label={t('roles.scopeLabel')} rules={[{ required: true, message: t('fieldError.required') }]}>
                      <Select
                        style={{ minWidth: 130 }}
                        options={SCOPES.filter((s) => !guestRole || s === 'party').map((s) => ({ value: s, label: t(`roles.scope.${s}`) }))}
                      />
                    </Form.Item>
                    <Form.Item name={[name, 'condition']} label={t('roles.condition')} extra={t('roles.conditionHelp')}>
                      <Input placeholder='amount < 10000' />
                    </Form.Item>
                    <Button type="text" danger icon={<MinusCircleOutlined />} onClick={() => drop(name)} aria-label={t('roles.removeGrant')} />
                  </div>
                ))}
                <Button
                  type="dashed"
                  icon={<PlusOutlined />}
                  onClick={() => add({ type: types[0]?.name ?? '*', actions: ['read'], scope: guestRole ? 'party' : 'all' })}
                  data-testid="add-grant"
                >
                  {t('roles.addGrant')}
                </Button>
              </>
            )}
          </Form.List>
          {editing?.role?.field_rules?.length ? (
            <Typography.Paragraph type="secondary" style={{ marginTop: 12 }}>
              {t('roles.fieldRulesKept', { count: editing.role.field_rules.length })}
            </Typography.Paragraph>
          ) : null}
        </Form>
      </Modal>
      <Modal
        open={holder !== null}
        title={t('roles.holderTitle', { name: holder?.display_name ?? '' })}
        onCancel={() => setHolder(null)}
        onOk={() => void saveHolder()}
        okText={t('record.save')}
        cancelText={t('record.cancel')}
        destroyOnClose
      >
        <Form form={holderForm} layout="vertical" name="holder">
          <Form.Item name="roles" label={t('admin.roles')} extra={holder?.kind === 'guest' ? t('roles.guestOnly') : undefined}>
            <Select
              mode="multiple"
              options={roles
                .filter((r) => (holder?.kind === 'guest' ? r.for_guests : !r.for_guests))
                .map((r) => ({ value: r.name, label: roleLabel(r, lang) }))}
            />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}
