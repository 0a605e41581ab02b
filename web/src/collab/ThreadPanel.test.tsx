import { renderToStaticMarkup } from 'react-dom/server';
import { I18nextProvider } from 'react-i18next';
import { beforeAll, describe, expect, it } from 'vitest';
import { changeLang, i18n, initI18n } from '../i18n';
import { SessionProvider } from '../auth/session';
import { MessageItem, type Message, type MessageActions } from './ThreadPanel';

const base: Message = {
  id: '00000000-0000-0000-0000-000000000001',
  thread: '00000000-0000-0000-0000-0000000000aa',
  seq: 1,
  author: '00000000-0000-0000-0000-0000000000bb',
  visibility: 'internal',
  mentions: [],
  records: [],
  version: 1,
  created_at: '2026-03-14T01:30:00Z',
  reactions: [],
  attachments: [],
  body: 'hello <b>there</b>',
};
const names = new Map([[base.author, 'Li Wei']]);

function render(m: Message, actions?: MessageActions, parent?: Message) {
  return renderToStaticMarkup(
    <I18nextProvider i18n={i18n}>
      <SessionProvider>
        <MessageItem m={m} names={names} actions={actions} parent={parent} />
      </SessionProvider>
    </I18nextProvider>,
  );
}

beforeAll(() => {
  initI18n();
  changeLang('en');
});

describe('MessageItem', () => {
  it('shows author, visibility and the body as text (never HTML)', () => {
    const html = render(base);
    expect(html).toContain('Li Wei');
    expect(html).toContain('Internal');
    expect(html).toContain('data-visibility="internal"');
    expect(html).toContain('hello &lt;b&gt;there&lt;/b&gt;');
  });
  it('marks edits and deletions; a deleted message shows no body or files', () => {
    expect(render({ ...base, visibility: 'shared', edited_at: '2026-03-14T02:00:00Z' })).toMatch(/Shared.*\(edited\)/);
    const gone = render({
      ...base,
      body: null,
      deleted_at: '2026-03-14T03:00:00Z',
      attachments: [{ id: 'f1', filename: 'a.pdf', content_type: 'application/pdf', size: 10, visibility: 'internal', type: 't', record: 'r', uploaded_by: 'u', uploaded_at: 'x', sha256: 's', thumbnail: false }],
    });
    expect(gone).toContain('This message was deleted.');
    expect(gone).not.toContain('a.pdf');
  });
  it('links files to their content; images as thumbnails', () => {
    const file = { visibility: 'internal' as const, type: 't', record: 'r', uploaded_by: 'u', uploaded_at: 'x', sha256: 's' };
    const html = render({
      ...base,
      attachments: [
        { ...file, id: 'f1', filename: 'spec.pdf', content_type: 'application/pdf', size: 2048, thumbnail: false },
        { ...file, id: 'f2', filename: 'photo.png', content_type: 'image/png', size: 10, thumbnail: true },
      ],
    });
    expect(html).toContain('href="/api/v1/attachments/f1/content"');
    expect(html).toContain('spec.pdf');
    expect(html).toContain('2.0 KB');
    expect(html).toMatch(/<img src="\/api\/v1\/attachments\/f2\/thumbnail" alt="photo.png"/);
    expect(html).toContain('href="/api/v1/attachments/f2/content"');
  });
});

const noop = () => undefined;
const actionsOf = (me: string, isAdmin = false): MessageActions => ({
  me,
  isAdmin,
  onReply: noop,
  onEdit: async () => true,
  onDelete: noop,
  onReact: noop,
});

describe('MessageItem actions', () => {
  it('without actions the message is only shown', () => {
    expect(render(base)).not.toContain('data-testid="reply"');
  });
  it('its author may edit and delete; everyone may reply and react', () => {
    const own = render(base, actionsOf(base.author));
    for (const id of ['react', 'reply', 'edit-message', 'delete-message']) expect(own).toContain(`data-testid="${id}"`);
    const other = render(base, actionsOf('someone-else'));
    expect(other).toContain('data-testid="reply"');
    expect(other).not.toContain('data-testid="edit-message"');
    expect(other).not.toContain('data-testid="delete-message"');
    // An administrator deletes (moderation) but does not edit another's words.
    const admin = render(base, actionsOf('admin-id', true));
    expect(admin).toContain('data-testid="delete-message"');
    expect(admin).not.toContain('data-testid="edit-message"');
    // A deleted message offers nothing.
    expect(render({ ...base, body: null, deleted_at: '2026-03-14T03:00:00Z' }, actionsOf(base.author))).not.toContain('data-testid="reply"');
  });
  it('shows reactions with counts, pressed when the reader reacted, and names who', () => {
    const html = render({ ...base, reactions: [{ emoji: '👍', by: [base.author, 'x'] }, { emoji: '🎉', by: ['x'] }] }, actionsOf(base.author));
    expect(html).toMatch(/aria-pressed="true"[^>]*title="👍 by Li Wei, x"/);
    expect(html).toMatch(/aria-pressed="false"[^>]*title="🎉 by x"/);
    expect(html.replace(/<[^>]+>/g, '')).toMatch(/👍\s*2/);
  });
  it('says which message it answers', () => {
    const reply = { ...base, id: 'r1', reply_to: base.id, body: 'agreed' };
    expect(render(reply, actionsOf('x'), base)).toContain('In reply to Li Wei: hello &lt;b&gt;there&lt;/b&gt;');
    changeLang('zh');
    expect(render(reply, actionsOf('x'), base)).toContain('回复 Li Wei');
    changeLang('en');
  });
});
