// Browser tests at phone width (390 × 844, the size partners' phones have): lists render as
// cards, and no page scrolls sideways — a list with its filters, sort and saved views, its
// board and calendar, a record's details, form and timeline, the inbox (a mention, a
// to-do), and a guest's portal list and record. Screenshots go
// to web/test-output/ (phone-*.png).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PASSWORD, seed, startServer, webDir, launchBrowser } from './harness.mjs';

const OUT = join(webDir, 'test-output');
const PHONE = { width: 390, height: 844 };
const GUEST = { login: 'phone@alpha.example', password: 'alpha phone password' };
const MEMBER = { login: 'li.wei', password: 'li wei password' };

// One step for whoever starts it: a to-do in the starter's inbox.
const REVIEW = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:weft="http://weft.dev/schema/bpmn/1.0" id="d_phone" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="phone_review" name="Phone review" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="review" name="Review the delivery date of the urgent order"><bpmn:extensionElements><weft:assignment rule="starter" /></bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>`;

let server;
let browser;
let fx;

/** The whole page, or (`screen`) what the phone's screen shows: a list's 50 cards make a
 * page too tall to look at. */
async function shot(p, name, { screen = false } = {}) {
  await p.screenshot({ path: join(OUT, `${name}.png`), fullPage: !screen });
}

/** A phone signed in as `login`. */
async function phone(login, password) {
  const context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN', isMobile: true, hasTouch: true });
  const p = await context.newPage();
  p.on('pageerror', (e) => console.error(`page error (${login}):`, e));
  await p.goto(server.base + '/');
  await p.fill('#login_login', login);
  await p.fill('#login_password', password);
  await p.click('form[id=login] button[type=submit]');
  await p.locator('h2', { hasText: '欢迎' }).waitFor();
  return { context, p };
}

/** Nothing is wider than the screen: the page never scrolls sideways. On failure, names
 * the elements that reach past the right edge. */
async function noSideways(p, what) {
  const m = await p.evaluate(() => {
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
  fx = await seed(server.admin, 30);
  await server.admin.ok('POST', '/api/v1/admin/principals', {
    kind: 'guest', login: GUEST.login, display_name: 'Alpha 手机用户', password: GUEST.password, party: fx.partyA.id, roles: ['portal'],
  });
  await server.admin.ok('PUT', '/api/v1/admin/roles/sales', {
    name: 'sales',
    grants: [{ type: 'test_order', actions: ['read', 'update', 'comment'], scope: 'all' }, { type: 'party', actions: ['read'], scope: 'all' }],
  });
  const li = await server.admin.ok('POST', '/api/v1/admin/principals', {
    login: MEMBER.login, display_name: 'Li Wei', password: MEMBER.password, roles: ['employee', 'sales'],
  });
  fx.li = li;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('phone width', () => {
  test('a list is cards: filters, order, saved views and paging, and a card opens its record', async () => {
    // A long word and a long link, so the cards must wrap rather than widen.
    await server.admin.ok('POST', '/api/v1/records/test_order', {
      title: 'Alpha 长标题 Supercalifragilisticexpialidocious-order-with-a-long-name-0123',
      customer: fx.partyA.id, quantity: 777, website: 'https://alpha.example/a/very/long/path/that/does/not/wrap/easily/0123456789',
    });
    await server.admin.ok('POST', '/api/v1/types/test_order/views', {
      name: '高优先级', shared: true, spec: { kind: 'list', columns: ['priority', 'amount', 'due'], filter: 'priority = "high"', filters: { priority: { op: 'in', values: ['high'] } }, sort: null },
    });
    const { context, p } = await phone('admin', ADMIN_PASSWORD);
    await p.goto(server.base + '/r/test_order');
    const cards = p.getByTestId('record-card');
    await cards.nth(49).waitFor();
    assert.equal(await cards.count(), 50);
    assert.equal(await p.locator('.ant-table').count(), 0, 'no table on a phone');
    assert.match(await p.getByTestId('list-count').innerText(), /61/);
    // A card: title, state, and fields from the type's metadata.
    const first = cards.first();
    assert.match(await first.innerText(), /Supercalifragilistic/);
    assert.ok(await first.locator('.weft-state', { hasText: '草稿' }).isVisible());
    assert.ok(await first.locator('dt', { hasText: '客户' }).isVisible());
    await noSideways(p, 'the list');
    await shot(p, 'phone-list', { screen: true });

    // Paging by cursor.
    await p.getByRole('button', { name: '加载更多' }).click();
    await cards.nth(60).waitFor();

    // The filters fold away behind a button; the order is a picker there.
    await p.getByRole('button', { name: /筛\s?选/ }).click();
    await p.getByLabel('标题').fill('Bravo order 00');
    await p.getByTestId('list-sort').click();
    await p.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option', { hasText: '金额 ↓' }).click();
    await p.getByRole('button', { name: '应 用' }).click();
    await p.getByTestId('list-count').filter({ hasText: /^共 9 条$/ }).waitFor();
    await cards.first().filter({ hasText: 'Bravo order 009' }).waitFor();

    // Every field with a filter is there, not only the first few: the rest are added from
    // "more filters" (the fixture's priority, due date and flags come after six others).
    const open = p.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option');
    assert.equal(await p.locator('.weft-filter[data-filter=priority]').count(), 0);
    await p.getByTestId('more-filters').click();
    const offered = await open.allInnerTexts();
    for (const label of ['加急', '交期', '会议时间', '优先级', '邮箱', '网站']) assert.ok(offered.includes(label), `${label} in ${offered}`);
    await open.filter({ hasText: '优先级' }).click();
    const priority = p.locator('.weft-filter[data-filter=priority]');
    await priority.locator('.ant-select').click();
    await open.filter({ hasText: /^高$/ }).click();
    await p.keyboard.press('Escape');
    await p.getByRole('button', { name: '应 用' }).click();
    await p.getByTestId('list-count').filter({ hasText: /^共 4 条$/ }).waitFor();
    assert.deepEqual(
      (await cards.locator('.weft-record-card-title').allInnerTexts()).sort(),
      ['Bravo order 002', 'Bravo order 004', 'Bravo order 006', 'Bravo order 008'],
    );
    await noSideways(p, 'the list with its filters open');
    await priority.evaluate((e) => e.scrollIntoView({ block: 'center' }));
    await shot(p, 'phone-list-filters', { screen: true });
    // An added filter goes again with its value.
    await p.getByRole('button', { name: '移除筛选“优先级”' }).click();
    await priority.waitFor({ state: 'detached' });
    await p.getByRole('button', { name: '应 用' }).click();
    await p.getByTestId('list-count').filter({ hasText: /^共 9 条$/ }).waitFor();

    // A saved view: its columns are the cards' fields.
    await p.getByTestId('saved-views').locator('.ant-select').click();
    await p.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option', { hasText: '高优先级' }).click();
    await p.getByTestId('list-count').filter({ hasText: /^共 30 条$/ }).waitFor();
    assert.deepEqual(await cards.first().locator('dt').allInnerTexts(), ['优先级', '金额', '交期']);
    await noSideways(p, 'a saved view');
    await shot(p, 'phone-list-view', { screen: true });

    // A tap on the card (not only its title) opens the record.
    const title = await cards.first().locator('.weft-record-card-title').innerText();
    await cards.first().locator('dd').first().click();
    await p.locator('h2', { hasText: title }).waitFor();
    await context.close();
  });

  test('a record\'s details, form and timeline fit the screen', async () => {
    const long = (await server.admin.ok('GET', `/api/v1/records/test_order?limit=1&filter=${encodeURIComponent('quantity = 777')}`)).items[0];
    await server.admin.ok('PATCH', `/api/v1/records/test_order/${long.id}`, {
      notes: 'A note with a long unbroken token: ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ',
      extra: { origin: 'phone', path: '/a/very/long/path/that/does/not/wrap/easily/0123456789/abcdefghij' },
      items: [{ item: 'Bolt M8 zinc plated, long description of the line', qty: 12 }],
    }, { 'if-match': `"${long.version}"` });
    await server.admin.ok('POST', `/api/v1/records/test_order/${long.id}/thread`, {
      body: '请 确认交期 https://alpha.example/a/very/long/path/that/does/not/wrap/easily/0123456789', visibility: 'shared',
    });
    const { context, p } = await phone('admin', ADMIN_PASSWORD);
    await p.goto(`${server.base}/r/test_order/${long.id}`);
    await p.locator('[data-field=title]').waitFor();
    await noSideways(p, 'the record');
    await shot(p, 'phone-record');

    await p.getByRole('button', { name: '编 辑' }).click();
    await p.locator('#record_title').waitFor();
    await noSideways(p, 'the record form');
    await shot(p, 'phone-record-edit');
    await p.getByRole('button', { name: '取 消' }).click();

    await p.getByRole('tab', { name: '时间线' }).click();
    await p.locator('[data-testid=message]', { hasText: '确认交期' }).waitFor();
    await p.locator('.weft-timeline').waitFor();
    await noSideways(p, 'the timeline');
    await shot(p, 'phone-timeline');

    await p.goto(`${server.base}/r/test_order/new`);
    await p.locator('#record_title').waitFor();
    await noSideways(p, 'a new record\'s form');
    await shot(p, 'phone-record-new');
    await context.close();
  });

  test('the board and the calendar keep their sideways scrolling inside themselves', async () => {
    const { context, p } = await phone('admin', ADMIN_PASSWORD);
    await p.goto(server.base + '/r/test_order?view=board');
    await p.getByTestId('kanban').waitFor();
    await noSideways(p, 'the board');
    await shot(p, 'phone-board', { screen: true });
    await p.goto(server.base + '/r/test_order?view=calendar&month=2026-03');
    // A day says how many; the month's records follow as an agenda.
    await p.getByTestId('calendar-agenda').locator('section[data-day="2026-03-12"]', { hasText: 'Alpha order 003' }).waitFor();
    assert.equal(await p.getByTestId('calendar').locator('td[title="2026-03-12"] .weft-calendar-count').innerText(), '2');
    assert.equal(await p.getByTestId('calendar-agenda').locator('section').count(), 4, 'the days of March with records (10, 11, 12, 19)');
    await noSideways(p, 'the calendar');
    await shot(p, 'phone-calendar');
    await context.close();
  });

  test('the inbox fits the screen', async () => {
    const order = (await server.admin.ok('GET', `/api/v1/records/test_order?limit=1&filter=${encodeURIComponent('title = "Alpha order 001"')}`)).items[0];
    await server.admin.ok('POST', `/api/v1/records/test_order/${order.id}/thread`, {
      body: '@Li Wei 请看一下这张订单的交期，客户催得很急，今天之内回复', visibility: 'internal', mentions: [fx.li.id],
    });
    const { context, p } = await phone(MEMBER.login, MEMBER.password);
    await p.goto(server.base + '/inbox');
    await p.getByTestId('inbox-tab-mention').click();
    await p.locator('.ant-tabs-tabpane-active [data-testid=inbox-item]').first().waitFor({ timeout: 15_000 });
    await noSideways(p, 'the inbox');
    await shot(p, 'phone-inbox');
    await context.close();

    // A to-do, with its approve, reject, form and "more" buttons.
    const deployed = await fetch(`${server.base}/api/v1/processes`, {
      method: 'POST',
      headers: { cookie: server.admin.cookie, 'x-csrf-token': server.admin.csrf, 'content-type': 'application/xml' },
      body: REVIEW,
    });
    assert.ok(deployed.ok, `deploy: ${deployed.status} ${await deployed.text()}`);
    await server.admin.ok('POST', '/api/v1/processes/phone_review/instances', {});
    const admin = await phone('admin', ADMIN_PASSWORD);
    await admin.p.goto(server.base + '/inbox');
    await admin.p.locator('[data-testid=inbox-item]', { hasText: 'Review the delivery date of the urgent order' }).waitFor({ timeout: 15_000 });
    await noSideways(admin.p, 'the inbox with a to-do');
    await shot(admin.p, 'phone-inbox-todo');
    await admin.context.close();
  });

  test('home, search and the notification settings fit the screen', async () => {
    const { context, p } = await phone('admin', ADMIN_PASSWORD);
    await noSideways(p, 'home');
    await shot(p, 'phone-home');
    await p.goto(`${server.base}/search?q=${encodeURIComponent('Alpha order')}`);
    await p.getByTestId('search-records').locator('a').first().waitFor({ timeout: 15_000 });
    await noSideways(p, 'the search page');
    await shot(p, 'phone-search', { screen: true });
    await p.goto(server.base + '/settings/notifications');
    await p.getByTestId('notification-settings').locator('[data-kind=alert]').waitFor();
    await noSideways(p, 'the notification settings');
    await context.close();
  });

  test('a guest\'s portal list is cards of its own party only', async () => {
    const { context, p } = await phone(GUEST.login, GUEST.password);
    await noSideways(p, 'the portal home');
    await shot(p, 'phone-portal-home');
    await p.goto(server.base + '/r/test_order');
    const cards = p.getByTestId('record-card');
    await cards.first().waitFor();
    const text = await p.getByTestId('record-cards').innerText();
    assert.ok(text.includes('Alpha') && !text.includes('Bravo'), 'only its party\'s records');
    await noSideways(p, 'the portal list');
    await shot(p, 'phone-portal-list', { screen: true });
    await cards.first().locator('.weft-record-card-title').click();
    await p.locator('[data-field=title]').waitFor();
    await noSideways(p, 'a portal record');
    await shot(p, 'phone-portal-record');
    await context.close();
  });
});
