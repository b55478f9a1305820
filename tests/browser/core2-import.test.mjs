// core2-import.test.mjs — a Core2 already flashed with an Aliyun triple,
// imported in the console: product with its ProductKey, device with its
// DeviceSecret (checked in the browser first); the device page explains a
// refused MQTT login (wrong password, in Chinese and English, its clientId;
// "before the last successful login" once the device got in; a newer
// refusal replacing it live) and says where to connect, with the CA
// certificate to download.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { browserTest } from './support/harness.mjs';
import { waitUntil } from './support/wait.mjs';
import { linkClientId, mqttLogin } from './support/mqtt.mjs';

const PK = 'a1Core2Imp0';
const DN = 'core2-0001';
const SECRET = 'Fq3kZ8bN0xW5mR2tY7uH1jL4pC6vD9sA';

browserTest('core2 import and refused login', { locale: 'zh-CN', timeout: 120000 }, async ({ emu, page, startDevice, shot }) => {
  // 产品 with the device's own ProductKey
  await page.goto(`${emu.base}/#/products`);
  await page.getByLabel('产品名称').fill('HaaS Core2');
  await page.getByLabel('ProductKey（可选）').fill(PK);
  await page.getByRole('button', { name: '创建产品' }).click();
  await page.getByRole('heading', { name: 'HaaS Core2', level: 1 }).waitFor();
  assert.equal((await emu.api('GET', `/api/v1/products/${PK}`)).status, 200);

  // 添加设备 with its DeviceSecret: a wrong one is caught in the browser
  const form = page.getByRole('form', { name: '添加设备' });
  await form.getByText('导入已有的阿里云设备（例如已烧录三元组的 Core2）').waitFor();
  await form.getByLabel('DeviceName').fill(DN);
  await form.getByLabel('DeviceSecret（可选）').fill(SECRET.slice(0, 31) + '-');
  await form.getByRole('button', { name: '添加设备', exact: true }).click();
  await form.getByText('DeviceSecret 须为 32 位英文字母或数字（当前为 32 个字符）', { exact: true }).waitFor();
  assert.equal(await form.getByLabel('DeviceSecret（可选）').getAttribute('aria-invalid'), 'true');
  assert.equal((await emu.api('GET', `/api/v1/products/${PK}/devices`)).json.total, 0);

  await form.getByLabel('DeviceSecret（可选）').fill(SECRET);
  await form.getByRole('button', { name: '添加设备', exact: true }).click();
  const triple = page.locator('.result .triple');
  await triple.locator('[data-field="DeviceSecret"]').waitFor();
  assert.equal((await triple.locator('[data-field="ProductKey"]').textContent()).trim(), PK);
  assert.equal((await triple.locator('[data-field="DeviceName"]').textContent()).trim(), DN);
  assert.equal((await triple.locator('[data-field="DeviceSecret"]').textContent()).trim(), SECRET);
  await page.getByText(`设备 ${DN} 已按其 DeviceSecret 导入`).first().waitFor();
  assert.equal((await emu.api('GET', `/api/v1/products/${PK}/devices/${DN}`)).json.deviceSecret, SECRET);
  await shot('imported');

  // the device page: the same triple, no refusal yet, where to connect
  await page.locator(`tr[data-row="${DN}"]`).getByRole('link', { name: DN }).click();
  await page.getByRole('heading', { name: DN, level: 1 }).waitFor();
  await page.locator('[data-field="DeviceSecret"]', { hasText: SECRET }).waitFor();
  const connect = page.getByRole('region', { name: '连接设备' });
  await connect.getByText('127.0.0.1', { exact: true }).waitFor();
  for (const [label, port] of [['MQTT 端口', emu.mqttPort], ['MQTT over TLS 端口', emu.mqttsPort], ['HTTPS 端口', emu.httpsPort]]) {
    const row = connect.locator('.details-row', { has: page.getByText(label, { exact: true }) });
    assert.equal((await row.locator('dd').textContent()).trim(), String(port), label);
  }
  const ca = connect.getByRole('link', { name: '下载 CA 证书' });
  assert.equal(await ca.getAttribute('download'), 'haas-emu-ca.pem');
  const caUrl = new URL(await ca.getAttribute('href'), page.url()).href;
  const caResp = await fetch(caUrl);
  const caText = await caResp.text();
  assert.equal(caResp.status, 200, caText);
  assert.match(caText, /-----BEGIN CERTIFICATE-----/);
  const [download] = await Promise.all([page.waitForEvent('download'), ca.click()]);
  assert.equal(download.suggestedFilename(), 'haas-emu-ca.pem');
  assert.equal(fs.readFileSync(await download.path(), 'utf8'), caText);
  const refusal = page.locator('.refusal');
  assert.ok(await refusal.isHidden(), 'no refusal shown before one happened');
  assert.equal(await page.getByText('最近一次被拒登录').count(), 0);

  // a login with a wrong password: the broker refuses it, the page says why
  const clientId = linkClientId(`${PK}.${DN}`);
  const wrong = await mqttLogin({ port: emu.mqttPort, clientId, username: `${DN}&${PK}`, password: 'WRONGPASSWORD' });
  assert.notEqual(wrong.code, 0, wrong.output);
  assert.match(wrong.output, /not authori[sz]ed/i);
  await refusal.getByText('MQTT 服务器拒绝了该设备最近一次的登录').waitFor({ timeout: 15000 });
  await refusal.getByText('密码错误：设备上的 DeviceSecret 与这里的不一致').waitFor();
  await refusal.getByText(/\[WrongPassword\]/).waitFor();
  assert.equal((await refusal.locator('[data-field="clientId"]').textContent()).trim(), clientId);
  await refusal.getByText('127.0.0.1', { exact: true }).waitFor();
  assert.equal(await refusal.getByText('（发生在最近一次成功登录之前）').count(), 0);
  assert.equal(await refusal.getAttribute('role'), 'alert');
  await page.getByRole('region', { name: '设备信息' }).getByText(/密码错误：设备上的 DeviceSecret 与这里的不一致/).waitFor();
  await page.getByRole('log').locator('li[data-kind="refused"]', { hasText: 'MQTT 服务器拒绝登录 [WrongPassword]' }).waitFor();
  const stored = (await emu.api('GET', `/api/v1/products/${PK}/devices/${DN}`)).json.lastRefusal;
  assert.equal(stored.code, 'WrongPassword');
  await shot('refused-zh');

  // the same in English
  await page.getByRole('button', { name: /Switch to English/ }).click();
  await refusal.getByText('The MQTT broker refused this device\'s last login attempt').waitFor();
  await refusal.getByText('Wrong password: the DeviceSecret on the device differs from this one').waitFor();
  assert.equal((await refusal.locator('[data-field="clientId"]').textContent()).trim(), clientId);
  await page.getByRole('region', { name: 'Device', exact: true }).getByText('Last refused login').waitFor();
  const connectEn = page.getByRole('region', { name: 'Connect a device' });
  await connectEn.getByRole('link', { name: 'Download CA certificate' }).waitFor();
  await connectEn.getByText('Broker host', { exact: true }).waitFor();
  await shot('refused-en');

  // the Core2 with the imported triple gets in: the refusal is now an old one
  await waitUntil(() => Date.now() > stored.time + 1100, { timeout: 5000, what: 'a second after the refusal' });
  startDevice({ productKey: PK, deviceName: DN, deviceSecret: SECRET });
  await page.locator('.details .status-online').waitFor({ timeout: 30000 });
  await refusal.getByText('(before the last successful login)').waitFor({ timeout: 15000 });
  assert.equal(await refusal.locator('.refusal-reason').getAttribute('data-code'), 'WrongPassword');

  // a newer refusal (another client, an unknown signmethod) replaces it live
  const odd = linkClientId('probe-1', 'hmacsha999');
  const refused = await mqttLogin({ port: emu.mqttPort, clientId: odd, username: `${DN}&${PK}`, password: 'x' });
  assert.notEqual(refused.code, 0, refused.output);
  await refusal.getByText('Unknown signmethod in the clientId').waitFor({ timeout: 15000 });
  assert.equal((await refusal.locator('[data-field="clientId"]').textContent()).trim(), odd);
  assert.equal(await refusal.getByText('(before the last successful login)').count(), 0);
  assert.equal((await emu.api('GET', `/api/v1/products/${PK}/devices/${DN}`)).json.status, 'online');
  await shot('refused-again-en');
});
