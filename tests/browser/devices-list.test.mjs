// devices-list.test.mjs — 设备管理 → 设备: every product's devices in one
// paged list (GET /api/v1/devices: paging, ?productKey= and ?status=, the
// same device JSON as a product's list), filtered by product and status
// (kept in the address), live status, links to each device; the old routes
// still open their screens.
import assert from 'node:assert/strict';
import { browserTest } from './support/harness.mjs';

const EDU = 'b1EduKit001';

browserTest('flat device list', { locale: 'zh-CN', timeout: 100000 }, async ({ emu, page, browser, startDevice, shot }) => {
  browser.allowHttpError(400, '/api/v1/devices'); // the bad filter this test sends on purpose
  const core2 = (await emu.api('POST', '/api/v1/products', { name: 'HaaS Core2' })).json.productKey;
  assert.equal((await emu.api('POST', `/api/v1/products/${core2}/devices`, { count: 60, prefix: 'core2-' })).status, 201);
  assert.equal((await emu.api('POST', '/api/v1/products', { name: 'EDU K1', productKey: EDU })).status, 201);
  const edu1 = (await emu.api('POST', `/api/v1/products/${EDU}/devices`, { deviceName: 'edu-0001' })).json;
  assert.equal((await emu.api('POST', `/api/v1/products/${EDU}/devices`, { deviceName: 'edu-0002' })).status, 201);
  const keys = [core2, EDU].sort();

  // the API: every product, by ProductKey then DeviceName, paged like every list
  const all = await emu.api('GET', '/api/v1/devices');
  assert.equal(all.status, 200, all.text);
  assert.equal(all.json.total, 62);
  assert.equal(all.json.offset, 0);
  assert.equal(all.json.limit, 50);
  assert.equal(all.json.items.length, 50);
  const tail = (await emu.api('GET', '/api/v1/devices?offset=55&limit=10')).json;
  assert.equal(tail.items.length, 7);
  const names = [...all.json.items, ...(await emu.api('GET', '/api/v1/devices?offset=50&limit=50')).json.items].map((d) => `${d.productKey}/${d.deviceName}`);
  assert.deepEqual(names, [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  assert.equal(names[0].split('/')[0], keys[0]);
  const edu = await emu.api('GET', `/api/v1/devices?productKey=${EDU}`);
  assert.deepEqual(edu.json.items, (await emu.api('GET', `/api/v1/products/${EDU}/devices`)).json.items, 'the same device JSON');
  assert.equal(edu.json.total, 2);
  assert.equal((await emu.api('GET', '/api/v1/devices?productKey=a1NoProduct')).json.total, 0);
  assert.equal((await emu.api('GET', '/api/v1/devices?productKey=')).json.total, 62);
  assert.equal((await emu.api('GET', '/api/v1/devices?status=inactive')).json.total, 62);
  const bad = await emu.api('GET', '/api/v1/devices?status=asleep');
  assert.equal(bad.status, 400);
  assert.equal(bad.json.code, 'InvalidParameter');
  assert.equal((await emu.api('GET', '/api/v1/devices?limit=0')).status, 400);

  // the screen, from the menu's 设备管理 group
  await page.goto(`${emu.base}/#/products`);
  const nav = page.getByRole('navigation', { name: '主菜单' });
  await nav.getByRole('list', { name: '设备管理' }).getByRole('link', { name: '设备', exact: true }).click();
  await page.getByRole('heading', { name: '设备', level: 1 }).waitFor();
  assert.equal(await nav.getByRole('link', { name: '设备', exact: true }).getAttribute('aria-current'), 'page');
  const rows = page.locator('.list tbody tr[data-row]');
  await page.getByText('共 62 台设备').waitFor();
  await page.getByText('第 1–50 条，共 62 条').waitFor();
  assert.equal(await rows.count(), 50);
  const first = page.locator(`tr[data-row="${keys[0]}/${keys[0] === EDU ? 'edu-0001' : 'core2-0001'}"]`);
  await first.getByRole('link', { name: keys[0] === EDU ? 'EDU K1' : 'HaaS Core2' }).waitFor();
  await page.getByRole('button', { name: '下一页' }).click();
  await page.getByText('第 51–62 条，共 62 条').waitFor();
  assert.equal(await rows.count(), 12);

  // filter by product: two rows, the filter in the address
  await page.getByLabel('产品', { exact: true }).selectOption({ label: `EDU K1 (${EDU})` });
  await page.getByText('共 2 台设备').waitFor();
  assert.equal(await rows.count(), 2);
  assert.match(page.url(), new RegExp(`#/devices\\?productKey=${EDU}$`));
  await page.locator(`tr[data-row="${EDU}/edu-0002"]`).waitFor();

  // a device comes online: live in the list, and the status filter finds it
  startDevice({ productKey: EDU, deviceName: 'edu-0001', deviceSecret: edu1.deviceSecret });
  const row = page.locator(`tr[data-row="${EDU}/edu-0001"]`);
  await row.locator('.status-online').waitFor({ timeout: 20000 });
  await row.getByText('8800100099990000: 0.0.1').waitFor({ timeout: 20000 });
  await page.getByLabel('状态筛选').selectOption({ label: '在线' });
  await page.getByText('共 1 台设备').waitFor();
  assert.equal(await rows.count(), 1);
  assert.match(page.url(), /status=online/);
  assert.equal((await emu.api('GET', '/api/v1/devices?status=online')).json.total, 1);
  await shot('online');
  await page.getByLabel('状态筛选').selectOption({ label: '离线' });
  await page.getByText('没有符合筛选条件的设备。').waitFor();

  // the filters come back from the address
  await page.goto(`${emu.base}/#/devices?productKey=${EDU}&status=online`);
  await page.getByText('共 1 台设备').waitFor();
  assert.equal(await page.getByLabel('产品', { exact: true }).inputValue(), EDU);
  assert.equal(await page.getByLabel('状态筛选').inputValue(), 'online');

  // each device links to its page, which links back to the list
  await row.getByRole('link', { name: 'edu-0001', exact: true }).click();
  await page.getByRole('heading', { name: 'edu-0001', level: 1 }).waitFor();
  assert.equal(await nav.getByRole('link', { name: '设备', exact: true }).getAttribute('aria-current'), 'page');
  await page.locator('[data-field="DeviceSecret"]', { hasText: edu1.deviceSecret }).waitFor();
  await page.getByRole('navigation', { name: '当前位置' }).getByRole('link', { name: '设备' }).click();
  await page.getByRole('heading', { name: '设备', level: 1 }).waitFor();
  await page.getByText('共 62 台设备').waitFor();

  // in English
  await page.getByRole('button', { name: /Switch to English/ }).click();
  await page.getByRole('heading', { name: 'Devices', level: 1 }).waitFor();
  await page.getByText('62 devices', { exact: true }).waitFor();
  await page.getByLabel('Product', { exact: true }).selectOption({ label: `EDU K1 (${EDU})` });
  await page.getByText('2 devices', { exact: true }).waitFor();
  await shot('english');

  // the old routes still open their screens
  await page.goto(`${emu.base}/#/products/${core2}`);
  await page.getByRole('heading', { name: 'HaaS Core2', level: 1 }).waitFor();
  assert.equal(await page.getByRole('navigation', { name: 'Main menu' }).getByRole('link', { name: 'Products' }).getAttribute('aria-current'), 'page');
  await page.goto(`${emu.base}/#/products/${core2}/devices/core2-0042`);
  await page.getByRole('heading', { name: 'core2-0042', level: 1 }).waitFor();
  await page.goto(`${emu.base}/#/nothing-here`);
  await page.getByRole('heading', { name: 'Products', level: 1 }).waitFor();
});
