// The inbox: to-dos (with inline approve/reject, and transfer, delegate, send back and add an
// approver under "more"), mentions and updates; mark read or done.
// It refreshes on the live `inbox` topic.
import { CheckOutlined, ClockCircleOutlined, DownOutlined } from '@ant-design/icons';
import { Alert, App, Badge, Button, Dropdown, Empty, Input, List, Modal, Skeleton, Tabs, Tag, Typography } from 'antd';
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api, asProblem, type Schemas } from '../api/client';
import { formatDateTime } from '../format';
import { useLive } from '../live/useLive';
import { useInboxCounts } from './inboxCounts';
import { TaskFormDialog } from './TaskForm';
import { TASK_OPS, TaskOpDialog, type TaskOp } from './TaskOps';

type Item = Schemas['InboxItemView'];
const KINDS = ['todo', 'mention', 'update'] as const;
type Kind = (typeof KINDS)[number];

export default function Inbox() {
  const { t } = useTranslation();
  const [kind, setKind] = useState<Kind>('todo');
  const counts = useInboxCounts();
  return (
    <div className="weft-page">
      <Typography.Title level={2}>{t('inbox.title')}</Typography.Title>
      <Tabs
        activeKey={kind}
        onChange={(k) => setKind(k as Kind)}
        items={KINDS.map((k) => ({
          key: k,
          label: (
            <span data-testid={`inbox-tab-${k}`}>
              {t(`inbox.${k}`)} <Badge count={counts?.open_by_kind?.[k] ?? 0} size="small" color={k === 'todo' && counts?.overdue ? 'red' : '#1f5fbf'} />
            </span>
          ),
          children: <InboxList kind={k} />,
        }))}
      />
    </div>
  );
}

function InboxList({ kind }: { kind: Kind }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { message } = App.useApp();
  const [items, setItems] = useState<Item[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [acting, setActing] = useState<{ item: Item; action: 'approve' | 'reject' } | null>(null);
  const [completing, setCompleting] = useState<Item | null>(null);
  const [operating, setOperating] = useState<{ item: Item; op: TaskOp } | null>(null);

  const load = useCallback(async () => {
    const { data, error: problem, response } = await api.GET('/api/v1/inbox', { params: { query: { kind, limit: 100 } } });
    if (data) {
      setItems(data.items);
      setError(null);
    } else setError(asProblem(problem, response.status).detail ?? response.statusText);
  }, [kind]);
  useEffect(() => {
    void load();
  }, [load]);
  useLive('inbox', () => void load());

  const mark = async (ids: string[], state: 'read' | 'done') => {
    const { error: problem, response } = await api.POST('/api/v1/inbox/mark', { body: { ids, state } });
    if (problem || !response.ok) setError(asProblem(problem, response.status).detail ?? response.statusText);
    await load();
  };

  if (error) return <Alert type="error" showIcon message={error} />;
  if (!items) return <Skeleton active />;
  if (!items.length) return <Empty description={t('inbox.empty')} image={Empty.PRESENTED_IMAGE_SIMPLE} />;
  return (
    <>
      <List
        dataSource={items}
        rowKey="id"
        renderItem={(item) => {
          const unread = item.state === 'unread';
          const href = item.type && item.record ? `/r/${item.type}/${item.record}` : null;
          return (
            <List.Item className={unread ? 'weft-inbox-unread' : undefined} data-testid="inbox-item" data-state={item.state}>
              <div className="weft-inbox-item">
                <div className="weft-inbox-item-main">
                  <div className="weft-inbox-summary">
                    {unread ? <Badge status="processing" /> : null} {href ? <Link to={href}>{item.summary}</Link> : item.summary}
                  </div>
                  <Typography.Text type="secondary">
                    {formatDateTime(lang, item.created_at)}
                    {item.due_at ? (
                      <>
                        {' · '}
                        <ClockCircleOutlined /> {t('inbox.due', { at: formatDateTime(lang, item.due_at) })}
                      </>
                    ) : null}
                  </Typography.Text>{' '}
                  {item.overdue ? <Tag color="red">{t('inbox.overdue')}</Tag> : null}
                  {unread ? <Tag color="blue">{t('inbox.unread')}</Tag> : null}
                </div>
                <div className="weft-inbox-actions">
                  {item.task ? (
                    <>
                      <Button type="primary" size="small" onClick={() => setActing({ item, action: 'approve' })}>
                        {t('inbox.approve')}
                      </Button>
                      <Button danger size="small" onClick={() => setActing({ item, action: 'reject' })}>
                        {t('inbox.reject')}
                      </Button>
                      <Button size="small" onClick={() => setCompleting(item)} data-testid="inbox-complete">
                        {t('inbox.fill')}
                      </Button>
                      <Dropdown
                        trigger={['click']}
                        menu={{
                          items: TASK_OPS.map((op) => ({ key: op, label: <span data-testid={`task-op-${op}`}>{t(`taskOps.${op}`)}</span> })),
                          onClick: ({ key }) => setOperating({ item, op: key as TaskOp }),
                        }}
                      >
                        <Button size="small" data-testid="inbox-more">
                          {t('taskOps.more')} <DownOutlined />
                        </Button>
                      </Dropdown>
                    </>
                  ) : null}
                  {unread ? (
                    <Button size="small" onClick={() => void mark([item.id], 'read')}>
                      {t('inbox.markRead')}
                    </Button>
                  ) : null}
                  {!item.task ? (
                    <Button size="small" icon={<CheckOutlined />} onClick={() => void mark([item.id], 'done')} data-testid="inbox-done">
                      {t('inbox.markDone')}
                    </Button>
                  ) : null}
                </div>
              </div>
            </List.Item>
          );
        }}
      />
      {acting ? (
        <TaskDialog
          item={acting.item}
          action={acting.action}
          onClose={() => setActing(null)}
          onDone={() => {
            void message.success(t(acting.action === 'approve' ? 'inbox.approved' : 'inbox.rejected'));
            setActing(null);
            void load();
          }}
        />
      ) : null}
      {operating?.item.task ? (
        <TaskOpDialog
          task={operating.item.task}
          op={operating.op}
          summary={operating.item.summary}
          onClose={() => setOperating(null)}
          onDone={() => {
            void message.success(t(`taskOps.${operating.op}Done`));
            setOperating(null);
            void load();
          }}
        />
      ) : null}
      {completing?.task ? (
        <TaskFormDialog
          task={completing.task}
          title={t('inbox.completeTitle', { summary: completing.summary })}
          onClose={() => setCompleting(null)}
          onDone={() => {
            void message.success(t('inbox.completed'));
            setCompleting(null);
            void load();
          }}
        />
      ) : null}
    </>
  );
}

function TaskDialog({ item, action, onClose, onDone }: { item: Item; action: 'approve' | 'reject'; onClose: () => void; onDone: () => void }) {
  const { t } = useTranslation();
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async () => {
    setBusy(true);
    const path = action === 'approve' ? '/api/v1/tasks/{id}/approve' : '/api/v1/tasks/{id}/reject';
    const { error: problem, response } = await api.POST(path, {
      params: { path: { id: item.task as string } },
      body: { comment: comment.trim() || null },
    });
    setBusy(false);
    if (response.ok) onDone();
    else setError(asProblem(problem, response.status).detail ?? response.statusText);
  };
  return (
    <Modal
      open
      title={t(action === 'approve' ? 'inbox.approveTitle' : 'inbox.rejectTitle', { summary: item.summary })}
      okText={t(action === 'approve' ? 'inbox.approve' : 'inbox.reject')}
      okButtonProps={{ danger: action === 'reject', loading: busy }}
      onOk={() => void submit()}
      onCancel={onClose}
    >
      {error ? <Alert role="alert" type="error" showIcon message={error} style={{ marginBottom: 12 }} /> : null}
      <Input.TextArea rows={3} value={comment} onChange={(e) => setComment(e.target.value)} placeholder={t('inbox.comment')} aria-label={t('inbox.comment')} />
    </Modal>
  );
}
