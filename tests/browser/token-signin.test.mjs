// token-signin.test.mjs — haas-emu started with --api-token: the console
// shows a sign-in panel (no raw 401) that says where haas-emu printed the
// token; a wrong token is refused in words, the right one is kept for the
// tab (or the browser, when asked) and sent as Authorization: Bearer on
// every API call, the upload included; a saved token that stops working
// brings the panel back; ?token= in the address signs in too.
import assert from 'node:assert/strict';
import { browserTest } from './support/harness.mjs';
import { makePackage } from './support/package.mjs';
import { APP_ID } from './support/device.mjs';
import { waitUntil } from './support/wait.mjs';

const TOKEN = 'Tk7pW2qZ9xRb4mN8vL3c';

browserTest('token sign-in', { locale: 'zh-CN', emulator: { token: TOKEN } }, async ({ emu, page, browser, workDir, shot }) => {
  browser.allowHttpError(401, '/api/v1/'); // the answers before the token is given, and to the wrong one
  // The API wants the token; the console's files do not.
  assert.equal((await emu.api('GET', '/api/v1/products', undefined, { Authorization: 'Bearer nope' })).status, 401);
  assert.equal((await fetch(`${emu.base}/`)).status, 200);

  const apiCalls = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/api/v1/')) apiCalls.push({ url: r.url(), auth: r.headers().authorization || null });
  });

  await page.goto(`${emu.base}/#/products`);
  const panel = page.getByRole('region', { name: '请输入管理令牌' });
  await panel.getByRole('heading', { name: '请输入管理令牌', level: 1 }).waitFor();
  await panel.getByText('那一行含有 “need this token”').waitFor();
  await panel.getByText('docker compose logs emulator | grep token', { exact: true }).waitFor();
  await panel.getByText('--api-token', { exact: true }).waitFor();
  assert.ok(await page.locator('#main').isHidden(), 'the screens are hidden');
  assert.equal(await page.getByText(/Unauthorized|401/).filter({ visible: true }).count(), 0, 'no raw 401 on the page');
  const field = panel.getByLabel('管理令牌');
  assert.equal(await field.getAttribute('type'), 'password');
  assert.ok(await field.evaluate((el) => el === document.activeElement), 'the token field has focus');
  await page.locator('#live', { hasText: '需要令牌' }).waitFor();
  await shot('panel');

  // empty, then wrong: said in words, nothing kept
  await panel.getByRole('button', { name: '登录' }).click();
  await panel.getByText('请输入令牌', { exact: true }).waitFor();
  await field.fill('not-the-token');
  await panel.getByRole('button', { name: '登录' }).click();
  await panel.getByRole('alert').getByText('令牌不正确：haas-emu 拒绝了它。').waitFor();
  assert.equal(await field.getAttribute('aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('haas-emu.token') || localStorage.getItem('haas-emu.token')), null);
  await shot('wrong');

  // the right one: the products screen, and every call carries it
  await field.fill(TOKEN);
  await panel.getByRole('button', { name: '登录' }).click();
  await page.getByRole('heading', { name: '产品', level: 1 }).waitFor();
  assert.ok(await panel.isHidden());
  assert.equal(await page.evaluate(() => sessionStorage.getItem('haas-emu.token')), TOKEN);
  assert.equal(await page.evaluate(() => localStorage.getItem('haas-emu.token')), null);
  await page.locator('#live', { hasText: '实时' }).waitFor();
  const signedInAt = apiCalls.length;
  await page.getByLabel('产品名称').fill('HaaS Core2');
  await page.getByRole('button', { name: '创建产品' }).click();
  await page.getByRole('heading', { name: 'HaaS Core2', level: 1 }).waitFor();
  await page.getByLabel('DeviceName').fill('core2-0001');
  await page.getByRole('button', { name: '添加设备', exact: true }).click();
  await page.locator('tr[data-row="core2-0001"]').waitFor();

  // the upload (XMLHttpRequest) carries it too
  assert.equal((await emu.api('POST', '/api/v1/apps', { appName: 'python9000', appId: APP_ID })).status, 201);
  await page.goto(`${emu.base}/#/apps/${APP_ID}`);
  await page.getByRole('button', { name: '创建版本' }).click();
  const create = page.getByRole('dialog', { name: '创建版本' });
  await create.getByLabel('升级包（.tar.gz）').setInputFiles(makePackage(workDir, '0.0.2').file);
  await create.getByRole('button', { name: '确认' }).click();
  await page.locator('.list tr[data-row="0.0.2"]').waitFor();
  assert.ok(apiCalls.slice(signedInAt).some((c) => c.url.includes(`/apps/${APP_ID}/versions?filename=`)),
    'the upload was seen');
  // the live poller asks about once a second: wait for its next call
  await waitUntil(() => apiCalls.slice(signedInAt).some((c) => c.url.endsWith('/rev')), { what: 'the live poller' });
  const after = apiCalls.slice(signedInAt);
  assert.deepEqual(after.filter((c) => c.auth !== `Bearer ${TOKEN}`), [], 'every API call sends the token');

  // kept for the tab: a reload needs no sign-in
  await page.reload();
  await page.getByRole('heading', { name: 'python9000', level: 1 }).waitFor();
  assert.ok(await panel.isHidden());

  // the saved token stops working (haas-emu got another one): the panel again, saying so
  await page.evaluate(() => sessionStorage.setItem('haas-emu.token', 'an-old-token'));
  await page.reload();
  await panel.getByText('已保存的令牌被 haas-emu 拒绝了').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('haas-emu.token')), null, 'the refused token is forgotten');

  // in English too; "remember" keeps it in the browser
  await page.getByRole('button', { name: /Switch to English/ }).click();
  const panelEn = page.getByRole('region', { name: 'Sign in with the management token' });
  await panelEn.getByText('on the line with "need this token"').waitFor();
  await panelEn.getByLabel('Management token').fill(TOKEN);
  await panelEn.getByLabel('Remember in this browser').check();
  await panelEn.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'python9000', level: 1 }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('haas-emu.token')), TOKEN);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('haas-emu.token')), null);
  await page.locator('#live', { hasText: /^Live$/ }).waitFor();
  await shot('signed-in-en');

  // sign out: forgotten, the panel again
  await page.getByRole('button', { name: 'Sign out' }).click();
  await panelEn.getByRole('heading', { name: 'Sign in with the management token' }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('haas-emu.token')), null);

  // the link haas-emu prints, /?token=…: signed in, the token out of the address
  await page.goto(`${emu.base}/?token=${TOKEN}#/devices`);
  await page.getByRole('heading', { name: 'Devices', level: 1 }).waitFor();
  await page.locator('tr[data-row$="/core2-0001"]').waitFor();
  assert.ok(!page.url().includes('token='), page.url());
  assert.equal(await page.evaluate(() => sessionStorage.getItem('haas-emu.token')), TOKEN);
});
