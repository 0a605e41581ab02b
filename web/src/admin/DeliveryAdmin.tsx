// Delivery outward, for administrators (`/admin/delivery`): the IM robots (WeCom, DingTalk,
// Feishu, Slack) that report a channel or an object type's records — add, edit, delete —
// and the dead letters: e-mails and cards that failed for good, replayed once the cause is
// fixed. The webhook's key and the secret are never shown back: editing leaves them empty,
// meaning "keep". On a phone each table keeps its first column, which then says what the
// hidden ones would, and its buttons: nothing to scroll sideways for.
import { DeleteOutlined, EditOutlined, PlusOutlined, RedoOutlined } from '@ant-design/icons';
import { Alert, App, Button, Card, Checkbox, Form, Grid, Input, Modal, Radio, Select, Space, Switch, Table, Tag, Typography } from 'antd';
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, asProblem, type Schemas } from '../api/client';
import { formatDateTime } from '../format';
import { useTypes } from '../meta/context';
import { labelOf } from '../meta/fields';
import { useFieldErrorText } from '../pages/transition';
import {
  newRobotBody,
  robotForm,
  robotPatch,
  robotProblems,
  ROBOT_EVENTS,
  ROBOT_KINDS,
  signs,
  type DeadLetter,
  type Robot,
  type RobotForm,
} from '../delivery/delivery';

type Channel = Schemas['ChannelView'];

export default function DeliveryAdmin() {
  return (
    <div className="weft-delivery-admin">
      <Robots />
      <DeadLetters />
    </div>
  );
}

function Robots() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { message, modal } = App.useApp();
  const { types } = useTypes();
  const [robots, setRobots] = useState<Robot[] | null>(null);
  const [channels, setChannels] = useState<Channel[]>([]);
  const [error, setError] = useState<string | null>(null);
  // The robot being edited, or `new`.
  const [editing, setEditing] = useState<Robot | 'new' | null>(null);

  const load = useCallback(async () => {
    const { data, error: problem, response } = await api.GET('/api/v1/admin/robots');
    if (data) {
      setRobots(data.items);
      setError(null);
    } else setError(asProblem(problem, response.status).detail ?? response.statusText);
  }, []);
  useEffect(() => {
    void load();
    void api.GET('/api/v1/admin/channels').then(({ data }) => setChannels(data ?? []));
  }, [load]);

  const typeLabel = (name: string) => {
    const def = types.find((x) => x.name === name);
    return def ? labelOf(def.pluralLabel, lang) : name;
  };
  const channelName = (id: string) => channels.find((c) => c.id === id)?.name ?? id.slice(0, 8);
  const phone = Grid.useBreakpoint().md === false;
  const kindLabel = (k: string) => t(`delivery.kinds.${k}` as 'delivery.kinds.wecom');
  const sourceOf = (r: Robot) => (r.channel ? `# ${channelName(r.channel)}` : typeLabel(r.type ?? ''));
  const eventsOf = (events: string[]) =>
    events.map((e) => t(`delivery.event.${e.replace('.', '_')}` as 'delivery.event.message_posted')).join('、');

  const remove = (robot: Robot) =>
    modal.confirm({
      title: t('delivery.deleteConfirm', { name: robot.name }),
      okText: t('delivery.delete'),
      okButtonProps: { danger: true },
      cancelText: t('record.cancel'),
      onOk: async () => {
        const { error: problem, response } = await api.DELETE('/api/v1/admin/robots/{id}', { params: { path: { id: robot.id } } });
        if (response.ok) {
          void message.success(t('delivery.deleted', { name: robot.name }));
          await load();
        } else void message.error(asProblem(problem, response.status).detail ?? response.statusText);
      },
    });

  return (
    <Card
      size="small"
      title={t('delivery.robots')}
      extra={
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="new-robot">
          {t('delivery.newRobot')}
        </Button>
      }
      style={{ marginBottom: 16 }}
      data-testid="robots"
    >
      <Typography.Paragraph type="secondary">{t('delivery.robotsIntro')}</Typography.Paragraph>
      {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} /> : null}
      <div className="weft-table-scroll">
        <Table<Robot>
          rowKey="id"
          size="small"
          loading={robots === null}
          dataSource={robots ?? []}
          pagination={false}
          locale={{ emptyText: t('delivery.noRobots') }}
          onRow={(r) => ({ 'data-robot': r.name }) as React.HTMLAttributes<HTMLElement>}
          columns={[
            {
              key: 'name',
              dataIndex: 'name',
              title: t('delivery.name'),
              className: 'weft-wrap',
              render: (name: string, r: Robot) =>
                phone ? (
                  <>
                    <strong>{name}</strong> <Tag>{kindLabel(r.kind)}</Tag>
                    <div className="weft-cell-more">
                      {sourceOf(r)} · {eventsOf(r.events)}
                    </div>
                  </>
                ) : (
                  name
                ),
            },
            { key: 'kind', dataIndex: 'kind', title: t('delivery.kind'), responsive: ['md'], render: (k: string) => <Tag>{kindLabel(k)}</Tag> },
            { key: 'source', title: t('delivery.source'), responsive: ['md'], render: (_: unknown, r: Robot) => sourceOf(r) },
            { key: 'events', dataIndex: 'events', title: t('delivery.events'), responsive: ['md'], render: (events: string[]) => eventsOf(events) },
            { key: 'endpoint', dataIndex: 'endpoint', title: t('delivery.endpoint'), responsive: ['md'], render: (e: string) => <span className="weft-mono">{e}</span> },
            {
              key: 'flags',
              responsive: ['md'],
              title: t('delivery.flags'),
              render: (_: unknown, r: Robot) => (
                <Space size={4} wrap>
                  <Tag>{r.language === 'en' ? 'English' : '中文'}</Tag>
                  {r.has_secret ? <Tag color="green">{t('delivery.signed')}</Tag> : null}
                  {r.include_internal ? <Tag color="orange">{t('delivery.internal')}</Tag> : null}
                </Space>
              ),
            },
            {
              key: 'actions',
              title: '',
              render: (_: unknown, r: Robot) => (
                <Space size={4}>
                  <Button size="small" icon={<EditOutlined />} onClick={() => setEditing(r)} aria-label={t('delivery.editNamed', { name: r.name })} data-testid="edit-robot">
                    {t('delivery.edit')}
                  </Button>
                  <Button size="small" danger icon={<DeleteOutlined />} onClick={() => remove(r)} aria-label={t('delivery.deleteNamed', { name: r.name })} data-testid="delete-robot" />
                </Space>
              ),
            },
          ]}
        />
      </div>
      {editing ? (
        <RobotDialog
          robot={editing === 'new' ? null : editing}
          channels={channels}
          typeOptions={types.map((x) => ({ value: x.name, label: `${labelOf(x.pluralLabel, lang)} (${x.name})` }))}
          onClose={() => setEditing(null)}
          onSaved={(saved) => {
            setEditing(null);
            void message.success(t('delivery.saved', { name: saved.name }));
            void load();
          }}
        />
      ) : null}
    </Card>
  );
}

function RobotDialog({
  robot,
  channels,
  typeOptions,
  onClose,
  onSaved,
}: {
  robot: Robot | null;
  channels: Channel[];
  typeOptions: { value: string; label: string }[];
  onClose: () => void;
  onSaved: (robot: Robot) => void;
}) {
  const { t } = useTranslation();
  const [form] = Form.useForm<RobotForm>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const errorText = useFieldErrorText();
  const kind = Form.useWatch('kind', form);
  const target = Form.useWatch('target', form);
  const removeSecret = Form.useWatch('removeSecret', form);
  const initial: RobotForm = robot
    ? robotForm(robot)
    : { name: '', kind: 'wecom', target: 'type', events: ['record.created', 'record.transitioned'], include_internal: false, language: 'zh' };

  const save = async (values: RobotForm) => {
    setBusy(true);
    setError(null);
    const v = { ...initial, ...values };
    const result = robot
      ? await api.PATCH('/api/v1/admin/robots/{id}', { params: { path: { id: robot.id } }, body: robotPatch(robot, v) })
      : await api.POST('/api/v1/admin/robots', { body: newRobotBody(v) });
    setBusy(false);
    if (result.data) {
      onSaved(result.data);
      return;
    }
    const p = asProblem(result.error, result.response.status);
    if (p.status === 422 && p.errors?.length) {
      const { fields, other } = robotProblems(p, v.target, errorText);
      form.setFields(fields.map((f) => ({ name: f.name as keyof RobotForm, errors: f.errors })));
      setError(other.length ? `${t('record.invalid')} ${other.join('; ')}` : t('record.invalid'));
    } else setError(p.detail ?? p.title);
  };

  const eventOptions = ROBOT_EVENTS.map((e) => ({
    value: e,
    label: t(`delivery.event.${e.replace('.', '_')}` as 'delivery.event.message_posted'),
    disabled: target === 'channel' && e !== 'message.posted',
  }));

  return (
    <Modal
      open
      title={robot ? t('delivery.editTitle', { name: robot.name }) : t('delivery.newRobot')}
      okText={t('record.save')}
      cancelText={t('record.cancel')}
      okButtonProps={{ loading: busy, ...({ 'data-testid': 'save-robot' } as Record<string, string>) }}
      onOk={() => form.submit()}
      onCancel={onClose}
      destroyOnClose
      width={640}
    >
      {error ? <Alert role="alert" type="error" showIcon message={error} style={{ marginBottom: 12 }} /> : null}
      <Form form={form} layout="vertical" name="robot" initialValues={initial} onFinish={(v) => void save(v)}>
        <Form.Item name="name" label={t('delivery.name')} rules={[{ required: true, whitespace: true, message: t('fieldError.required') }]}>
          <Input maxLength={100} />
        </Form.Item>
        <Form.Item name="kind" label={t('delivery.kind')}>
          <Radio.Group
            disabled={!!robot}
            optionType="button"
            options={ROBOT_KINDS.map((k) => ({ value: k, label: t(`delivery.kinds.${k}`) }))}
          />
        </Form.Item>
        <Form.Item
          name="url"
          label={t('delivery.url')}
          extra={robot ? t('delivery.urlKeep', { endpoint: robot.endpoint }) : t('delivery.urlHelp')}
          rules={robot ? undefined : [{ required: true, message: t('fieldError.required') }]}
        >
          <Input className="weft-mono" autoComplete="off" placeholder="https://" />
        </Form.Item>
        {signs(kind) ? (
          <>
            <Form.Item
              name="secret"
              label={t('delivery.secret')}
              extra={robot?.has_secret ? t('delivery.secretKeep') : t('delivery.secretHelp')}
            >
              <Input.Password autoComplete="new-password" disabled={!!removeSecret} />
            </Form.Item>
            {robot?.has_secret ? (
              <Form.Item name="removeSecret" valuePropName="checked" style={{ marginTop: -12 }}>
                <Checkbox>{t('delivery.removeSecret')}</Checkbox>
              </Form.Item>
            ) : null}
          </>
        ) : null}
        <Form.Item name="target" label={t('delivery.source')}>
          <Radio.Group
            disabled={!!robot}
            options={[
              { value: 'type', label: t('delivery.sourceType') },
              { value: 'channel', label: t('delivery.sourceChannel') },
            ]}
          />
        </Form.Item>
        {target === 'channel' ? (
          <Form.Item name="channel" label={t('delivery.channel')} rules={[{ required: true, message: t('fieldError.required') }]}>
            <Select disabled={!!robot} showSearch optionFilterProp="label" options={channels.map((c) => ({ value: c.id, label: c.name }))} />
          </Form.Item>
        ) : (
          <Form.Item name="type" label={t('delivery.type')} rules={[{ required: true, message: t('fieldError.required') }]}>
            <Select disabled={!!robot} showSearch optionFilterProp="label" options={typeOptions} />
          </Form.Item>
        )}
        <Form.Item name="events" label={t('delivery.events')} rules={[{ required: true, message: t('fieldError.required') }]}>
          <Checkbox.Group options={eventOptions} />
        </Form.Item>
        <div className="weft-flags">
          <Form.Item name="language" label={t('delivery.language')}>
            <Radio.Group
              optionType="button"
              options={[
                { value: 'zh', label: '中文' },
                { value: 'en', label: 'English' },
              ]}
            />
          </Form.Item>
          <Form.Item name="include_internal" label={t('delivery.includeInternal')} valuePropName="checked" extra={t('delivery.includeInternalHelp')}>
            <Switch />
          </Form.Item>
        </div>
      </Form>
    </Modal>
  );
}

function DeadLetters() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { message } = App.useApp();
  const [letters, setLetters] = useState<DeadLetter[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [replaying, setReplaying] = useState<string | null>(null);
  const phone = Grid.useBreakpoint().md === false;
  const viaLabel = (c: string) => t(`delivery.via_${c}` as 'delivery.via_robot');

  const load = useCallback(async () => {
    const { data, error: problem, response } = await api.GET('/api/v1/admin/dead-letters', { params: { query: { limit: 200 } } });
    if (data) {
      setLetters(data.items);
      setError(null);
    } else setError(asProblem(problem, response.status).detail ?? response.statusText);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const replay = async (letter: DeadLetter) => {
    setReplaying(letter.id);
    const { error: problem, response } = await api.POST('/api/v1/admin/dead-letters/{id}/replay', { params: { path: { id: letter.id } } });
    setReplaying(null);
    if (response.ok) void message.success(t('delivery.replayed', { title: letter.title || letter.target_name }));
    else void message.error(asProblem(problem, response.status).detail ?? response.statusText);
    await load();
  };

  return (
    <Card
      size="small"
      title={t('delivery.deadLetters')}
      extra={<Button onClick={() => void load()}>{t('delivery.refresh')}</Button>}
      data-testid="dead-letters"
    >
      <Typography.Paragraph type="secondary">{t('delivery.deadIntro')}</Typography.Paragraph>
      {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} /> : null}
      <div className="weft-table-scroll">
        <Table<DeadLetter>
          rowKey="id"
          size="small"
          loading={letters === null}
          dataSource={letters ?? []}
          pagination={false}
          locale={{ emptyText: t('delivery.noDead') }}
          onRow={(r) => ({ 'data-dead-letter': r.id }) as React.HTMLAttributes<HTMLElement>}
          columns={[
            { key: 'channel', dataIndex: 'channel', title: t('delivery.via'), responsive: ['md'], render: (c: string) => <Tag>{viaLabel(c)}</Tag> },
            { key: 'target', dataIndex: 'target_name', title: t('delivery.to'), responsive: ['md'] },
            {
              key: 'what',
              title: t('delivery.what'),
              className: 'weft-wrap',
              render: (_: unknown, r: DeadLetter) => (
                <div className="weft-dead-what">
                  <strong>{r.title}</strong>
                  {r.headline ? <div>{r.headline}</div> : null}
                  {phone ? (
                    <div className="weft-cell-more">
                      <Tag>{viaLabel(r.channel)}</Tag> {r.target_name} · {formatDateTime(lang, r.updated_at)}
                      <div className="weft-dead-error">
                        {t('delivery.attempts')} {r.attempts} · {r.last_error ?? '—'}
                      </div>
                    </div>
                  ) : null}
                </div>
              ),
            },
            { key: 'attempts', dataIndex: 'attempts', title: t('delivery.attempts'), align: 'right' as const, responsive: ['md'] },
            {
              key: 'error',
              dataIndex: 'last_error',
              title: t('delivery.lastError'),
              responsive: ['md'],
              render: (e?: string | null) => <span className="weft-dead-error">{e ?? '—'}</span>,
            },
            { key: 'at', dataIndex: 'updated_at', title: t('delivery.failedAt'), responsive: ['md'], render: (v: string) => formatDateTime(lang, v) },
            {
              key: 'replay',
              title: '',
              render: (_: unknown, r: DeadLetter) => (
                <Button size="small" icon={<RedoOutlined />} loading={replaying === r.id} onClick={() => void replay(r)} data-testid="replay">
                  {t('delivery.replay')}
                </Button>
              ),
            },
          ]}
        />
      </div>
    </Card>
  );
}
