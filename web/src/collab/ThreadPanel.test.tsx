import { renderToStaticMarkup } from 'react-dom/server';
import { I18nextProvider } from 'react-i18next';
import { beforeAll, describe, expect, it } from 'vitest';
import { changeLang, i18n, initI18n } from '../i18n';
import { SessionProvider } from '../auth/session';
import { MessageItem, type Message } from './ThreadPanel';

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

function render(m: Message) {
  return renderToStaticMarkup(
    <I18nextProvider i18n={i18n}>
      <SessionProvider>
        <MessageItem m={m} names={names} />
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
      attachments: [{ id: 'f1', filename: 'a.pdf', content_type: 'application/pdf', size: 10, visibility: 'internal', type: 't', record: 'r', uploaded_by: 'u', uploaded_at: 'x', sha256: 's' }],
    });
    expect(gone).toContain('This message was deleted.');
    expect(gone).not.toContain('a.pdf');
  });
  it('links files to their content; images as thumbnails', () => {
    const file = { visibility: 'internal' as const, type: 't', record: 'r', uploaded_by: 'u', uploaded_at: 'x', sha256: 's' };
    const html = render({
      ...base,
      attachments: [
        { ...file, id: 'f1', filename: 'spec.pdf', content_type: 'application/pdf', size: 2048 },
        { ...file, id: 'f2', filename: 'photo.png', content_type: 'image/png', size: 10 },
      ],
    });
    expect(html).toContain('href="/api/v1/attachments/f1/content"');
    expect(html).toContain('spec.pdf');
    expect(html).toContain('2.0 KB');
    expect(html).toMatch(/<img src="\/api\/v1\/attachments\/f2\/content" alt="photo.png"/);
  });
});
