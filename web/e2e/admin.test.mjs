// Browser tests of the administration's editors against a real `weft serve`: an
// administrator adds a field to a type through the object-type editor (server problems at
// the field's row, the dry-run preview, the destructive confirmation, apply) and the record
// form shows it; an org unit is created, a member assigned and a manager set; a member who
// is not an administrator sees none of it; one's notification settings are chosen and kept;
// an administrator adds, edits and deletes an IM robot and replays its dead letter.
// Screenshots at desktop and phone width go to web/test-output/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PASSWORD, startServer, webDir, launchBrowser } from './harness.mjs';

const OUT = join(webDir, 'test-output');
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const L = (en, zh) => ({ en, zh });

const GADGET = {
  name: 'gadget',
  label: L('Gadget', '小工具'),
  title_field: 'title',
  fields: [
    { name: 'title', label: L('Title', '标题'), type: 'text', required: true },
    { name: 'obsolete', label: L('Obsolete', '废弃字段'), type: 'text' },
  ],
};

let server;
let browser;
let admin;
let context;

async function shot(p, name) {
  await p.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
}

async function signIn(p, login, password) {
  await p.goto(server.base + '/');
  await p.fill('#login_login', login);
  await p.fill('#login_password', password);
  await p.click('form[id=login] button[type=submit]');
  await p.locator('.weft-nav').waitFor();
}

function option(p, text) {
  return p.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option', { hasText: text }).first();
}

/** Chooses `text` in the antd select whose input is `#id` (inside `scope`). */
async function pick(p, scope, id, text) {
  await scope.locator('.ant-select', { has: p.locator(`#${id}`) }).click();
  await p.keyboard.type(text);
  await option(p, text).click();
}

/** antd puts a space between two CJK characters of a button: `完成` reads `完 成`. */
function button(p, zh) {
  return p.getByRole('button', { name: new RegExp(`^\\s*${[...zh].join('\\s?')}\\s*$`) });
}

/** The open field dialog. */
function fieldDialog(p) {
  return p.locator('.ant-modal:visible', { has: p.locator('#field_name') });
}

async function addField(p, { name, zh, en, kind, fill }) {
  await p.getByTestId('add-field').click();
  const dialog = fieldDialog(p);
  await dialog.locator('#field_name').fill(name);
  await dialog.locator('#field_label_zh').fill(zh);
  await dialog.locator('#field_label_en').fill(en);
  await pick(p, dialog, 'field_type', kind);
  if (fill) await fill(dialog);
  await button(dialog, '完成').click();
  await dialog.waitFor({ state: 'hidden' });
}

async function openEditor(p) {
  await p.goto(server.base + '/admin/types');
  await p.getByRole('button', { name: '打开类型 gadget' }).click();
  await p.locator('.weft-type-editor').waitFor();
  await p.locator('.weft-type-editor tr[data-field=title]').waitFor();
}

/** A Slack-like webhook on 127.0.0.1 that fails (500) until `fixed`, counting the cards. */
function webhook() {
  const hook = { fixed: false, cards: [], url: '' };
  const http = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (!hook.fixed) {
        res.writeHead(500).end('down');
        return;
      }
      hook.cards.push(JSON.parse(body));
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  hook.ready = new Promise((ok) => http.listen(0, '127.0.0.1', () => ok()));
  hook.close = () => new Promise((ok) => http.close(() => ok()));
  hook.http = http;
  return hook;
}

let hook;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  // One attempt per delivery, so a failing robot's card is a dead letter at once.
  process.env.WEFT_DELIVERY__MAX_ATTEMPTS = '1';
  hook = webhook();
  await hook.ready;
  hook.url = `http://127.0.0.1:${hook.http.address().port}/services/T000/B000/XXXX`;
  server = await startServer();
  await server.admin.ok('POST', '/api/v1/types', GADGET);
  await server.admin.ok('POST', '/api/v1/admin/principals', {
    login: 'li.lei', display_name: '李雷', password: 'li lei password', roles: ['employee'],
  });
  await server.admin.ok('POST', '/api/v1/admin/principals', {
    login: 'han.mei', display_name: '韩梅', password: 'han mei password', roles: ['employee'],
  });
  browser = await launchBrowser();
  context = await browser.newContext({ locale: 'zh-CN', viewport: DESKTOP });
  admin = await context.newPage();
  admin.on('pageerror', (e) => console.error('page error:', e));
  await signIn(admin, 'admin', ADMIN_PASSWORD);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await hook?.close();
});

describe('administration', () => {
  test('an administrator adds a field through the type editor: problems at the row, preview, confirmation, apply', async () => {
    const p = admin;
    await p.goto(server.base + '/admin/types');
    const row = p.locator('tr[data-type=gadget]');
    await row.waitFor();
    assert.match(await row.innerText(), /小工具/);
    // A built-in app's type opens read-only.
    const party = p.locator('tr[data-type=party]');
    assert.match(await party.innerText(), /只读/);

    await openEditor(p);
    // Two new fields: a decimal with its scale, and a computed one naming an unknown field.
    await addField(p, {
      name: 'weight', zh: '重量', en: 'Weight', kind: '小数',
      fill: async (d) => {
        await d.locator('#field_scale').fill('3');
        await d.getByText('索引', { exact: true }).click();
      },
    });
    await addField(p, {
      name: 'bad_total', zh: '错误合计', en: 'Bad total', kind: '计算字段',
      fill: (d) => d.locator('#field_expression').fill('no_such_field * 2'),
    });
    await p.getByTestId('preview').click();
    // The server's problem lands at the computed field's row (and in the list above).
    const badRow = p.locator('.weft-type-editor tr[data-field=bad_total]');
    await p.locator('[data-testid=type-problems]').waitFor();
    assert.match(await badRow.getAttribute('class'), /weft-row-problem/);
    assert.match(await badRow.innerText(), /no_such_field/);
    assert.equal(await p.locator('[data-testid=plan]').count(), 0, 'no plan for a refused declaration');
    // Inside its dialog too, at the expression.
    await p.getByRole('button', { name: '编辑字段 bad_total' }).click();
    const expressionItem = fieldDialog(p).locator('.ant-form-item', { has: p.locator('#field_expression') });
    assert.match(await expressionItem.locator('.ant-form-item-explain').innerText(), /no_such_field/);
    await button(fieldDialog(p), '取消').click();
    await shot(p, 'types-editor-problems-desktop');

    // Fix it by removing the field, and drop the obsolete one: a destructive change.
    await p.getByRole('button', { name: '删除字段 bad_total' }).click();
    await p.getByRole('button', { name: '删除字段 obsolete' }).click();
    await p.getByTestId('preview').click();
    const plan = p.locator('[data-testid=plan]');
    await plan.waitFor();
    const text = await plan.innerText();
    assert.match(text, /weight/);
    assert.match(text, /破坏性/);
    assert.ok(await plan.locator('li[data-destructive=true]').count() >= 1, 'the destructive step is marked');
    const apply = p.getByTestId('apply');
    assert.equal(await apply.isDisabled(), true, 'a destructive change waits for the confirmation');
    await p.getByTestId('allow-destructive').click();
    assert.equal(await apply.isDisabled(), false);
    await shot(p, 'types-editor-desktop');
    await apply.click();
    await p.locator('.ant-message', { hasText: '类型 gadget 已保存' }).waitFor();

    const decl = (await server.admin.ok('GET', '/api/v1/types/gadget')).declaration;
    assert.deepEqual(decl.fields.map((f) => f.name), ['title', 'weight']);
    assert.deepEqual(decl.fields[1], { name: 'weight', label: L('Weight', '重量'), type: 'decimal', scale: 3, indexed: true });

    // The record form has the new field, as a number input.
    await p.goto(server.base + '/r/gadget/new');
    await p.locator('#record_weight').waitFor();
    assert.match(await p.locator('.ant-form-item', { has: p.locator('#record_weight') }).innerText(), /重量/);
    await p.fill('#record_title', '第一个');
    await p.fill('#record_weight', '1.250');
    await p.getByRole('button', { name: '保 存' }).click();
    await p.waitForURL(/\/r\/gadget\/[0-9a-f-]{36}/);
    await p.locator('.weft-page', { hasText: '重量' }).first().waitFor();
    const saved = (await server.admin.ok('GET', '/api/v1/records/gadget')).items;
    assert.deepEqual(saved.map((r) => [r.title, r.weight]), [['第一个', '1.250']]);
    await shot(p, 'types-record-form-desktop');
  });

  test('the type editor at phone width', async () => {
    const phone = await browser.newContext({ storageState: await context.storageState(), viewport: PHONE, locale: 'zh-CN', isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    await p.goto(server.base + '/admin/types');
    await p.locator('tr[data-type=gadget]').waitFor();
    await shot(p, 'types-list-phone');
    await openEditor(p);
    await p.getByTestId('add-field').click();
    await pick(p, fieldDialog(p), 'field_type', '单选');
    await fieldDialog(p).getByRole('button', { name: /添加选项/ }).click();
    await shot(p, 'types-field-phone');
    await button(fieldDialog(p), '取消').click();
    await p.getByTestId('preview').click();
    await p.locator('[data-testid=plan]').waitFor();
    await shot(p, 'types-editor-phone');
    await phone.close();
  });

  test('an org unit is created, a member assigned and a manager set', async () => {
    const p = admin;
    await p.goto(server.base + '/admin/org');
    await p.getByTestId('new-unit').click();
    await p.locator('#new-unit_name').fill('华东销售');
    await p.locator('#new-unit_code').fill('EAST');
    await button(p, '创建').click();
    await p.locator('.ant-message', { hasText: '部门 华东销售 已创建' }).waitFor();
    await p.locator('.weft-org-tree [data-unit=华东销售]').waitFor();
    await p.locator('.weft-org-detail h4', { hasText: '华东销售' }).waitFor();

    // A second unit below the first.
    await button(p, '新建下级部门').click();
    await p.locator('#new-unit_name').fill('上海办事处');
    await button(p, '创建').click();
    await p.locator('.weft-org-tree [data-unit=上海办事处]').waitFor();
    await p.locator('.weft-org-detail h4', { hasText: '华东销售 / 上海办事处' }).waitFor();

    // Back to the first: add 李雷 as primary, 韩梅 as secondary... then make 李雷 its manager.
    await p.locator('.weft-org-tree [data-unit=华东销售]').click();
    await p.locator('.weft-org-detail h4', { hasText: /^华东销售$/ }).waitFor();
    await pick(p, p, 'member_principal', '李雷');
    await p.locator('form[id=member]').getByText('主部门').click();
    await p.getByTestId('add-member').click();
    await p.locator('.ant-message', { hasText: '已添加 李雷' }).waitFor();
    const members = p.locator('.weft-org-detail .ant-table-tbody');
    await members.locator('tr', { hasText: '李雷' }).filter({ hasText: '主部门' }).waitFor();

    await pick(p, p, 'unit_manager', '李雷');
    await p.getByTestId('save-unit').click();
    await p.locator('.ant-message', { hasText: '部门 华东销售 已保存' }).waitFor();
    await members.locator('tr', { hasText: '李雷' }).filter({ hasText: '负责人' }).waitFor();

    const units = (await server.admin.ok('GET', '/api/v1/org/units')).items;
    const east = units.find((u) => u.name === '华东销售');
    assert.equal(east.code, 'EAST');
    assert.equal(east.children[0].name, '上海办事处');
    const detail = await server.admin.ok('GET', `/api/v1/org/units/${east.id}`);
    assert.deepEqual(detail.members.map((m) => [m.display_name, m.primary]), [['李雷', true]]);
    assert.equal(detail.manager, detail.members[0].principal);
    await p.waitForFunction(() => document.querySelectorAll('.ant-message-notice').length === 0);
    await shot(p, 'org-desktop');

    const phone = await browser.newContext({ storageState: await context.storageState(), viewport: PHONE, locale: 'zh-CN', isMobile: true, hasTouch: true });
    const q = await phone.newPage();
    await q.goto(server.base + '/admin/org');
    await q.locator('.weft-org-tree [data-unit=华东销售]').click();
    await q.locator('.weft-org-detail .ant-table-tbody tr', { hasText: '李雷' }).waitFor();
    await shot(q, 'org-phone');
    await phone.close();
  });

  test('a member who is not an administrator sees no admin page and loads no admin code', async () => {
    const member = await browser.newContext({ locale: 'zh-CN', viewport: DESKTOP });
    const p = await member.newPage();
    const scripts = [];
    p.on('request', (q) => q.resourceType() === 'script' && scripts.push(q.url()));
    await signIn(p, 'han.mei', 'han mei password');
    assert.equal(await p.locator('.weft-nav', { hasText: '系统管理' }).count(), 0, 'no admin navigation');
    for (const path of ['/admin', '/admin/types', '/admin/rules', '/admin/org']) {
      await p.goto(server.base + path);
      await p.locator('.weft-nav').waitFor();
      await p.waitForURL(server.base + '/');
      assert.equal(await p.locator('[data-testid=types], [data-testid=rules], [data-testid=org]').count(), 0, path);
    }
    assert.deepEqual(scripts.filter((u) => /AdminPage|TypesAdmin|RulesAdmin|OrgAdmin/.test(u)), [], 'the admin chunk is never loaded');
    // And the API says no too.
    const { Caller } = await import('./harness.mjs');
    const api = await Caller.signIn(server.base, 'han.mei', 'han mei password');
    const preview = await api.call('PUT', '/api/v1/types/gadget?dry_run=true', GADGET);
    assert.equal(preview.status, 403);
    const unit = await api.call('POST', '/api/v1/admin/org/units', { name: 'Mine' });
    assert.equal(unit.status, 403);
    await member.close();
  });

  test('notification settings: mail per inbox kind and the digest interval, kept', async () => {
    const member = await browser.newContext({ locale: 'zh-CN', viewport: DESKTOP });
    const p = await member.newPage();
    await signIn(p, 'li.lei', 'li lei password');
    await p.getByTestId('user-menu').click();
    await p.getByTestId('menu-notifications').click();
    await p.waitForURL(/\/settings\/notifications$/);
    const page = p.getByTestId('notification-settings');
    await page.locator('h2', { hasText: '通知设置' }).waitFor();
    // Li Lei's profile has no address: the page says nothing is mailed.
    assert.match(await p.getByTestId('notify-address').innerText(), /没有邮箱地址/);
    const mode = (kind, label) => page.locator(`[data-kind=${kind}] label`, { hasText: label });
    // The defaults: mentions at once, updates in a digest.
    await mode('mention', '立即发送').locator('.ant-radio-button-checked').waitFor();
    assert.equal(await mode('update', '汇总发送').locator('.ant-radio-button-checked').count(), 1);
    await mode('mention', '汇总发送').click();
    await mode('update', '不发送').click();
    await page.locator('#notify_digest_minutes').fill('30');
    await shot(p, 'notifications-desktop');
    await button(page, '保存').click();
    await p.locator('.ant-message', { hasText: '通知设置已保存' }).waitFor();
    const { Caller } = await import('./harness.mjs');
    const api = await Caller.signIn(server.base, 'li.lei', 'li lei password');
    const saved = await api.ok('GET', '/api/v1/me/delivery');
    assert.deepEqual([saved.email.mention, saved.email.update, saved.email.todo, saved.digest_minutes], ['digest', 'off', 'immediate', 30]);
    // Kept across a reload.
    await p.reload();
    await mode('mention', '汇总发送').locator('.ant-radio-button-checked').waitFor();
    assert.equal(await page.locator('#notify_digest_minutes').inputValue(), '30');
    const phone = await browser.newContext({ storageState: await member.storageState(), viewport: PHONE, locale: 'zh-CN', isMobile: true, hasTouch: true });
    const q = await phone.newPage();
    await q.goto(server.base + '/settings/notifications');
    await q.getByTestId('notification-settings').locator('[data-kind=alert]').waitFor();
    assert.ok(await q.evaluate(() => document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth), 'no sideways scrolling');
    await shot(q, 'notifications-phone');
    await phone.close();
    // In English too.
    await p.locator('[data-lang=en]').click();
    await page.locator('h2', { hasText: 'Notification settings' }).waitFor();
    await mode('mention', 'In a digest').locator('.ant-radio-button-checked').waitFor();
    await shot(p, 'notifications-en-desktop');
    await p.locator('[data-lang=zh]').click();
    await page.locator('h2', { hasText: '通知设置' }).waitFor();
    await member.close();
  });

  test('IM robots: added (a refused webhook shown at its field), edited, its dead letter replayed, deleted', async () => {
    await admin.goto(server.base + '/admin/delivery');
    const robots = admin.getByTestId('robots');
    await robots.waitFor();
    await robots.getByTestId('new-robot').click();
    const dialog = admin.locator('.ant-modal', { hasText: '添加机器人' });
    await dialog.locator('#robot_name').fill('小工具播报');
    await dialog.locator('label', { hasText: 'Slack' }).click();
    await dialog.locator('#robot_url').fill('ftp://hooks.example/x');
    await pick(admin, dialog, 'robot_type', 'gadget');
    await dialog.getByTestId('save-robot').click();
    // The server refuses the address; its reason is at the field.
    const urlItem = dialog.locator('.ant-form-item', { has: admin.locator('#robot_url') });
    await urlItem.locator('.ant-form-item-explain-error').waitFor();
    await shot(admin, 'robot-error-desktop');
    await dialog.locator('#robot_url').fill(hook.url);
    await dialog.getByTestId('save-robot').click();
    await admin.locator('.ant-message', { hasText: '机器人“小工具播报”已保存' }).waitFor();
    const { Caller } = await import('./harness.mjs');
    let [robot] = (await server.admin.ok('GET', '/api/v1/admin/robots')).items;
    assert.deepEqual([robot.name, robot.kind, robot.type, robot.endpoint, robot.language], ['小工具播报', 'slack', 'gadget', 'http://127.0.0.1', 'zh']);
    assert.deepEqual(robot.events, ['record.created', 'record.transitioned']);

    // Edit: another name, only new records, English cards; the webhook stays.
    await robots.locator('tr', { hasText: '小工具播报' }).getByTestId('edit-robot').click();
    const edit = admin.locator('.ant-modal', { hasText: '机器人：小工具播报' });
    assert.equal(await edit.locator('#robot_url').inputValue(), '', 'the webhook is never shown back');
    await edit.locator('#robot_name').fill('Gadget feed');
    await edit.locator('label', { hasText: '状态变化' }).click();
    await edit.locator('label', { hasText: 'English' }).click();
    await shot(admin, 'robot-edit-desktop');
    await edit.getByTestId('save-robot').click();
    await admin.locator('.ant-message', { hasText: '机器人“Gadget feed”已保存' }).waitFor();
    await robots.locator('tr', { hasText: 'Gadget feed' }).waitFor();
    [robot] = (await server.admin.ok('GET', '/api/v1/admin/robots')).items;
    assert.deepEqual([robot.name, robot.events, robot.language, robot.endpoint], ['Gadget feed', ['record.created'], 'en', 'http://127.0.0.1']);

    // The webhook is down: a new gadget's card fails its one attempt and is a dead letter.
    await server.admin.ok('POST', '/api/v1/records/gadget', { title: 'Dead letter gadget' });
    const started = Date.now();
    while ((await server.admin.ok('GET', '/api/v1/admin/dead-letters')).items.length === 0) {
      assert.ok(Date.now() - started < 20_000, 'a dead letter within seconds');
      await new Promise((r) => setTimeout(r, 250));
    }
    const dead = admin.getByTestId('dead-letters');
    await dead.getByRole('button', { name: '刷 新' }).click();
    const row = dead.locator('tr', { hasText: 'Dead letter gadget' });
    await row.waitFor();
    assert.match(await row.innerText(), /Gadget feed/);
    assert.match(await row.innerText(), /500/);
    await shot(admin, 'delivery-desktop');
    const phone = await browser.newContext({ storageState: await context.storageState(), viewport: PHONE, locale: 'zh-CN', isMobile: true, hasTouch: true });
    const q = await phone.newPage();
    await q.goto(server.base + '/admin/delivery');
    await q.getByTestId('dead-letters').locator('tr', { hasText: 'Dead letter gadget' }).waitFor();
    assert.ok(await q.evaluate(() => document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth), 'no sideways scrolling');
    await shot(q, 'delivery-phone');
    await phone.close();

    // Fixed: replayed, delivered once, gone from the list.
    hook.fixed = true;
    await row.getByTestId('replay').click();
    await admin.locator('.ant-message', { hasText: '已重新排队发送' }).waitFor();
    const sent = Date.now();
    while (hook.cards.length === 0) {
      assert.ok(Date.now() - sent < 20_000, 'delivered after the replay');
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(hook.cards.length, 1);
    assert.match(JSON.stringify(hook.cards[0]), /Dead letter gadget/);
    await dead.getByRole('button', { name: '刷 新' }).click();
    await dead.locator('tr', { hasText: 'Dead letter gadget' }).waitFor({ state: 'detached' });
    assert.deepEqual((await server.admin.ok('GET', '/api/v1/admin/dead-letters')).items, []);

    // A member may not touch robots.
    const member = await Caller.signIn(server.base, 'han.mei', 'han mei password');
    assert.equal((await member.call('PATCH', `/api/v1/admin/robots/${robot.id}`, { name: 'mine' })).status, 403);
    assert.equal((await member.call('DELETE', `/api/v1/admin/robots/${robot.id}`)).status, 403);

    // Delete, after a confirmation.
    await robots.locator('tr', { hasText: 'Gadget feed' }).getByTestId('delete-robot').click();
    await admin.locator('.ant-modal-confirm').getByRole('button', { name: '删 除' }).click();
    await admin.locator('.ant-message', { hasText: '机器人“Gadget feed”已删除' }).waitFor();
    await robots.locator('tr', { hasText: 'Gadget feed' }).waitFor({ state: 'detached' });
    assert.deepEqual((await server.admin.ok('GET', '/api/v1/admin/robots')).items, []);
  });
});
