// tutorial.test.mjs — the Python应用升级 tutorial clicked through in the
// console: product, device (+ a batch of 3), the device in 设备管理 → 设备,
// test device group, app python9000, version 0.0.2 uploaded (创建版本 with
// its confirmation step), test task, push to a running
// simulated Core2, and the task page showing it succeeded with its messages.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { browserTest } from './support/harness.mjs';
import { makePackage } from './support/package.mjs';
import { APP_ID } from './support/device.mjs';

browserTest('tutorial flow', { locale: 'zh-CN', timeout: 110000 }, async ({ emu, page, workDir, startDevice, shot }) => {
  await page.goto(`${emu.base}/`);
  await page.getByRole('heading', { name: '产品', exact: true }).waitFor();

  // 2.2 产品 and 设备
  await page.getByLabel('产品名称').fill('HaaS Core2');
  await page.getByRole('button', { name: '创建产品' }).click();
  await page.getByRole('heading', { name: 'HaaS Core2', level: 1 }).waitFor();

  await page.getByLabel('DeviceName').fill('core2-0001');
  await page.getByRole('button', { name: '添加设备', exact: true }).click();
  const triple = page.locator('.result .triple');
  await triple.locator('[data-field="DeviceSecret"]').waitFor();
  const productKey = (await triple.locator('[data-field="ProductKey"]').textContent()).trim();
  const deviceName = (await triple.locator('[data-field="DeviceName"]').textContent()).trim();
  const deviceSecret = (await triple.locator('[data-field="DeviceSecret"]').textContent()).trim();
  assert.equal(deviceName, 'core2-0001');
  assert.match(productKey, /^[A-Za-z0-9]{11}$/);
  assert.match(deviceSecret, /^[A-Za-z0-9]{32}$/);
  assert.equal(await triple.getByRole('button', { name: /复制/ }).count(), 4); // three fields + the main.py lines

  await page.getByLabel('添加数量').fill('3');
  await page.getByLabel('名称前缀（可选）').fill('batch-');
  await page.getByRole('button', { name: '批量添加', exact: true }).click();
  await page.getByText('已添加 3 台设备', { exact: true }).first().waitFor();
  const rows = page.locator('.list tbody tr[data-row]');
  await page.locator('tr[data-row="batch-0003"]').waitFor();
  assert.equal(await rows.count(), 4);

  // CSV export of the product's devices
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '导出设备（CSV）' }).click()]);
  const csv = fs.readFileSync(await download.path(), 'utf8');
  assert.match(download.suggestedFilename(), /\.csv$/);
  assert.ok(csv.includes(`${productKey},core2-0001,${deviceSecret},inactive`), csv);
  assert.equal(csv.trim().split(/\r?\n/).length, 5, csv);

  // The simulated Core2 with the triple read from the page; its status goes live.
  startDevice({ productKey, deviceName, deviceSecret });
  const row = page.locator('tr[data-row="core2-0001"]');
  await row.locator('.status-online').waitFor({ timeout: 20000 });
  await row.getByText(`${APP_ID}: 0.0.1`).waitFor({ timeout: 20000 });
  assert.notEqual((await row.locator('td').nth(2).textContent()).trim(), '—'); // last online time
  await shot('devices');

  // 设备管理 → 设备: the same device in the list of every product's devices
  await page.getByRole('navigation', { name: '主菜单' }).getByRole('link', { name: '设备', exact: true }).click();
  await page.getByRole('heading', { name: '设备', level: 1 }).waitFor();
  const flat = page.locator(`tr[data-row="${productKey}/core2-0001"]`);
  await flat.locator('.status-online').waitFor();
  await flat.getByRole('link', { name: 'HaaS Core2' }).waitFor();
  assert.equal(await page.locator('.list tbody tr[data-row]').count(), 4);

  // 2.4 测试设备分组 with the device
  await page.getByRole('link', { name: '测试设备分组' }).click();
  await page.getByLabel('分组名称').fill('测试分组');
  await page.getByRole('button', { name: '创建测试设备分组' }).click();
  await page.getByRole('heading', { name: '测试分组', level: 1 }).waitFor();
  await page.locator('#pick-core2-0001').check();
  await page.locator('#pick-batch-0001').check();
  await page.getByRole('button', { name: '添加设备', exact: true }).click();
  await page.locator(`tr[data-row="${productKey}/core2-0001"]`).waitFor();
  const extra = page.locator(`tr[data-row="${productKey}/batch-0001"]`);
  page.once('dialog', (d) => d.accept());
  await extra.getByRole('button', { name: '移除' }).click();
  await extra.waitFor({ state: 'detached' });
  await page.locator('#pick-batch-0001').waitFor(); // offered again
  assert.equal((await emu.api('GET', `/api/v1/groups`)).json.items[0].deviceCount, 1);

  // 5.2 应用: the browser checks appName and appId first
  await page.getByRole('link', { name: '应用升级' }).click();
  await page.getByLabel('应用名称（appName）').fill('python-9000');
  await page.getByLabel('应用 ID（appId）').fill('1234');
  await page.getByRole('button', { name: '创建应用' }).click();
  await page.getByText('appName 只能使用英文字母、数字', { exact: true }).waitFor();
  await page.getByText('appId 必须为 16 位数字', { exact: true }).waitFor();
  await page.getByLabel('应用名称（appName）').fill('python9000python9000');
  await page.getByLabel('应用 ID（appId）').fill('1234567812345678');
  await page.getByRole('button', { name: '创建应用' }).click();
  await page.getByText('appName 长度不能超过 16 个字符', { exact: true }).waitFor();
  await page.getByText('appId 开头必须为 88001000', { exact: true }).waitFor();
  assert.equal((await emu.api('GET', '/api/v1/apps')).json.total, 0);
  await page.getByLabel('应用名称（appName）').fill('python9000');
  await page.getByLabel('应用 ID（appId）').fill(APP_ID);
  await page.getByRole('button', { name: '创建应用' }).click();
  await page.getByRole('heading', { name: 'python9000', level: 1 }).waitFor();

  // 5.1 + 5.3 the package made with tar czf; 创建版本 shows what it read
  // from it, 确认 uploads it with a progress bar
  const pkg = makePackage(workDir, '0.0.2');
  await page.getByRole('button', { name: '创建版本' }).click();
  const create = page.getByRole('dialog', { name: '创建版本' });
  await create.getByLabel('升级包（.tar.gz）').setInputFiles(pkg.file);
  await create.getByText('文件名、manifest.json 与本应用一致：确认后将创建版本 0.0.2。').waitFor();
  await create.getByRole('button', { name: '确认' }).click();
  await page.getByText(`版本 0.0.2 已创建：大小 ${pkg.bytes.length} B，MD5 ${pkg.md5}`).waitFor();
  assert.ok(await create.isHidden());
  assert.equal(await page.locator('.upload-progress progress').evaluate((p) => p.value), 100);
  const vrow = page.locator('tr[data-row="0.0.2"]');
  await vrow.waitFor();
  assert.equal((await vrow.locator('[data-field="md5"]').textContent()).trim(), pkg.md5);
  await vrow.getByText(`${pkg.bytes.length} B`).waitFor();
  await vrow.getByText('测试中').waitFor();

  // 5.4 测试 → choose the group → the task
  await vrow.getByRole('button', { name: '测试' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('测试设备分组').selectOption({ label: '测试分组 (1 台设备)' });
  await dialog.getByRole('button', { name: '确定' }).click();
  await page.getByRole('heading', { name: '测试任务：python9000 0.0.2' }).waitFor();

  // 5.5 推送, and the live task table until the device succeeded
  await page.getByRole('button', { name: '推送', exact: true }).click();
  await page.getByText('已推送 1 台，离线 0 台，已是最新 0 台').waitFor();
  const drow = page.locator(`tr[data-row="${productKey}/core2-0001"]`);
  await drow.locator('[data-state="succeeded"]').waitFor({ timeout: 60000 });
  assert.equal((await drow.locator('[data-state]').textContent()).trim(), '成功');
  await page.locator('.progress-count', { hasText: '1/1' }).waitFor();
  assert.equal(await page.locator('[data-count="succeeded"]').textContent(), '1');
  assert.equal(await page.locator('[role="progressbar"]').getAttribute('aria-valuenow'), '1');
  await page.getByRole('button', { name: '重新推送' }).waitFor();

  // the live message log shows the push and the result
  const log = page.getByRole('log');
  await log.locator('li[data-kind="push"]', { hasText: '推送版本 0.0.2' }).waitFor();
  await log.locator('li[data-kind="result"]', { hasText: '升级结果 200 成功，版本 0.0.2' }).waitFor();
  await shot('task');

  // and the device reports the new version
  await drow.getByRole('link', { name: 'core2-0001' }).click();
  await page.getByText(`${APP_ID}: 0.0.2`).waitFor({ timeout: 20000 });
  await page.locator('[data-field="DeviceSecret"]', { hasText: deviceSecret }).waitFor();
});
