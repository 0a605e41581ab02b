// Administration: loaded only for administrators (a lazy chunk the router never
// requests for anyone else). One tab per area, each its own path (`/admin/types`):
// people and partner invitations, roles and grants, object types and fields, automation
// rules, org units, delivery outward (IM robots, dead letters).
import { Alert, Button, Card, Form, Input, Select, Table, Tabs, Tag, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useLocation, useNavigate } from 'react-router-dom';
import { api, type Principal } from '../api/client';
import { ReferencePicker } from '../fields/reference';
import DeliveryAdmin from './DeliveryAdmin';
import OrgAdmin from './OrgAdmin';
import RolesAdmin from './RolesAdmin';
import RulesAdmin from './RulesAdmin';
import TypesAdmin from './TypesAdmin';

const TABS = ['people', 'roles', 'types', 'rules', 'org', 'delivery'] as const;
type Tab = (typeof TABS)[number];

export default function AdminPage() {
  const { t } = useTranslation();
  const { i18n } = useTranslation();
  const [people, setPeople] = useState<Principal[]>([]);
  const [guestRoles, setGuestRoles] = useState<{ value: string; label: string }[]>([]);
  const [token, setToken] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [form] = Form.useForm();
  const location = useLocation();
  const navigate = useNavigate();
  const segment = location.pathname.replace(/^\/admin\/?/, '').split('/')[0];
  const tab: Tab = (TABS as readonly string[]).includes(segment) ? (segment as Tab) : 'people';

  const load = () => void api.GET('/api/v1/admin/principals').then(({ data }) => setPeople(data?.items ?? []));
  useEffect(load, []);
  useEffect(() => {
    void api.GET('/api/v1/admin/roles').then(({ data }) =>
      setGuestRoles(
        (data ?? [])
          .filter((r) => r.for_guests)
          .map((r) => ({ value: r.name, label: r.labels?.[i18n.language === 'en' ? 'en' : 'zh-CN'] ?? r.name })),
      ),
    );
  }, [i18n.language]);

  const invite = async (v: { login: string; display_name: string; party: string; roles?: string[] }) => {
    setError(null);
    const { data, error: problem } = await api.POST('/api/v1/admin/invitations', {
      body: { login: v.login, display_name: v.display_name, party: v.party, roles: v.roles?.length ? v.roles : undefined },
    });
    if (data) {
      setToken(data.token);
      form.resetFields();
      load();
    } else setError(problem?.detail ?? problem?.title ?? 'error');
  };

  const peopleTab = (
    <>
      <Card title={t('admin.invite')} size="small" style={{ marginBottom: 16 }}>
        {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} /> : null}
        {token ? (
          <Alert
            type="success"
            showIcon
            message={t('invitation.link')}
            description={
              <Typography.Text code copyable data-testid="invitation-link">
                {`${window.location.origin}/accept-invitation#token=${encodeURIComponent(token)}`}
              </Typography.Text>
            }
            style={{ marginBottom: 12 }}
          />
        ) : null}
        <Form form={form} layout="vertical" onFinish={(v) => void invite(v)} name="invite">
          <div className="weft-form-grid">
            <Form.Item name="login" label={t('admin.login')} rules={[{ required: true }]}>
              <Input autoComplete="off" />
            </Form.Item>
            <Form.Item name="display_name" label={t('admin.name')} rules={[{ required: true }]}>
              <Input />
            </Form.Item>
            <Form.Item name="party" label={t('admin.party')} rules={[{ required: true }]}>
              <ReferencePicker target="party" />
            </Form.Item>
            <Form.Item name="roles" label={t('admin.roles')}>
              <Select mode="multiple" allowClear options={guestRoles} placeholder="guest" />
            </Form.Item>
          </div>
          <Button type="primary" htmlType="submit">
            {t('admin.invite')}
          </Button>
        </Form>
      </Card>
      <Typography.Title level={4}>{t('admin.users')}</Typography.Title>
      <Table<Principal>
        rowKey="id"
        size="small"
        dataSource={people}
        pagination={false}
        scroll={{ x: 'max-content' }}
        columns={[
          { key: 'login', dataIndex: 'login', title: t('admin.login') },
          { key: 'name', dataIndex: 'display_name', title: t('admin.name') },
          {
            key: 'kind',
            dataIndex: 'kind',
            title: t('admin.kind'),
            render: (k: string) => <Tag>{t(`admin.kindName.${k}`, { defaultValue: k })}</Tag>,
          },
          {
            key: 'status',
            dataIndex: 'status',
            title: t('admin.status'),
            render: (s: string) => t(`admin.statusName.${s}`, { defaultValue: s }),
          },
          { key: 'roles', dataIndex: 'roles', title: t('admin.roles'), render: (r: string[]) => r.join(', ') },
        ]}
      />
    </>
  );

  return (
    <div className="weft-page">
      <Typography.Title level={2}>{t('admin.title')}</Typography.Title>
      <Tabs
        activeKey={tab}
        onChange={(key) => navigate(key === 'people' ? '/admin' : `/admin/${key}`)}
        destroyInactiveTabPane
        items={[
          { key: 'people', label: t('admin.users'), children: peopleTab },
          { key: 'roles', label: t('roles.title'), children: <RolesAdmin people={people} onPeopleChanged={load} /> },
          { key: 'types', label: t('admin.types'), children: <TypesAdmin /> },
          { key: 'rules', label: t('rules.title'), children: <RulesAdmin /> },
          { key: 'org', label: t('org.title'), children: <OrgAdmin people={people} /> },
          { key: 'delivery', label: t('delivery.tab'), children: <DeliveryAdmin /> },
        ]}
      />
    </div>
  );
}
