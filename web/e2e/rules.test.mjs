// Browser test of the automation rules page against a real `weft serve`: an administrator
// writes a rule with a misspelt field in its condition and sees the server's problem at the
// condition, fixes it and saves; the rule then acts on a new record; it is switched off
// from the list, opened again with its values, and deleted after a confirmation. At phone
// width nothing scrolls sideways. Screenshots (desktop and phone) go to web/test-output/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PASSWORD, Caller, seed, startServer, webDir, launchBrowser } from './harness.mjs';

const OUT = join(webDir, 'test-output');
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

let server;
let browser;
let context;
let p;

/** What the screen shows, once drawers have slid in and messages gone (a full-page shot of
 * a fixed drawer over a tall page moves the header about). */
async function shot(page, name) {
  await page.waitForFunction(() =>
    [...document.querySelectorAll('.ant-drawer-content-wrapper')].every((d) => d.getAnimations({ subtree: false }).length === 0),
  );
  await page.waitForFunction(() => document.querySelectorAll('.ant-message-notice').length === 0);
  await page.screenshot({ path: join(OUT, `${name}.png`) });
}

function option(page, text) {
  return page.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option', { hasText: text }).first();
}

/** Chooses `text` in the antd select that `select` (a `.ant-select`) is. */
async function choose(page, select, text) {
  await select.click();
  await page.keyboard.type(text);
  await option(page, text).click();
}

/** antd puts a space between two CJK characters of a button: `删除` reads `删 除`. */
function button(scope, zh) {
  return scope.getByRole('button', { name: new RegExp(`^\\s*${[...zh].join('\\s?')}\\s*$`) });
}

function item(scope, id) {
  return scope.locator('.ant-form-item', { has: scope.page().locator(`#${id}`) });
}

async function noSideways(page, what) {
  const m = await page.evaluate(() => {
    const s = document.scrollingElement;
    const edge = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > edge + 1 && getComputedStyle(e).position !== 'fixed')
      .slice(0, 8)
      .map((e) => `${e.tagName.toLowerCase()}.${String(e.className).slice(0, 60)} → ${Math.round(e.getBoundingClientRect().right)}`);
    return { scrollWidth: s.scrollWidth, clientWidth: s.clientWidth, wide };
  });
  assert.ok(m.scrollWidth <= m.clientWidth, `${what} scrolls sideways: ${JSON.stringify(m, null, 1)}`);
}

before(async () => {
  mkdirSync(OUT, { recursive: true });
  server = await startServer();
  await seed(server.admin, 3);
  await server.admin.ok('POST', '/api/v1/admin/principals', {
    login: 'han.mei', display_name: '韩梅', password: 'han mei password', roles: ['employee'],
  });
  browser = await launchBrowser();
  context = await browser.newContext({ locale: 'zh-CN', viewport: DESKTOP });
  p = await context.newPage();
  p.on('pageerror', (e) => console.error('page error:', e));
  await p.goto(server.base + '/');
  await p.fill('#login_login', 'admin');
  await p.fill('#login_password', ADMIN_PASSWORD);
  await p.click('form[id=login] button[type=submit]');
  await p.locator('.weft-nav').waitFor();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The rule this test writes, as the server has it (the apps ship rules of their own). */
async function ours() {
  return (await server.admin.ok('GET', '/api/v1/admin/rules')).find((r) => r.name === 'flag_big_orders');
}

describe('automation rules', () => {
  test('an administrator writes a rule: the bad condition refused at its field, fixed, saved, switched off, deleted', async () => {
    // Reached through the administration's tabs.
    await p.goto(server.base + '/admin');
    await p.getByRole('tab', { name: '自动化规则' }).click();
    await p.waitForURL(/\/admin\/rules$/);
    const rules = p.getByTestId('rules');
    // The apps' own rules are listed (procurement ships some).
    await rules.getByText('failed_inspection_alerts_buyer').first().waitFor();

    await rules.getByTestId('new-rule').click();
    const editor = p.locator('.weft-rule-editor');
    await editor.locator('#rule_name').fill('flag_big_orders');
    await editor.locator('#rule_label_zh').fill('大单加急');
    await editor.locator('#rule_label_en').fill('Big orders are urgent');
    await choose(p, item(editor, 'rule_type').locator('.ant-select'), '测试订单');
    // The type's own transitions are events too.
    await editor.getByLabel('执行“提交”时').check();
    await editor.locator('#rule_condition').fill('quantiti > 5');
    // The first action sets fields: priority and the urgent flag.
    const first = editor.getByTestId('rule-action').nth(0);
    await choose(p, first.getByTestId('set-row').nth(0).locator('.ant-select'), '优先级');
    await first.locator('#rule_actions_0_set_0_value').fill('"high"');
    await first.getByRole('button', { name: /再设置一个字段/ }).click();
    await choose(p, first.getByTestId('set-row').nth(1).locator('.ant-select'), '加急');
    await first.locator('#rule_actions_0_set_1_value').fill('true');
    // A second action alerts the owner.
    await editor.getByTestId('add-alert').click();
    const second = editor.getByTestId('rule-action').nth(1);
    assert.equal(await second.getAttribute('data-kind'), 'alert');
    await second.locator('#rule_actions_1_summary_zh').fill('大额订单：请核对预算');
    await second.locator('#rule_actions_1_summary_en').fill('Big order: check the budget');
    await editor.getByTestId('save-rule').click();

    // The server names the misspelt field; the problem is shown at the condition.
    const condition = item(editor, 'rule_condition');
    const explain = condition.locator('.ant-form-item-explain-error');
    await explain.waitFor();
    assert.match(await explain.innerText(), /FEEL 表达式有误.*quantiti/);
    assert.match(await explain.innerText(), /quantity/, 'the server suggests the right name');
    await editor.getByTestId('rule-problems').waitFor();
    await shot(p, 'rules-error-desktop');
    assert.equal(await ours(), undefined, 'nothing saved');

    await editor.locator('#rule_condition').fill('quantity > 5');
    await editor.getByTestId('save-rule').click();
    await p.locator('.ant-message', { hasText: '规则“大单加急”已保存' }).waitFor();
    const row = rules.locator('tr[data-rule=flag_big_orders]');
    await row.waitFor();
    const text = await row.innerText();
    assert.match(text, /大单加急/);
    assert.match(text, /测试订单/);
    assert.match(text, /新建时/);
    assert.match(text, /执行“提交”时/);
    let saved = await ours();
    assert.deepEqual(
      { ...saved, updated_at: undefined },
      {
        name: 'flag_big_orders',
        label: { en: 'Big orders are urgent', zh: '大单加急' },
        type: 'test_order',
        on: ['created', 'transitioned:submit'],
        condition: 'quantity > 5',
        actions: [
          { set: { priority: '"high"', urgent: 'true' } },
          { alert: { to: ['owner'], summary: { en: 'Big order: check the budget', zh: '大额订单：请核对预算' } } },
        ],
        enabled: true,
        version: 1,
        updated_at: undefined,
      },
    );
    await shot(p, 'rules-desktop');

    // The rule acts: a big new order becomes urgent and high priority.
    const order = await server.admin.ok('POST', '/api/v1/records/test_order', { title: 'Rule order', quantity: 9, priority: 'low' });
    const started = Date.now();
    let now;
    do {
      assert.ok(Date.now() - started < 20_000, `the rule ran within seconds: ${JSON.stringify(now)}`);
      await new Promise((r) => setTimeout(r, 250));
      now = await server.admin.ok('GET', `/api/v1/records/test_order/${order.id}`);
    } while (now.priority !== 'high');
    assert.equal(now.urgent, true);

    // Switched off from the list.
    await row.getByTestId('toggle-rule').click();
    await p.locator('.ant-message', { hasText: '规则“大单加急”已停用' }).waitFor();
    assert.equal(await row.getByTestId('toggle-rule').getAttribute('aria-checked'), 'false');
    saved = await ours();
    assert.deepEqual([saved.enabled, saved.version], [false, 2]);

    // Opened again: the form holds what was saved; its name stays.
    await row.getByTestId('edit-rule').click();
    await editor.locator('#rule_condition').waitFor();
    assert.equal(await editor.locator('#rule_condition').inputValue(), 'quantity > 5');
    assert.equal(await editor.locator('#rule_name').isDisabled(), true);
    assert.equal(await editor.locator('#rule_actions_0_set_1_value').inputValue(), 'true');
    assert.equal(await editor.locator('#rule_enabled').getAttribute('aria-checked'), 'false');
    // The document it would send, as JSON, is the saved one.
    await editor.locator('.weft-rule-json summary').click();
    const { version: _v, updated_at: _u, ...document } = saved;
    assert.deepEqual(JSON.parse(await editor.getByTestId('rule-json').innerText()), document);
    await shot(p, 'rules-editor-desktop');
    await button(editor, '取消').click();
    await editor.waitFor({ state: 'hidden' });

    // At phone width: the list and the editor, nothing sideways.
    const phone = await browser.newContext({ storageState: await context.storageState(), viewport: PHONE, locale: 'zh-CN', isMobile: true, hasTouch: true });
    const q = await phone.newPage();
    q.on('pageerror', (e) => console.error('page error (phone):', e));
    await q.goto(server.base + '/admin/rules');
    const phoneRow = q.locator('tr[data-rule=flag_big_orders]');
    await phoneRow.waitFor();
    assert.match(await phoneRow.innerText(), /测试订单/, 'the first column says the type on a phone');
    await noSideways(q, 'the rules list');
    await shot(q, 'rules-phone');
    await phoneRow.getByTestId('edit-rule').click();
    await q.locator('.weft-rule-editor #rule_condition').waitFor();
    await noSideways(q, 'the rule editor');
    await shot(q, 'rules-editor-phone');
    await q.locator('.weft-rule-editor [data-testid=rule-action]').first().scrollIntoViewIfNeeded();
    await shot(q, 'rules-actions-phone');
    await phone.close();

    // In English.
    await p.locator('[data-lang=en]').click();
    await rules.locator('.ant-card-head-title', { hasText: 'Automation rules' }).waitFor();
    assert.match(await row.innerText(), /Big orders are urgent/);
    assert.match(await row.innerText(), /After “Submit”/);
    await shot(p, 'rules-en-desktop');
    await p.locator('[data-lang=zh]').click();
    await rules.locator('.ant-card-head-title', { hasText: '自动化规则' }).waitFor();

    // A member may not touch rules.
    const member = await Caller.signIn(server.base, 'han.mei', 'han mei password');
    assert.equal((await member.call('GET', '/api/v1/admin/rules')).status, 403);
    assert.equal((await member.call('DELETE', '/api/v1/admin/rules/flag_big_orders')).status, 403);

    // Deleted after a confirmation.
    await row.getByTestId('delete-rule').click();
    await p.locator('.ant-modal-confirm', { hasText: '删除规则“大单加急”' }).getByRole('button', { name: /删\s?除/ }).click();
    await p.locator('.ant-message', { hasText: '规则“大单加急”已删除' }).waitFor();
    await row.waitFor({ state: 'detached' });
    assert.equal(await ours(), undefined);
  });
});
