// Starts a real Weft server for the browser tests: the `weft` binary built by cargo, a
// temporary data folder, an administrator, the web UI from `web/dist`, on a free port.
// Nothing outside the repository is needed but the binary and /usr/bin/chromium.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const webDir = resolve(here, '..');
const repo = resolve(webDir, '..');

export const ADMIN_PASSWORD = 'admin password for e2e';

const CHROMIUM = process.env.WEFT_CHROMIUM ?? '/usr/bin/chromium';

/** Debian's chromium, headless, with no network beyond 127.0.0.1 (without these flags it
 * keeps reaching for Google's hosts: updates, sync, QUIC probes). Its pages ask for reduced
 * motion, which the app honours by switching Ant Design's animations off: a click then never
 * lands on a dialog or menu still zooming in or fading out (clicks were lost that way). */
export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync',
    ],
  });
  const newContext = browser.newContext.bind(browser);
  browser.newContext = (options = {}) => newContext({ reducedMotion: 'reduce', ...options });
  const newPage = browser.newPage.bind(browser);
  browser.newPage = (options = {}) => newPage({ reducedMotion: 'reduce', ...options });
  return browser;
}

function weftBinary() {
  if (process.env.WEFT_BIN) return process.env.WEFT_BIN;
  const target = process.env.CARGO_TARGET_DIR ? resolve(repo, process.env.CARGO_TARGET_DIR) : join(repo, 'target');
  const bin = join(target, 'debug', 'weft');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`cargo build -p weft\` first (or set WEFT_BIN)`);
  return bin;
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

function run(bin, args, input) {
  const r = spawnSync(bin, args, { input, encoding: 'utf8', env: { ...process.env, RUST_LOG: 'warn' } });
  if (r.status !== 0) throw new Error(`weft ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

async function until(what, deadlineMs, probe) {
  const end = Date.now() + deadlineMs;
  let last;
  while (Date.now() < end) {
    try {
      if (await probe()) return;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
}

/** A signed-in API caller: session cookie plus CSRF token, like the browser. */
export class Caller {
  constructor(base, cookie, csrf, principal) {
    Object.assign(this, { base, cookie, csrf, principal });
  }

  static async signIn(base, login, password) {
    const r = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login, password }),
    });
    const body = await r.json();
    if (body.status !== 'signed_in') throw new Error(`sign-in of ${login}: ${r.status} ${JSON.stringify(body)}`);
    const cookie = r.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    return new Caller(base, cookie, body.csrf_token, body.principal);
  }

  async call(method, path, body, headers = {}) {
    const r = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        cookie: this.cookie,
        ...(method === 'GET' ? {} : { 'x-csrf-token': this.csrf }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    const json = text ? JSON.parse(text) : null;
    return { status: r.status, json, etag: r.headers.get('etag') };
  }

  async ok(method, path, body, headers) {
    const r = await this.call(method, path, body, headers);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  }
}

export async function startServer() {
  const bin = weftBinary();
  const dist = join(webDir, 'dist');
  if (!existsSync(join(dist, 'index.html'))) throw new Error('web/dist is missing: run `npm run build` first');
  const data = mkdtempSync(join(tmpdir(), 'weft-e2e-'));
  run(bin, ['--data', data, 'migrate']);
  run(bin, ['--data', data, 'user', 'create', '--login', 'admin', '--name', 'Admin', '--role', 'admin', '--password-stdin'], `${ADMIN_PASSWORD}\n`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(bin, ['--data', data, 'serve', '--bind', `127.0.0.1:${port}`], {
    env: { ...process.env, WEFT_SERVER__WEB_DIR: dist, WEFT_ATTACHMENTS__MAX_FILE_MB: '1', RUST_LOG: process.env.RUST_LOG ?? 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let exited = null;
  server.on('exit', (code) => (exited = code));
  await until('the server to be ready', 30_000, async () => {
    if (exited !== null) throw new Error(`weft serve exited with ${exited}`);
    return (await fetch(`${base}/readyz`)).ok;
  });
  const stop = async () => {
    if (exited === null) {
      server.kill('SIGTERM');
      await until('the server to stop', 10_000, async () => exited !== null).catch(() => server.kill('SIGKILL'));
    }
    rmSync(data, { recursive: true, force: true });
  };
  return { base, data, stop, admin: await Caller.signIn(base, 'admin', ADMIN_PASSWORD) };
}

const L = (en, zh) => ({ en, zh });

/** The fixture type: one field of every kind the kernel has, and a lifecycle with a
 * transition that asks for a reason and one guarded by a condition. */
export const FIXTURE_TYPE = {
  name: 'test_order',
  label: L('Test order', '测试订单'),
  plural_label: L('Test orders', '测试订单'),
  naming: { pattern: 'TO-{#####}' },
  title_field: 'title',
  party_field: 'customer',
  fields: [
    { name: 'title', label: L('Title', '标题'), type: 'text', required: true, indexed: true, max_length: 80 },
    { name: 'customer', label: L('Customer', '客户'), type: 'party', indexed: true },
    { name: 'amount', label: L('Amount', '金额'), type: 'money', currency: 'CNY', indexed: true },
    { name: 'quantity', label: L('Quantity', '数量'), type: 'integer', min: 0, indexed: true },
    { name: 'weight', label: L('Weight (kg)', '重量（千克）'), type: 'decimal', scale: 3 },
    { name: 'discount', label: L('Discount', '折扣'), type: 'percent' },
    { name: 'urgent', label: L('Urgent', '加急'), type: 'boolean' },
    { name: 'due', label: L('Due date', '交期'), type: 'date', indexed: true },
    { name: 'meeting', label: L('Meeting', '会议时间'), type: 'datetime' },
    { name: 'effort', label: L('Effort', '工时'), type: 'duration' },
    { name: 'contact_email', label: L('E-mail', '邮箱'), type: 'email' },
    { name: 'contact_phone', label: L('Phone', '电话'), type: 'phone' },
    { name: 'website', label: L('Website', '网站'), type: 'url' },
    {
      name: 'priority', label: L('Priority', '优先级'), type: 'select', indexed: true,
      options: [
        { value: 'low', label: L('Low', '低'), color: 'green' },
        { value: 'high', label: L('High', '高'), color: 'red' },
      ],
    },
    {
      name: 'tags', label: L('Tags', '标签'), type: 'multi_select',
      options: [
        { value: 'steel', label: L('Steel', '钢材') },
        { value: 'export', label: L('Export', '出口') },
        { value: 'sample', label: L('Sample', '样品') },
      ],
    },
    { name: 'related', label: L('Related order', '关联订单'), type: 'reference', target: 'test_order', on_delete: 'set_null' },
    { name: 'handler', label: L('Handler', '经办人'), type: 'principal' },
    { name: 'department', label: L('Department', '部门'), type: 'org_unit' },
    { name: 'notes', label: L('Notes', '备注'), type: 'long_text' },
    { name: 'description', label: L('Description', '描述'), type: 'rich_text' },
    {
      name: 'items', label: L('Items', '明细'), type: 'lines',
      fields: [
        { name: 'item', label: L('Item', '品名'), type: 'text', required: true },
        { name: 'qty', label: L('Qty', '数量'), type: 'integer' },
      ],
    },
    { name: 'files', label: L('Files', '附件'), type: 'attachment', multiple: true },
    { name: 'extra', label: L('Extra data', '扩展数据'), type: 'json' },
    { name: 'total_weight', label: L('Weight × qty', '总重'), type: 'computed', expression: 'weight * quantity', result: { type: 'decimal', scale: 3 } },
  ],
  lifecycle: {
    initial: 'draft',
    states: [
      { name: 'draft', label: L('Draft', '草稿') },
      { name: 'submitted', label: L('Submitted', '已提交'), editable: ['notes'] },
      { name: 'rejected', label: L('Rejected', '已驳回'), final: true },
    ],
    transitions: [
      { name: 'submit', label: L('Submit', '提交'), from: ['draft'], to: 'submitted', guard: 'quantity > 0' },
      {
        name: 'reject', label: L('Reject', '驳回'), from: ['submitted'], to: 'rejected',
        inputs: [{ name: 'reason', label: L('Reason', '原因'), type: 'long_text', required: true }],
      },
    ],
  },
};

/** Declares the fixture, two parties, a unit, a portal role and `rows` orders per party. */
export async function seed(admin, rows) {
  await admin.ok('POST', '/api/v1/types', FIXTURE_TYPE);
  const partyA = await admin.ok('POST', '/api/v1/records/party', { name: 'Alpha Trading 甲方贸易', kind: 'organisation' });
  const partyB = await admin.ok('POST', '/api/v1/records/party', { name: 'Bravo Industries', kind: 'organisation' });
  const unit = await admin.ok('POST', '/api/v1/admin/org/units', { name: 'Sales 销售部', code: 'SALES' });
  await admin.ok('PUT', '/api/v1/admin/roles/portal', {
    name: 'portal', for_guests: true,
    grants: [
      { type: 'test_order', actions: ['read', 'create', 'update'], scope: 'party' },
      { type: 'party', actions: ['read'], scope: 'party' },
    ],
  });
  const bulk = (party, prefix) =>
    Array.from({ length: rows }, (_, i) => ({
      title: `${prefix} order ${String(i + 1).padStart(3, '0')}`,
      // The record's system party follows `customer` (the type's `party_field`).
      customer: party.id,
      amount: { amount: `${(i + 1) * 100}.50`, currency: 'CNY' },
      quantity: i + 1,
      due: `2026-0${1 + (i % 9)}-1${i % 10}`,
      priority: i % 2 ? 'high' : 'low',
      urgent: i % 3 === 0,
    }));
  await admin.ok('POST', '/api/v1/records/test_order/bulk', { mode: 'all_or_nothing', rows: bulk(partyA, 'Alpha') });
  await admin.ok('POST', '/api/v1/records/test_order/bulk', { mode: 'all_or_nothing', rows: bulk(partyB, 'Bravo') });
  return { partyA, partyB, unit };
}
