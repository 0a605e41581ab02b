// Org units: the department tree (archived units on request), and the chosen unit's
// details: rename (name, code), move under another unit, manager, archive or restore, and
// its members (add as primary or secondary, make primary, remove). The server keeps the
// tree's invariants (no cycles, a manager is an active member, every member has one
// primary unit, an archived unit has no members or active children) and says which.
import { PlusOutlined } from '@ant-design/icons';
import { Alert, App, Button, Card, Checkbox, Empty, Form, Input, Modal, Select, Space, Table, Tag, Tree, TreeSelect, Typography } from 'antd';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type Principal, type Problem, type Schemas } from '../api/client';
import { fieldErrors } from '../api/problem';
import { descendantsOf, flatten, treeData, type UnitNode } from './orgTree';

type UnitDetail = Schemas['UnitDetail'];

interface UnitForm {
  name: string;
  code?: string;
  parent?: string | null;
  manager?: string | null;
}

/** The top-level choice in a parent picker (a value TreeSelect can hold). */
const TOP = '__top__';

export default function OrgAdmin({ people }: { people: Principal[] }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [tree, setTree] = useState<UnitNode[]>([]);
  const [archived, setArchived] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const [detail, setDetail] = useState<UnitDetail | null>(null);
  const [creating, setCreating] = useState<{ parent: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [createForm] = Form.useForm<UnitForm>();
  const [unitForm] = Form.useForm<UnitForm>();
  const [memberForm] = Form.useForm<{ principal?: string; primary?: boolean }>();

  const loadTree = useCallback(
    () =>
      void api
        .GET('/api/v1/org/units', { params: { query: { include_archived: archived } } })
        .then(({ data }) => setTree((data?.items ?? []) as UnitNode[])),
    [archived],
  );
  useEffect(loadTree, [loadTree]);

  const loadDetail = useCallback(
    (id: string | null) => {
      if (!id) return setDetail(null);
      void api.GET('/api/v1/org/units/{id}', { params: { path: { id } } }).then(({ data }) => {
        setDetail(data ?? null);
        if (data)
          unitForm.setFieldsValue({ name: data.name, code: data.code ?? undefined, parent: data.parent ?? TOP, manager: data.manager ?? null });
      });
    },
    [unitForm],
  );
  useEffect(() => loadDetail(selected), [selected, loadDetail]);

  const refresh = () => {
    loadTree();
    loadDetail(selected);
  };

  const members = useMemo(() => people.filter((p) => p.kind === 'member' && p.status === 'active'), [people]);
  const nameOf = (id: string | null | undefined) => (id ? (people.find((p) => p.id === id)?.display_name ?? id.slice(0, 8)) : '');
  const memberOptions = members.map((p) => ({ value: p.id, label: `${p.display_name} (${p.login})` }));
  const units = useMemo(() => flatten(tree), [tree]);

  /** The parent choices for `unit`: never itself or a unit below it. */
  const parentOptions = (unit: string | null) => {
    const excluded = unit ? descendantsOf(tree, unit) : new Set<string>();
    return [{ value: TOP, title: t('org.topLevel') }, ...treeData(tree, excluded, true)];
  };

  /** A refusal: every field problem at its field, the rest in one message. */
  const refused = (problem: Problem | undefined, form: ReturnType<typeof Form.useForm<UnitForm>>[0]) => {
    if (!problem) return setError(t('org.failed', { detail: '' }));
    const known = (n: string) => ['name', 'code', 'parent', 'manager', 'principal', 'unit'].includes(n);
    const { fields, other } = fieldErrors(problem, known);
    form.setFields(fields.map((f) => ({ name: f.name[0] as never, errors: f.errors })));
    if (other.length || !fields.length) setError(t('org.failed', { detail: other.join('; ') || problem.detail || problem.title }));
  };

  const create = async () => {
    const v = await createForm.validateFields().catch(() => null);
    if (!v) return;
    setBusy(true);
    setError(null);
    const { data, error: problem } = await api.POST('/api/v1/admin/org/units', {
      body: { name: v.name, code: v.code?.trim() || undefined, parent: v.parent && v.parent !== TOP ? v.parent : undefined, manager: v.manager ?? undefined },
    });
    setBusy(false);
    if (!data) return refused(problem as Problem, createForm);
    setCreating(null);
    void message.success(t('org.created', { name: data.name }));
    loadTree();
    setSelected(data.id);
  };

  /** Saves what changed of the selected unit: name/code, parent, manager (each its own call). */
  const save = async () => {
    if (!detail) return;
    const v = await unitForm.validateFields().catch(() => null);
    if (!v) return;
    setError(null);
    setBusy(true);
    const id = detail.id;
    const code = v.code?.trim() || null;
    let ok = true;
    if (v.name !== detail.name || code !== (detail.code ?? null)) {
      const { error: problem } = await api.PATCH('/api/v1/admin/org/units/{id}', { params: { path: { id } }, body: { name: v.name, code } });
      if (problem) ok = (refused(problem as Problem, unitForm), false);
    }
    const parent = v.parent === TOP ? null : (v.parent ?? null);
    if (ok && parent !== (detail.parent ?? null)) {
      const { error: problem } = await api.PUT('/api/v1/admin/org/units/{id}/parent', { params: { path: { id } }, body: { parent } });
      if (problem) ok = (refused(problem as Problem, unitForm), false);
    }
    const manager = v.manager ?? null;
    if (ok && manager !== (detail.manager ?? null)) {
      const { error: problem } = await api.PUT('/api/v1/admin/org/units/{id}/manager', { params: { path: { id } }, body: { manager } });
      if (problem) ok = (refused(problem as Problem, unitForm), false);
    }
    setBusy(false);
    if (ok) void message.success(t('org.saved', { name: v.name }));
    refresh();
  };

  const archive = async (restore: boolean) => {
    if (!detail) return;
    setError(null);
    const path = restore ? '/api/v1/admin/org/units/{id}/restore' : '/api/v1/admin/org/units/{id}/archive';
    const { error: problem } = await api.POST(path, { params: { path: { id: detail.id } } });
    if (problem) setError(t('org.failed', { detail: (problem as Problem).detail ?? (problem as Problem).title }));
    if (!restore && !problem && !archived) setSelected(null);
    refresh();
  };

  const addMember = async () => {
    if (!detail) return;
    const v = await memberForm.validateFields().catch(() => null);
    if (!v?.principal) return;
    setError(null);
    const { error: problem } = await api.POST('/api/v1/admin/org/units/{id}/members', {
      params: { path: { id: detail.id } },
      body: { principal: v.principal, primary: !!v.primary },
    });
    if (problem) {
      const p = problem as Problem;
      memberForm.setFields([{ name: 'principal', errors: [p.errors?.[0]?.reason ?? p.detail ?? p.title] }]);
      return;
    }
    memberForm.resetFields();
    void message.success(t('org.memberAdded', { name: nameOf(v.principal) }));
    refresh();
  };

  const removeMember = async (principal: string) => {
    if (!detail) return;
    const { error: problem } = await api.DELETE('/api/v1/admin/org/units/{id}/members/{principal}', {
      params: { path: { id: detail.id, principal } },
    });
    if (problem) setError(t('org.failed', { detail: (problem as Problem).detail ?? (problem as Problem).title }));
    refresh();
  };

  const makePrimary = async (principal: string) => {
    if (!detail) return;
    const { error: problem } = await api.PUT('/api/v1/admin/org/principals/{id}/primary-unit', {
      params: { path: { id: principal } },
      body: { unit: detail.id },
    });
    if (problem) setError(t('org.failed', { detail: (problem as Problem).detail ?? (problem as Problem).title }));
    refresh();
  };

  const openCreate = (parent: string | null) => {
    setError(null);
    createForm.resetFields();
    createForm.setFieldsValue({ parent: parent ?? TOP });
    setCreating({ parent });
  };

  const inUnit = new Set((detail?.members ?? []).map((m) => m.principal));
  return (
    <Card
      title={t('org.title')}
      size="small"
      data-testid="org"
      extra={
        <Space wrap>
          <Checkbox checked={archived} onChange={(e) => setArchived(e.target.checked)}>
            {t('org.showArchived')}
          </Checkbox>
          <Button icon={<PlusOutlined />} onClick={() => openCreate(null)} data-testid="new-unit">
            {t('org.new')}
          </Button>
        </Space>
      }
    >
      {error ? <Alert role="alert" type="error" showIcon message={error} closable onClose={() => setError(null)} style={{ marginBottom: 12 }} /> : null}
      <div className="weft-org">
        <nav className="weft-org-tree" aria-label={t('org.tree')}>
          {units.length ? (
            <Tree
              blockNode
              defaultExpandAll
              key={units.length}
              selectedKeys={selected ? [selected] : []}
              onSelect={(keys) => setSelected((keys[0] as string) ?? null)}
              treeData={treeData(tree, new Set(), false, (u) => (
                <span className={u.archived ? 'weft-unit-archived' : undefined} data-unit={u.name}>
                  {u.name}
                  {u.code ? <Typography.Text type="secondary"> · {u.code}</Typography.Text> : null}
                  {u.member_count ? <Tag style={{ marginLeft: 6 }}>{u.member_count}</Tag> : null}
                  {u.archived ? <Tag>{t('org.archived')}</Tag> : null}
                </span>
              ))}
            />
          ) : (
            <Empty description={t('org.empty')} />
          )}
        </nav>
        <section className="weft-org-detail" aria-label={t('org.details')}>
          {detail ? (
            <>
              <Typography.Title level={4} style={{ marginTop: 0 }}>
                {detail.path.map((p) => p.name).concat(detail.name).join(' / ')}
                {detail.archived ? <Tag style={{ marginLeft: 8 }}>{t('org.archived')}</Tag> : null}
              </Typography.Title>
              <Form form={unitForm} layout="vertical" name="unit" disabled={detail.archived}>
                <div className="weft-form-grid">
                  <Form.Item name="name" label={t('org.name')} rules={[{ required: true, message: t('fieldError.required') }]}>
                    <Input />
                  </Form.Item>
                  <Form.Item name="code" label={t('org.code')}>
                    <Input placeholder="FIN" />
                  </Form.Item>
                  <Form.Item name="parent" label={t('org.parent')}>
                    <TreeSelect treeDefaultExpandAll treeData={parentOptions(detail.id)} />
                  </Form.Item>
                  <Form.Item
                    name="manager"
                    label={t('org.manager')}
                    extra={!detail.manager && detail.effective_manager ? t('org.inheritedManager', { name: nameOf(detail.effective_manager) }) : undefined}
                  >
                    <Select allowClear showSearch optionFilterProp="label" options={memberOptions} placeholder={t('org.noManager')} />
                  </Form.Item>
                </div>
                <Space wrap>
                  <Button type="primary" onClick={() => void save()} loading={busy} data-testid="save-unit">
                    {t('record.save')}
                  </Button>
                  <Button onClick={() => openCreate(detail.id)} disabled={detail.archived}>
                    {t('org.newChild')}
                  </Button>
                </Space>
              </Form>
              <Space style={{ marginTop: 8 }}>
                {detail.archived ? (
                  <Button onClick={() => void archive(true)}>{t('org.restore')}</Button>
                ) : (
                  <Button danger onClick={() => void archive(false)}>
                    {t('org.archive')}
                  </Button>
                )}
              </Space>

              <Typography.Title level={5} style={{ marginTop: 20 }}>
                {t('org.members')}
              </Typography.Title>
              {detail.archived ? null : (
                <Form form={memberForm} layout="inline" name="member" className="weft-member-add">
                  <Form.Item name="principal" rules={[{ required: true, message: t('fieldError.required') }]}>
                    <Select
                      showSearch
                      optionFilterProp="label"
                      placeholder={t('org.pickPerson')}
                      aria-label={t('org.pickPerson')}
                      options={memberOptions.filter((o) => !inUnit.has(o.value))}
                      style={{ minWidth: 220 }}
                    />
                  </Form.Item>
                  <Form.Item name="primary" valuePropName="checked">
                    <Checkbox>{t('org.primary')}</Checkbox>
                  </Form.Item>
                  <Button icon={<PlusOutlined />} onClick={() => void addMember()} data-testid="add-member">
                    {t('org.addMember')}
                  </Button>
                </Form>
              )}
              <Table
                rowKey="principal"
                size="small"
                pagination={false}
                dataSource={detail.members}
                scroll={{ x: 'max-content' }}
                style={{ marginTop: 8 }}
                locale={{ emptyText: t('org.noMembers') }}
                columns={[
                  {
                    key: 'name',
                    title: t('admin.name'),
                    render: (_, m) => (
                      <Space size={4} wrap>
                        {m.display_name ?? m.principal.slice(0, 8)}
                        {detail.manager === m.principal ? <Tag color="gold">{t('org.manager')}</Tag> : null}
                      </Space>
                    ),
                  },
                  {
                    key: 'primary',
                    title: t('org.membership'),
                    render: (_, m) => (m.primary ? <Tag color="blue">{t('org.primary')}</Tag> : <Tag>{t('org.secondary')}</Tag>),
                  },
                  { key: 'status', title: t('admin.status'), render: (_, m) => m.status ?? '' },
                  {
                    key: 'actions',
                    title: '',
                    render: (_, m) => (
                      <Space size={4} wrap>
                        {m.primary ? null : (
                          <Button size="small" onClick={() => void makePrimary(m.principal)}>
                            {t('org.makePrimary')}
                          </Button>
                        )}
                        <Button size="small" danger onClick={() => void removeMember(m.principal)} aria-label={t('org.removeMember', { name: m.display_name ?? '' })}>
                          {t('org.remove')}
                        </Button>
                      </Space>
                    ),
                  },
                ]}
              />
            </>
          ) : (
            <Empty description={t('org.pick')} />
          )}
        </section>
      </div>
      <Modal
        open={!!creating}
        title={t('org.new')}
        onCancel={() => setCreating(null)}
        onOk={() => void create()}
        okText={t('org.create')}
        cancelText={t('record.cancel')}
        confirmLoading={busy}
        destroyOnClose
      >
        <Form form={createForm} layout="vertical" name="new-unit">
          <Form.Item name="name" label={t('org.name')} rules={[{ required: true, message: t('fieldError.required') }]}>
            <Input autoFocus />
          </Form.Item>
          <Form.Item name="code" label={t('org.code')} extra={t('org.codeHelp')}>
            <Input placeholder="FIN" />
          </Form.Item>
          <Form.Item name="parent" label={t('org.parent')}>
            <TreeSelect treeDefaultExpandAll treeData={parentOptions(null)} />
          </Form.Item>
          <Form.Item name="manager" label={t('org.manager')}>
            <Select allowClear showSearch optionFilterProp="label" options={memberOptions} />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}
