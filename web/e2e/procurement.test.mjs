// Browser tests of the procurement app's own screens on record pages, against a real
// `weft serve` with the built-in apps: "生成采购订单" on an approved requisition makes a
// draft order and opens it; a supplier party's scorecard tab shows the gauge and the rates
// to a member of staff, and a guest of another supplier cannot reach it. Screenshots go to
// web/test-output/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PASSWORD, Caller, startServer, webDir, launchBrowser } from './harness.mjs';

const OUT = join(webDir, 'test-output');
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const S_GUEST = { login: 'sales@suzhou.example', password: 'suzhou portal password' };
const B_GUEST = { login: 'sales@baoshan.example', password: 'baoshan portal password' };

let server;
let browser;
const fx = {};

async function shot(p, name) {
  await p.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
}

async function signedIn(login, password, viewport = DESKTOP) {
  const context = await browser.newContext({ locale: 'zh-CN', viewport, ...(viewport === PHONE ? { isMobile: true, hasTouch: true } : {}) });
  const p = await context.newPage();
  p.on('pageerror', (e) => console.error(`page error (${login}):`, e));
  await p.goto(server.base + '/');
  await p.fill('#login_login', login);
  await p.fill('#login_password', password);
  await p.click('form[id=login] button[type=submit]');
  await p.locator('h2', { hasText: '欢迎' }).waitFor();
  return { context, p };
}

function option(p, text) {
  return p.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option', { hasText: text }).first();
}

/** Polls `probe` until it answers something truthy (the server's consumers run apart). */
async function until(what, probe, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  mkdirSync(OUT, { recursive: true });
  server = await startServer();
  const admin = server.admin;
  fx.s = await admin.ok('POST', '/api/v1/records/party', { name: '苏州精密五金 Suzhou Precision', roles: ['supplier'] });
  fx.b = await admin.ok('POST', '/api/v1/records/party', { name: '宝山钢材 Baoshan Steel', roles: ['supplier'] });
  fx.profile = await admin.ok('POST', '/api/v1/records/supplier_profile', { supplier: fx.s.id, display_name: 'Suzhou Precision', payment_days: 45 });
  await admin.ok('POST', '/api/v1/records/supplier_profile', { supplier: fx.b.id, display_name: 'Baoshan Steel', payment_days: 30 });
  for (const [guest, party, name] of [[S_GUEST, fx.s, '陈静'], [B_GUEST, fx.b, '王强']]) {
    await admin.ok('POST', '/api/v1/admin/principals', {
      kind: 'guest', login: guest.login, display_name: name, party: party.id, password: guest.password, roles: ['supplier_portal'],
    });
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('procurement screens', () => {
  test('生成采购订单: an approved requisition becomes a draft order, opened at once', async () => {
    const admin = server.admin;
    const requisition = await admin.ok('POST', '/api/v1/records/purchase_requisition', {
      title: '三号线复产备件', budget_code: 'PRJ-0042', needed_by: '2027-01-15',
      lines: [
        { description: 'M8 螺栓 镀锌', qty: '40', estimated_price: '2.50' },
        { description: 'Gearbox housing', qty: '5', estimated_price: '118.00' },
      ],
    });
    await admin.ok('POST', `/api/v1/records/purchase_requisition/${requisition.id}/transitions/submit`, {});
    await admin.ok('POST', `/api/v1/records/purchase_requisition/${requisition.id}/transitions/approve`, {});
    const { context, p } = await signedIn('admin', ADMIN_PASSWORD);
    await p.goto(`${server.base}/r/purchase_requisition/${requisition.id}`);
    await p.getByTestId('record-state').filter({ hasText: '已批准' }).waitFor();
    await p.getByTestId('order-from-requisition').click();
    const dialog = p.locator('.ant-modal', { hasText: '由请购单生成采购订单' });
    await dialog.waitFor();
    // Both lines are offered and chosen; order only the bolts.
    const lines = dialog.locator('.ant-checkbox-wrapper');
    assert.deepEqual(await lines.allInnerTexts(), ['#1 M8 螺栓 镀锌 × 40', '#2 Gearbox housing × 5']);
    await lines.nth(1).click();
    // Without a category the server names the field (the lines name no item).
    await dialog.getByRole('combobox', { name: '供应商' }).click();
    await p.keyboard.type('Suzhou');
    await option(p, 'Suzhou Precision').click();
    await dialog.getByRole('button', { name: '生成订单草稿' }).click();
    await dialog.locator('.ant-form-item-explain-error').first().waitFor();
    await shot(p, 'requisition-order-error');
    await dialog.getByRole('combobox', { name: '类别' }).click();
    await option(p, '零部件').click();
    await shot(p, 'requisition-order-dialog');
    await dialog.getByRole('button', { name: '生成订单草稿' }).click();
    await p.waitForURL(/\/r\/purchase_order\/[0-9a-f-]{36}$/);
    await p.getByTestId('record-state').filter({ hasText: '草稿' }).waitFor();
    await p.locator('[data-field=supplier]', { hasText: '苏州精密' }).waitFor();
    await shot(p, 'requisition-order-created');
    const order = await admin.ok('GET', `/api/v1/records/purchase_order/${p.url().split('/').pop()}`);
    assert.equal(order.state, 'draft');
    assert.equal(order.requisition, requisition.id);
    assert.equal(order.supplier, fx.s.id);
    assert.equal(order.category, 'components');
    assert.deepEqual(order.lines.map((l) => [l.description, l.qty]), [['M8 螺栓 镀锌', '40.000']]);
    assert.equal((await admin.ok('GET', `/api/v1/records/purchase_requisition/${requisition.id}`)).state, 'ordered');
    await context.close();
  });

  test('a supplier\'s scorecard tab: gauge and rates for staff; another supplier\'s guest cannot reach it', async () => {
    const admin = server.admin;
    // Evidence: an order S confirms and delivers on time, every piece accepted.
    const order = await admin.ok('POST', '/api/v1/records/purchase_order', {
      subject: 'Sample bolts', supplier: fx.s.id, category: 'components',
      lines: [{ description: 'M8 bolt', qty: '10', unit_price: '3.00' }],
    });
    await admin.ok('POST', `/api/v1/records/purchase_order/${order.id}/transitions/submit`, {});
    await until('the small order to approve itself', async () => (await admin.ok('GET', `/api/v1/records/purchase_order/${order.id}`)).state === 'approved');
    const s = await Caller.signIn(server.base, S_GUEST.login, S_GUEST.password);
    await s.ok('POST', `/api/v1/records/purchase_order/${order.id}/transitions/confirm`, { promised_date: '2099-12-28' });
    const confirmed = await admin.ok('GET', `/api/v1/records/purchase_order/${order.id}`);
    await admin.ok('POST', '/api/v1/records/goods_receipt', {
      purchase_order: order.id, lines: [{ po_line: confirmed.lines[0].id, received_qty: '10', accepted_qty: '10' }],
    });
    const card = await until('the scorecard to have a score', async () => {
      const v = await admin.ok('GET', `/api/v1/procurement/suppliers/${fx.s.id}/scorecard`);
      return v.scorecard.score != null && v.scorecard.on_time_rate != null ? v : null;
    });

    const { context, p } = await signedIn('admin', ADMIN_PASSWORD);
    await p.goto(`${server.base}/r/party/${fx.s.id}`);
    await p.getByTestId('scorecard-tab').click();
    const scorecard = p.getByTestId('scorecard');
    await scorecard.waitFor();
    // The gauge and the bars are drawn (ECharts canvases with a size).
    for (const chart of ['scorecard-gauge', 'scorecard-bars']) {
      const canvas = p.getByTestId(chart).locator('canvas');
      await canvas.waitFor();
      const box = await canvas.boundingBox();
      assert.ok(box && box.width > 100 && box.height > 100, `${chart}: ${JSON.stringify(box)}`);
    }
    assert.ok(await p.getByTestId('scorecard-band').isVisible());
    const text = await scorecard.innerText();
    assert.match(text, /准时交货率/);
    assert.ok(text.includes(`${card.scorecard.on_time_rate}%`), `the on-time rate ${card.scorecard.on_time_rate}% in ${text}`);
    assert.match(text, /1 条中 1 条准时/);
    await p.waitForTimeout(500); // the gauge's first frame
    await shot(p, 'scorecard-desktop');
    await context.close();
    const phone = await signedIn('admin', ADMIN_PASSWORD, PHONE);
    await phone.p.goto(`${server.base}/r/party/${fx.s.id}`);
    await phone.p.getByTestId('scorecard-tab').click();
    await phone.p.getByTestId('scorecard-gauge').locator('canvas').waitFor();
    await phone.p.waitForTimeout(500);
    await shot(phone.p, 'scorecard-phone');
    await phone.context.close();

    // Baoshan's contact: S's party page shows nothing of S (not found, or no such page for
    // a guest), no scorecard tab, and the scorecard itself is refused by the server.
    const b = await signedIn(B_GUEST.login, B_GUEST.password);
    await b.p.goto(`${server.base}/r/party/${fx.s.id}`);
    await b.p.locator('.ant-alert').first().waitFor();
    assert.ok(!(await b.p.locator('.weft-content').innerText()).includes('苏州'), 'nothing of the other supplier');
    assert.equal(await b.p.getByTestId('scorecard-tab').count(), 0);
    assert.equal(await b.p.getByTestId('scorecard').count(), 0);
    await shot(b.p, 'scorecard-other-guest');
    await b.context.close();
    const bApi = await Caller.signIn(server.base, B_GUEST.login, B_GUEST.password);
    const refused = await bApi.call('GET', `/api/v1/procurement/suppliers/${fx.s.id}/scorecard`);
    assert.ok([403, 404].includes(refused.status), `${refused.status} ${JSON.stringify(refused.json)}`);
    assert.ok(!JSON.stringify(refused.json).includes('on_time_rate'));
  });
});
