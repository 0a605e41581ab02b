// A record's thread: messages oldest first, and a composer with internal/shared, @-mentions
// and files (by button or drag-and-drop: uploaded first, then posted with the message).
// Each message can be replied to and reacted to; its author edits it (with the version
// read, a conflict reloads) and deletes it (so may an administrator; a tombstone stays).
import { DeleteOutlined, EditOutlined, EnterOutlined, PaperClipOutlined, SendOutlined, SmileOutlined } from '@ant-design/icons';
import { Alert, App, Button, Dropdown, Empty, Input, Mentions, Segmented, Skeleton, Space, Tag, Typography } from 'antd';
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, asProblem, type Schemas } from '../api/client';
import { useSession } from '../auth/session';
import { PrincipalName } from '../fields/people';
import { formatDateTime } from '../format';
import { mentionedIds, mergePeople, type Person } from './mentions';
import { usePeople } from './people';

export type Message = Schemas['MessageView'];
export type Attachment = Schemas['AttachmentView'];
type Visibility = Schemas['MessageVisibility'];

export const contentUrl = (id: string) => `/api/v1/attachments/${encodeURIComponent(id)}/content`;
export const thumbnailUrl = (id: string) => `/api/v1/attachments/${encodeURIComponent(id)}/thumbnail`;

function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** The whole thread, page by page. */
export async function loadThread(type: string, id: string): Promise<Message[]> {
  const out: Message[] = [];
  let after = 0;
  for (let i = 0; i < 20; i++) {
    const { data } = await api.GET('/api/v1/records/{type}/{id}/thread', { params: { path: { type, id }, query: { after, limit: 200 } } });
    if (!data) break;
    out.push(...data.messages);
    if (data.next_after === null || data.next_after === undefined) break;
    after = data.next_after;
  }
  return out;
}

function AttachmentLink({ a }: { a: Attachment }) {
  const url = contentUrl(a.id);
  // Pictures show their small server-made thumbnail; the link opens the file itself.
  if (a.thumbnail) {
    return (
      <a href={url} target="_blank" rel="noreferrer" className="weft-attachment weft-attachment-image" title={`${a.filename} · ${size(a.size)}`}>
        <img src={thumbnailUrl(a.id)} alt={a.filename} loading="lazy" />
      </a>
    );
  }
  return (
    <a href={url} target="_blank" rel="noreferrer" className="weft-attachment">
      <PaperClipOutlined /> {a.filename} <Typography.Text type="secondary">({size(a.size)})</Typography.Text>
    </a>
  );
}

/** The reactions offered in the picker (any short emoji or code is accepted by the server). */
export const REACTIONS = ['👍', '❤️', '🎉', '😄', '👀', '✅'];

/** What a message's reader may do with it; absent: the message is only shown. */
export interface MessageActions {
  me?: string;
  isAdmin: boolean;
  onReply: (m: Message) => void;
  /** Saves a new body; resolves false when it was not saved (the reason is shown). */
  onEdit: (m: Message, body: string) => Promise<boolean>;
  onDelete: (m: Message) => void;
  onReact: (m: Message, emoji: string, add: boolean) => void;
}

function MessageTools({ m, actions, onEditing }: { m: Message; actions: MessageActions; onEditing: () => void }) {
  const { t } = useTranslation();
  const mine = !!actions.me && m.author === actions.me;
  return (
    <Space size={2} className="weft-message-tools" aria-label={t('thread.messageActions')}>
      <Dropdown
        trigger={['click']}
        menu={{
          items: REACTIONS.map((e) => ({ key: e, label: <span aria-label={t('thread.reactWith', { emoji: e })}>{e}</span> })),
          onClick: ({ key }) => actions.onReact(m, key, true),
        }}
      >
        <Button size="small" type="text" icon={<SmileOutlined />} aria-label={t('thread.react')} title={t('thread.react')} data-testid="react" />
      </Dropdown>
      <Button size="small" type="text" icon={<EnterOutlined />} onClick={() => actions.onReply(m)} data-testid="reply">
        {t('thread.reply')}
      </Button>
      {mine ? (
        <Button size="small" type="text" icon={<EditOutlined />} onClick={onEditing} data-testid="edit-message">
          {t('thread.editMessage')}
        </Button>
      ) : null}
      {mine || actions.isAdmin ? (
        <Button size="small" type="text" danger icon={<DeleteOutlined />} onClick={() => actions.onDelete(m)} data-testid="delete-message">
          {t('thread.deleteMessage')}
        </Button>
      ) : null}
    </Space>
  );
}

export function MessageItem({
  m,
  names,
  actions,
  parent,
}: {
  m: Message;
  names: Map<string, string>;
  actions?: MessageActions;
  /** The message this one replies to, when it is in the thread. */
  parent?: Message;
}) {
  const { t, i18n } = useTranslation();
  const deleted = !!m.deleted_at;
  const [editing, setEditing] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const nameOf = (id: string, fallback?: string | null) => names.get(id) ?? fallback ?? id.slice(0, 8);
  return (
    <li className={`weft-message weft-message-${m.visibility}`} data-testid="message" data-visibility={m.visibility} data-message={m.id}>
      <div className="weft-message-head">
        <strong className="weft-message-author">{names.get(m.author) ?? m.author_name ?? <PrincipalName id={m.author} />}</strong>
        <Typography.Text type="secondary" className="weft-message-time">
          {formatDateTime(i18n.language, m.created_at)}
        </Typography.Text>
        <Tag color={m.visibility === 'internal' ? 'orange' : 'green'} bordered={false}>
          {t(`thread.${m.visibility}`)}
        </Tag>
        {m.edited_at && !deleted ? <Typography.Text type="secondary">{t('thread.edited')}</Typography.Text> : null}
        {actions && !deleted && editing === null ? <MessageTools m={m} actions={actions} onEditing={() => setEditing(m.body ?? '')} /> : null}
      </div>
      {m.reply_to ? (
        <div className="weft-message-parent">
          <EnterOutlined rotate={180} />{' '}
          {parent
            ? `${t('thread.inReplyTo', { author: nameOf(parent.author, parent.author_name) })}: ${parent.deleted_at ? t('thread.deleted') : (parent.body ?? '').slice(0, 80)}`
            : t('thread.inReplyTo', { author: '…' })}
        </div>
      ) : null}
      {deleted ? (
        <Typography.Text type="secondary" italic>
          {t('thread.deleted')}
        </Typography.Text>
      ) : editing !== null && actions ? (
        <div className="weft-message-edit">
          <Input.TextArea
            value={editing}
            onChange={(e) => setEditing(e.target.value)}
            autoSize={{ minRows: 2, maxRows: 8 }}
            aria-label={t('thread.editMessage')}
            autoFocus
            data-testid="edit-body"
          />
          <Space style={{ marginTop: 4 }}>
            <Button
              type="primary"
              size="small"
              loading={saving}
              disabled={!editing.trim()}
              onClick={async () => {
                setSaving(true);
                const ok = await actions.onEdit(m, editing.trim());
                setSaving(false);
                if (ok) setEditing(null);
              }}
              data-testid="save-edit"
            >
              {t('thread.saveEdit')}
            </Button>
            <Button size="small" onClick={() => setEditing(null)}>
              {t('thread.cancelEdit')}
            </Button>
          </Space>
        </div>
      ) : (
        <div className="weft-message-body">{m.body}</div>
      )}
      {!deleted && m.reactions.length ? (
        <div className="weft-reactions">
          {m.reactions.map((r) => {
            const mineToo = !!actions?.me && r.by.includes(actions.me);
            const who = r.by.map((id) => nameOf(id)).join(', ');
            return (
              <Button
                key={r.emoji}
                size="small"
                shape="round"
                type={mineToo ? 'primary' : 'default'}
                ghost={mineToo}
                aria-pressed={mineToo}
                title={t('thread.reactedBy', { emoji: r.emoji, names: who })}
                aria-label={t('thread.reactedBy', { emoji: r.emoji, names: who })}
                disabled={!actions}
                onClick={() => actions?.onReact(m, r.emoji, !mineToo)}
                data-reaction={r.emoji}
              >
                {r.emoji} {r.by.length}
              </Button>
            );
          })}
        </div>
      ) : null}
      {!deleted && m.attachments.length ? (
        <div className="weft-message-files">
          {m.attachments.map((a) => (
            <AttachmentLink key={a.id} a={a} />
          ))}
        </div>
      ) : null}
    </li>
  );
}

export function ThreadPanel({ type, id, version }: { type: string; id: string; version: number }) {
  const { t } = useTranslation();
  const { isGuest, isAdmin, principal } = useSession();
  const { message, modal } = App.useApp();
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const directory = usePeople();
  const [messages, setMessages] = useState<Message[] | null>(null);
  const [body, setBody] = useState('');
  const [visibility, setVisibility] = useState<Visibility>(isGuest ? 'shared' : 'internal');
  const [files, setFiles] = useState<Attachment[]>([]);
  const [uploading, setUploading] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [dragging, setDragging] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);

  const refresh = useCallback(async () => {
    setMessages(await loadThread(type, id));
  }, [type, id]);
  // The record page passes its version: a live event that changed the record reloads both.
  useEffect(() => {
    void refresh();
  }, [refresh, version]);

  const names = useMemo(() => new Map(directory.map((p) => [p.id, p.name])), [directory]);
  // Guests and members outside the chart can still mention whoever is already in the thread
  // under a name they know.
  const people: Person[] = useMemo(
    () => mergePeople(directory, (messages ?? []).flatMap((m) => (names.has(m.author) ? [{ id: m.author, name: names.get(m.author)! }] : []))),
    [directory, messages, names],
  );

  const upload = async (list: FileList | File[]) => {
    setError(null);
    for (const file of Array.from(list)) {
      setUploading((n) => n + 1);
      const { data, error: problem, response } = await api.POST('/api/v1/records/{type}/{id}/attachments', {
        params: { path: { type, id }, query: { filename: file.name, visibility: isGuest ? 'shared' : visibility } },
        body: file as unknown as number[],
        bodySerializer: (b: unknown) => b as BodyInit,
        headers: { 'Content-Type': 'application/octet-stream' },
      });
      setUploading((n) => n - 1);
      if (data) setFiles((f) => [...f, data]);
      else {
        const p = asProblem(problem, response.status);
        setError(t(response.status === 413 ? 'thread.tooLarge' : 'thread.uploadFailed', { file: file.name, detail: p.detail ?? p.title }));
      }
    }
  };

  const post = async () => {
    if (!body.trim() && files.length === 0) return;
    setBusy(true);
    setError(null);
    const { data, error: problem, response } = await api.POST('/api/v1/records/{type}/{id}/thread', {
      params: { path: { type, id } },
      body: {
        body: body.trim() || files.map((f) => f.filename).join(', '),
        visibility: isGuest ? 'shared' : visibility,
        mentions: mentionedIds(body, people),
        attachments: files.map((f) => f.id),
        reply_to: replyTo?.id ?? null,
      },
    });
    setBusy(false);
    if (data) {
      setBody('');
      setFiles([]);
      setReplyTo(null);
      void message.success(t('thread.posted'));
      await refresh();
    } else {
      const p = asProblem(problem, response.status);
      setError(p.detail ?? p.title);
    }
  };

  // A message changed: replace it in place (reactions, edits), or reload the thread.
  const replace = (next: Message) => setMessages((list) => (list ?? []).map((x) => (x.id === next.id ? next : x)));
  const failed = (problem: unknown, status: number) => {
    const p = asProblem(problem, status);
    void message.error(t('thread.actionFailed', { detail: p.detail ?? p.title }));
  };
  const actions: MessageActions = {
    me: principal?.id,
    isAdmin,
    onReply: (m) => setReplyTo(m),
    onEdit: async (m, text) => {
      const { data, error: problem, response } = await api.PATCH('/api/v1/messages/{id}', {
        params: { path: { id: m.id } },
        // The version read: an edit made meanwhile is refused (412), not overwritten.
        headers: { 'If-Match': `"${m.version}"` },
        body: { body: text, mentions: mentionedIds(text, people), records: m.records },
      });
      if (data) {
        replace(data);
        return true;
      }
      if (response.status === 412) {
        void message.warning(t('thread.editConflict'));
        await refresh();
      } else failed(problem, response.status);
      return false;
    },
    onDelete: (m) =>
      modal.confirm({
        title: t('thread.deleteConfirm'),
        okText: t('thread.deleteMessage'),
        okButtonProps: { danger: true },
        cancelText: t('record.cancel'),
        onOk: async () => {
          const { error: problem, response } = await api.DELETE('/api/v1/messages/{id}', { params: { path: { id: m.id } } });
          if (problem) failed(problem, response.status);
          await refresh();
        },
      }),
    onReact: async (m, emoji, add) => {
      const params = { params: { path: { id: m.id, emoji } } };
      const { data, error: problem, response } = add
        ? await api.PUT('/api/v1/messages/{id}/reactions/{emoji}', params)
        : await api.DELETE('/api/v1/messages/{id}/reactions/{emoji}', params);
      if (data) replace(data);
      else failed(problem, response.status);
    },
  };
  const byId = useMemo(() => new Map((messages ?? []).map((m) => [m.id, m])), [messages]);

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    if (e.dataTransfer.files.length) void upload(e.dataTransfer.files);
  };

  return (
    <section className="weft-thread" aria-label={t('thread.title')}>
      <Typography.Title level={4}>{t('thread.title')}</Typography.Title>
      {messages === null ? (
        <Skeleton active />
      ) : messages.length === 0 ? (
        <Empty description={t('thread.empty')} image={Empty.PRESENTED_IMAGE_SIMPLE} />
      ) : (
        <ol className="weft-messages">
          {messages.map((m) => (
            <MessageItem key={m.id} m={m} names={names} actions={actions} parent={m.reply_to ? byId.get(m.reply_to) : undefined} />
          ))}
        </ol>
      )}
      <div
        className={`weft-composer${dragging ? ' weft-composer-drag' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        data-testid="composer"
      >
        {error ? <Alert role="alert" type="error" showIcon message={error} closable onClose={() => setError(null)} style={{ marginBottom: 8 }} /> : null}
        {replyTo ? (
          <div className="weft-replying" data-testid="replying">
            <EnterOutlined rotate={180} /> {t('thread.replyingTo', { author: names.get(replyTo.author) ?? replyTo.author_name ?? '' })}
            <Button size="small" type="link" onClick={() => setReplyTo(null)}>
              {t('thread.cancelReply')}
            </Button>
          </div>
        ) : null}
        <Mentions
          value={body}
          onChange={setBody}
          rows={3}
          prefix="@"
          placeholder={t('thread.placeholder')}
          aria-label={t('thread.placeholder')}
          options={people.map((p) => ({ value: p.name, key: p.id, label: p.name }))}
          data-testid="composer-input"
        />
        {files.length ? (
          <div className="weft-composer-files">
            {files.map((f) => (
              <Tag key={f.id} closable onClose={() => setFiles((l) => l.filter((x) => x.id !== f.id))} icon={<PaperClipOutlined />}>
                {f.filename}
              </Tag>
            ))}
          </div>
        ) : null}
        <div className="weft-composer-bar">
          {isGuest ? (
            <Typography.Text type="secondary">{t('thread.guestShared')}</Typography.Text>
          ) : (
            <Segmented
              value={visibility}
              onChange={(v) => setVisibility(v as Visibility)}
              options={[
                { value: 'internal', label: t('thread.internal') },
                { value: 'shared', label: t('thread.shared') },
              ]}
              aria-label={t('thread.visibility')}
            />
          )}
          <span className="weft-composer-hint">{t('thread.dropHint')}</span>
          <input
            ref={fileInput}
            type="file"
            multiple
            hidden
            data-testid="attach-input"
            onChange={(e) => {
              if (e.target.files?.length) void upload(e.target.files);
              e.target.value = '';
            }}
          />
          <Button icon={<PaperClipOutlined />} onClick={() => fileInput.current?.click()} loading={uploading > 0}>
            {t('thread.attach')}
          </Button>
          <Button type="primary" icon={<SendOutlined />} onClick={() => void post()} loading={busy} disabled={uploading > 0} data-testid="post">
            {t('thread.post')}
          </Button>
        </div>
      </div>
    </section>
  );
}
