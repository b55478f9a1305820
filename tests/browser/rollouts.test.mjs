// rollouts.test.mjs — 分批发布 (staged rollouts, issue 17): a product, two
// devices online as bare MQTT clients on firmware 1.0.0 and a firmware
// 1.0.1, made over REST; in the console (reached from the menu) a rollout
// of two batches (1 device, then the rest) with error threshold 0, its
// batch editor checked in the browser; the page follows it live: batch 1
// running, its device pushed, downloading with its bar, succeeded; batch 2
// running, its device failing (-1 in words), the rollout paused with the
// reason in words (English too); 继续 by the button ends it; each device's
// state history; an app rollout to a chosen device scheduled for later
// (the local time sent as UTC) and then 取消发布; a rollout that starts by
// the clock alone followed by the page; timeouts and a retry in words and
// in the history; a retry to come, waiting while paused by hand; an app
// rollout followed live to the device's 405; the list; the phone.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { browserTest } from './support/harness.mjs';
import { connectDevice } from './support/mqtt_device.mjs';
import { waitUntil } from './support/wait.mjs';
import { makePackage, packageName } from './support/package.mjs';
import { APP_ID } from './support/device.mjs';

const DN1 = 'core2-0001'; // batch 1
const DN2 = 'core2-0002'; // batch 2
const DN3 = 'core2-0003'; // made later, never online

browserTest('staged rollouts', { locale: 'zh-CN', timeout: 150000 }, async ({ emu, page, workDir, shot }) => {
  const pk = (await emu.api('POST', '/api/v1/products', { name: 'HaaS Core2' })).json.productKey;
  const secrets = {};
  for (const dn of [DN1, DN2]) secrets[dn] = (await emu.api('POST', `/api/v1/products/${pk}/devices`, { deviceName: dn })).json.deviceSecret;
  const fwBytes = crypto.randomBytes(3000);
  const fw = await emu.api('POST', `/api/v1/products/${pk}/firmwares?version=1.0.1&name=core2-fw`, fwBytes, { 'Content-Type': 'application/octet-stream' });
  assert.equal(fw.status, 201, fw.text);
  await emu.api('POST', '/api/v1/apps', { appName: 'python9000', appId: APP_ID });
  const pkg = makePackage(workDir, '0.0.2');
  const ver = await emu.api('POST', `/api/v1/apps/${APP_ID}/versions?filename=${packageName('0.0.2')}`, pkg.bytes, { 'Content-Type': 'application/gzip' });
  assert.equal(ver.status, 201, ver.text);

  // Both devices online, told of upgrades, on firmware 1.0.0.
  const devs = {};
  try {
    for (const dn of [DN1, DN2]) {
      devs[dn] = await connectDevice({ port: emu.mqttPort, productKey: pk, deviceName: dn, deviceSecret: secrets[dn] });
      await devs[dn].subscribe(`/ota/device/upgrade/${pk}/${dn}`);
      await devs[dn].publish(`/ota/device/inform/${pk}/${dn}`, { id: 1, params: { version: '1.0.0' } });
    }
    await waitUntil(
      async () => {
        for (const dn of [DN1, DN2]) {
          const d = (await emu.api('GET', `/api/v1/products/${pk}/devices/${dn}`)).json;
          if (d.status !== 'online' || !(d.modules || []).some((m) => m.moduleName === 'default' && m.version === '1.0.0')) return false;
        }
        return true;
      },
      { timeout: 15000, what: 'both devices online on firmware 1.0.0' },
    );

    const dialogs = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      d.accept();
    });

    // 分批发布 from the menu, under 升级服务
    await page.goto(`${emu.base}/#/products`);
    await page.getByRole('navigation', { name: '主菜单' }).getByRole('list', { name: '升级服务' }).getByRole('link', { name: '分批发布' }).click();
    await page.getByRole('heading', { name: '分批发布', level: 1 }).waitFor();
    await page.getByText('还没有分批发布。').waitFor();

    // 新建分批发布: the firmware of the only product, 2 batches, error threshold 0
    await page.getByRole('button', { name: '新建分批发布' }).click();
    let dialog = page.getByRole('dialog', { name: '新建分批发布' });
    await dialog.getByLabel('名称（可选）').fill('灰度 1.0.1');
    assert.equal(await dialog.getByRole('radio', { name: '固件升级' }).isChecked(), true);
    await waitUntil(async () => (await dialog.getByLabel('产品', { exact: true }).inputValue()) === pk, { what: 'the product chosen' });
    await waitUntil(async () => (await dialog.getByLabel('固件', { exact: true }).inputValue()) === fw.json.firmwareId, { what: 'the only firmware chosen' });
    assert.equal(await dialog.getByRole('radio', { name: '全部设备' }).isChecked(), true);
    // the batches: 10%, 30%, 100% at first; one deleted, a wrong size caught in the browser
    assert.deepEqual(await dialog.locator('input[name="batch"]').evaluateAll((l) => l.map((i) => i.value)), ['10%', '30%', '100%']);
    await dialog.getByRole('button', { name: '删除第 3 批' }).click();
    assert.equal(await dialog.locator('input[name="batch"]').count(), 2);
    await dialog.getByLabel('第 1 批', { exact: true }).fill('1 台');
    await dialog.getByLabel('第 2 批', { exact: true }).fill('100%');
    await dialog.getByLabel('错误阈值（%）').fill('0');
    await dialog.getByLabel('成功阈值（%）').fill('100');
    await dialog.getByRole('button', { name: '创建发布' }).click();
    await dialog.getByText('请填设备数（如 3）或 1–100 的百分比（如 10%）').waitFor();
    assert.equal(await dialog.getByLabel('第 1 批', { exact: true }).getAttribute('aria-invalid'), 'true');
    assert.equal((await emu.api('GET', '/api/v1/rollouts')).json.total, 0);
    await dialog.getByLabel('第 1 批', { exact: true }).fill('1');
    assert.equal(await dialog.getByLabel('第 1 批', { exact: true }).getAttribute('aria-invalid'), null);
    await shot('new');
    await dialog.getByRole('button', { name: '创建发布' }).click();

    // the rollout's page: batch 1 running, its device pushed
    await page.getByRole('heading', { name: '分批发布：灰度 1.0.1', level: 1 }).waitFor();
    const rolloutId = decodeURIComponent(page.url().split('/').pop());
    const stored = (await emu.api('GET', `/api/v1/rollouts/${rolloutId}`)).json;
    assert.deepEqual(stored.batches, ['1', '100%']);
    assert.equal(stored.errorPercent, 0);
    assert.equal(stored.successPercent, 100);
    assert.equal(stored.targetType, 'product');
    assert.equal(stored.kind, 'firmware');
    const row1 = page.locator(`tr[data-row="${pk}/${DN1}"]`);
    const row2 = page.locator(`tr[data-row="${pk}/${DN2}"]`);
    const batch = (n) => page.locator(`.batch[data-batch="${n}"]`);
    await page.locator('[data-rollout-status="running"]').first().waitFor();
    await page.locator('.batch[data-batch="1"][data-batch-status="running"]').waitFor();
    await page.locator('.batch[data-batch="2"][data-batch-status="waiting"]').waitFor();
    await page.getByText('第 1 批，共 2 批').waitFor();
    await row2.locator('[data-state="waiting"]').waitFor();
    await row2.getByText('等待第 2 批开始').waitFor();
    assert.equal((await row1.locator('[data-field="batch"]').textContent()).trim(), '1');
    assert.equal((await row2.locator('[data-field="batch"]').textContent()).trim(), '2');
    const push1 = (await devs[DN1].waitFor((m) => m.topic === `/ota/device/upgrade/${pk}/${DN1}`, 'the upgrade message of batch 1')).json;
    assert.equal(push1.data.version, '1.0.1');
    await row1.locator('[data-state="pushed"]').waitFor();
    assert.equal((await row1.locator('[data-field="attempts"]').textContent()).trim(), '1');
    assert.equal(await page.getByRole('button', { name: '暂停', exact: true }).isEnabled(), true);
    assert.equal(await page.getByRole('button', { name: '继续', exact: true }).isDisabled(), true);
    assert.equal(await page.getByRole('button', { name: '取消发布' }).isEnabled(), true);

    // batch 1's device downloads (its bar), then informs the new version
    await devs[DN1].publish(`/ota/device/progress/${pk}/${DN1}`, { id: 2, params: { step: '40', desc: '' } });
    await row1.locator('[data-state="downloading"]').waitFor();
    await row1.locator('[data-progress="40"]').waitFor();
    await shot('batch1');
    await devs[DN1].publish(`/ota/device/inform/${pk}/${DN1}`, { id: 3, params: { version: '1.0.1' } });
    await row1.locator('[data-state="succeeded"]').waitFor();

    // batch 2 starts: its device is pushed
    await page.locator('.batch[data-batch="1"][data-batch-status="done"]').waitFor();
    await page.locator('.batch[data-batch="2"][data-batch-status="running"]').waitFor();
    await page.getByText('第 2 批，共 2 批').waitFor();
    assert.equal(await batch(1).locator('[data-count="succeeded"]').textContent(), '1');
    await devs[DN2].waitFor((m) => m.topic === `/ota/device/upgrade/${pk}/${DN2}`, 'the upgrade message of batch 2');
    await row2.locator('[data-state="pushed"]').waitFor();
    await shot('batch2');

    // ... and fails: the rollout pauses, with the reason
    await devs[DN2].publish(`/ota/device/progress/${pk}/${DN2}`, { id: 4, params: { step: '-1', desc: 'flash busy' } });
    await row2.locator('[data-state="failed"]').waitFor();
    assert.equal((await row2.locator('.fail-reason').textContent()).trim(), '-1 升级失败: flash busy');
    const banner = page.locator('.pause-banner');
    await banner.waitFor();
    assert.equal((await banner.locator('.pause-reason').textContent()).trim(), '第 2 批 1 台设备中有 1 台失败或超时，超过了错误阈值 0%');
    await page.locator('[data-rollout-status="paused"]').first().waitFor();
    assert.equal(await batch(2).locator('[data-count="failed"]').textContent(), '1');
    assert.equal(await page.getByRole('button', { name: '暂停', exact: true }).isDisabled(), true);
    assert.equal(await page.getByRole('button', { name: '继续', exact: true }).isEnabled(), true);
    assert.equal(await page.getByRole('button', { name: '取消发布' }).isEnabled(), true);
    await page.getByText('-1 升级失败', { exact: true }).waitFor(); // the legend of the codes
    await page.locator('.details-row', { hasText: '固件' }).getByRole('link', { name: 'core2-fw' }).waitFor();
    // the device table filtered by state, then by batch
    const devicesCard = page.getByRole('region', { name: '设备升级状态' });
    await devicesCard.getByLabel('升级状态').selectOption({ label: '失败 (1)' });
    await row1.waitFor({ state: 'detached' });
    await devicesCard.getByText('显示 1 台，共 2 台').waitFor();
    await devicesCard.getByLabel('升级状态').selectOption({ label: '全部状态' });
    await devicesCard.getByLabel('批次').selectOption({ label: '第 1 批' });
    await row2.waitFor({ state: 'detached' });
    assert.equal(await row1.count(), 1);
    await devicesCard.getByLabel('批次').selectOption({ label: '全部批次' });
    await row2.waitFor();
    await shot('paused');

    // the pause in English
    await page.getByRole('button', { name: /Switch to English/ }).click();
    await page.getByRole('heading', { name: 'Staged rollout: 灰度 1.0.1', level: 1 }).waitFor();
    assert.equal((await page.locator('.pause-banner .pause-reason').textContent()).trim(), 'batch 2: 1 of 1 devices failed or timed out, more than the error threshold of 0%');
    assert.equal((await row2.locator('.fail-reason').textContent()).trim(), '-1 upgrade failed: flash busy');
    await page.getByRole('button', { name: 'Resume', exact: true }).waitFor();
    await page.getByRole('button', { name: /Switch to Chinese/ }).click();
    await page.getByRole('heading', { name: '分批发布：灰度 1.0.1', level: 1 }).waitFor();

    // the list names it paused, with the reason
    await page.getByRole('navigation', { name: '主菜单' }).getByRole('link', { name: '分批发布' }).click();
    const listRow = page.locator(`tr[data-row="${rolloutId}"]`);
    await listRow.locator('[data-rollout-status="paused"]').waitFor();
    await listRow.getByText('第 2 批 1 台设备中有 1 台失败或超时，超过了错误阈值 0%').waitFor();
    assert.equal((await listRow.locator('[data-field="batch"]').textContent()).trim(), '2 / 2');
    await listRow.getByText('成功 1 · 失败 1 / 共 2 台').waitFor();
    await listRow.getByRole('link', { name: '灰度 1.0.1' }).click();
    await page.getByRole('heading', { name: '分批发布：灰度 1.0.1', level: 1 }).waitFor();

    // 继续: the failure accepted, the last batch ends the rollout
    await page.getByRole('button', { name: '继续', exact: true }).click();
    await page.getByText('发布已继续').waitFor();
    await page.locator('[data-rollout-status="completed"]').first().waitFor();
    assert.ok(await banner.isHidden());
    for (const name of ['暂停', '继续', '取消发布']) assert.equal(await page.getByRole('button', { name, exact: true }).isDisabled(), true, name);
    await page.locator('.progress-count', { hasText: '2/2' }).waitFor();

    // a device's history: batch 1 started, push 1, downloading, succeeded
    await row1.getByRole('button', { name: `${DN1} 的状态历史` }).click();
    let history = page.getByRole('dialog', { name: `状态历史：${DN1}` });
    const events = history.getByRole('list', { name: `${DN1} 的状态历史` }).getByRole('listitem');
    await events.first().waitFor();
    assert.deepEqual(await events.evaluateAll((l) => l.map((e) => e.dataset.state)), ['queued', 'pushed', 'downloading', 'succeeded']);
    await events.nth(0).getByText('第 1 批开始').waitFor();
    await events.nth(1).getByText('第 1 次推送').waitFor();
    await shot('history');
    await page.keyboard.press('Escape');
    await history.waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement.dataset.key), `history-${pk}/${DN1}`);
    // and the failed one's: the failure in words
    await row2.getByRole('button', { name: `${DN2} 的状态历史` }).click();
    history = page.getByRole('dialog', { name: `状态历史：${DN2}` });
    await history.locator('[data-state="failed"] .fail-reason', { hasText: '-1 升级失败: flash busy' }).waitFor();
    await history.getByRole('button', { name: '关闭' }).click();
    await history.waitFor({ state: 'hidden' });

    // an app rollout to a chosen device, scheduled for later: then canceled
    await page.goto(`${emu.base}/#/products/${pk}`);
    await page.locator('.page-actions').getByRole('link', { name: '分批发布' }).click();
    await listRow.waitFor();
    assert.ok(page.url().endsWith(`#/rollouts?productKey=${pk}`), page.url());
    assert.equal(await page.getByRole('region', { name: '分批发布列表' }).getByLabel('产品').inputValue(), pk);
    await page.getByRole('button', { name: '新建分批发布' }).click();
    dialog = page.getByRole('dialog', { name: '新建分批发布' });
    await dialog.getByRole('radio', { name: '应用升级' }).check();
    assert.ok(await dialog.getByLabel('固件', { exact: true }).isHidden());
    await waitUntil(async () => (await dialog.getByLabel('应用', { exact: true }).inputValue()) === APP_ID, { what: 'the only app chosen' });
    await waitUntil(async () => (await dialog.getByLabel('应用版本').inputValue()) === '0.0.2', { what: 'its only version chosen' });
    await dialog.getByRole('radio', { name: '指定设备' }).check();
    assert.equal(await dialog.getByLabel(/^动态升级/).isDisabled(), true);
    await dialog.getByRole('button', { name: '创建发布' }).click();
    await dialog.getByText('请至少勾选一台设备。').waitFor(); // none ticked: caught in the browser
    await dialog.getByLabel(DN2).check();
    const local = '2030-06-01T08:30';
    await dialog.getByLabel('定时开始（可选）').fill(local);
    const utc = await page.evaluate((l) => new Date(l).toISOString().replace(/\.\d{3}Z$/, 'Z'), local);
    await dialog.getByText(`将以 ${utc}（UTC）发送`).waitFor();
    await dialog.getByLabel('重试次数').fill('2');
    await dialog.getByLabel('单台设备超时（秒）').fill('600');
    await dialog.getByRole('button', { name: '创建发布' }).click();
    await page.locator('[data-rollout-status="scheduled"]').first().waitFor();
    const appId = decodeURIComponent(page.url().split('/').pop());
    assert.notEqual(appId, rolloutId);
    const app = (await emu.api('GET', `/api/v1/rollouts/${appId}`)).json;
    assert.equal(app.kind, 'app');
    assert.equal(app.startAt, utc);
    assert.equal(app.maxRetries, 2);
    assert.equal(app.timeoutSeconds, 600);
    assert.deepEqual(app.devices.map((d) => d.deviceName), [DN2]);
    await page.locator(`tr[data-row="${pk}/${DN2}"] [data-state="waiting"]`).waitFor();
    await page.locator('.details-row', { hasText: '重试' }).getByText('最多 2 次，间隔 60 秒').waitFor();
    await page.getByText('404 下载失败', { exact: true }).waitFor(); // an app's codes in the legend
    await page.locator('.details-row', { hasText: '应用' }).getByRole('link', { name: 'python9000' }).waitFor();
    assert.equal(await page.getByRole('button', { name: '暂停', exact: true }).isEnabled(), true);
    await page.getByRole('button', { name: '取消发布' }).click();
    await page.locator('[data-rollout-status="canceled"]').first().waitFor();
    await page.locator(`tr[data-row="${pk}/${DN2}"] [data-state="canceled"]`).waitFor();
    await page.locator('.batch[data-batch="1"]').getByText('未执行').waitFor();
    await page.getByText('尚未开始任何批次').waitFor();
    for (const name of ['暂停', '继续', '取消发布']) assert.equal(await page.getByRole('button', { name, exact: true }).isDisabled(), true, name);
    assert.equal((await emu.api('GET', `/api/v1/rollouts/${appId}`)).json.status, 'canceled');
    assert.deepEqual(dialogs, ['取消这个分批发布？尚未完成的设备将标记为已取消，后续批次不再开始。']);
    dialogs.length = 0;
    await shot('canceled');

    // a start by the clock alone (no API write, no message): the page asks again by itself
    await emu.api('POST', `/api/v1/products/${pk}/devices`, { deviceName: DN3 });
    const soon = new Date(Date.now() + 5000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const timed = await emu.api('POST', '/api/v1/rollouts', { kind: 'firmware', firmwareId: fw.json.firmwareId, targetType: 'devices', devices: [DN3], startAt: soon });
    assert.equal(timed.status, 201, timed.text);
    await page.goto(`${emu.base}/#/rollouts/${timed.json.rolloutId}`);
    await page.locator('[data-rollout-status="scheduled"]').first().waitFor();
    await page.locator(`tr[data-row="${pk}/${DN3}"] [data-state="waiting"]`).waitFor();
    await page.locator('[data-rollout-status="running"]').first().waitFor({ timeout: 15000 });
    await page.locator(`tr[data-row="${pk}/${DN3}"] [data-state="queued"]`).waitFor();
    await page.locator(`tr[data-row="${pk}/${DN3}"]`).getByText('设备上线后推送').waitFor();

    // timeouts and retries in words: 1 s to answer, one retry 1 s later, then no retry left
    const retried = await emu.api('POST', '/api/v1/rollouts', { kind: 'firmware', firmwareId: fw.json.firmwareId, targetType: 'devices', devices: [DN2], timeoutSeconds: 1, maxRetries: 1, retrySeconds: 1, name: 'retries' });
    assert.equal(retried.status, 201, retried.text);
    await page.goto(`${emu.base}/#/rollouts/${retried.json.rolloutId}`);
    const retryRow = page.locator(`tr[data-row="${pk}/${DN2}"]`);
    await page.locator('[data-rollout-status="paused"]').first().waitFor({ timeout: 20000 });
    await retryRow.locator('[data-state="timedOut"]').waitFor();
    assert.equal((await retryRow.locator('[data-field="attempts"]').textContent()).trim(), '2');
    await retryRow.getByText('1 秒内没有升级结果').waitFor();
    await retryRow.getByText('重试机会已用完（共 1 次）').waitFor();
    await page.locator('.pause-banner .pause-reason', { hasText: '第 1 批 1 台设备中有 1 台失败或超时' }).waitFor();
    await retryRow.getByRole('button', { name: `${DN2} 的状态历史` }).click();
    history = page.getByRole('dialog', { name: `状态历史：${DN2}` });
    const retryEvents = history.getByRole('listitem');
    await retryEvents.nth(5).waitFor();
    assert.deepEqual(await retryEvents.evaluateAll((l) => l.map((e) => e.dataset.state)), ['queued', 'pushed', 'timedOut', 'queued', 'pushed', 'timedOut']);
    assert.deepEqual(
      await retryEvents.locator('.history-detail').allTextContents(),
      ['第 1 批开始', '第 1 次推送', '1 秒内没有升级结果', '等待第 1 次重试', '第 2 次推送', '1 秒内没有升级结果'],
    );
    await shot('retries');
    await page.keyboard.press('Escape');

    // a retry to come, in words; paused by hand it waits for the resume
    const later = await emu.api('POST', '/api/v1/rollouts', { kind: 'firmware', firmwareId: fw.json.firmwareId, targetType: 'devices', devices: [DN2], timeoutSeconds: 1, maxRetries: 1, retrySeconds: 600, name: 'retry later' });
    assert.equal(later.status, 201, later.text);
    await page.goto(`${emu.base}/#/rollouts/${later.json.rolloutId}`);
    await retryRow.locator('[data-state="timedOut"]').waitFor({ timeout: 15000 });
    await retryRow.getByText(/^将于 .+ 第 1 次重试（共 1 次）$/).waitFor();
    await page.getByRole('button', { name: '暂停', exact: true }).click();
    await page.getByText('发布已暂停').waitFor();
    await page.locator('.pause-banner .pause-reason', { hasText: '手动暂停' }).waitFor();
    await retryRow.getByText('继续发布后第 1 次重试（共 1 次）').waitFor();
    await page.getByRole('button', { name: '取消发布' }).click();
    await page.locator('[data-rollout-status="canceled"]').first().waitFor();
    await retryRow.locator('[data-state="canceled"]').waitFor();
    assert.deepEqual(dialogs, ['取消这个分批发布？尚未完成的设备将标记为已取消，后续批次不再开始。']);

    // an app rollout followed live: the HaaS push, then the device's 405 in words
    await devs[DN1].subscribe(`/sys/${pk}/${DN1}/thing/service/hli_service_upgrade_push`);
    const appLive = await emu.api('POST', '/api/v1/rollouts', { kind: 'app', productKey: pk, appId: APP_ID, version: '0.0.2', targetType: 'devices', devices: [DN1], name: 'app 0.0.2' });
    assert.equal(appLive.status, 201, appLive.text);
    await page.goto(`${emu.base}/#/rollouts/${appLive.json.rolloutId}`);
    await page.getByRole('heading', { name: '分批发布：app 0.0.2', level: 1 }).waitFor();
    const appPush = (await devs[DN1].waitFor((m) => m.topic.endsWith('/thing/service/hli_service_upgrade_push'), 'the app push')).json;
    assert.equal(appPush.params.app[0].version, '0.0.2');
    await row1.locator('[data-state="pushed"]').waitFor();
    const ext = JSON.stringify({ appId: APP_ID, appNewVersion: '0.0.2', appOldVersion: '0.0.1' });
    await devs[DN1].publish(`/sys/${pk}/${DN1}/thing/event/hli_event/post`, { id: 9, version: '1.0', params: { eventType: 'haas.upgrade', eventName: 'app.result', argInt: 405, ext } });
    await row1.locator('[data-state="failed"]').waitFor();
    assert.equal((await row1.locator('.fail-reason').textContent()).trim(), '405 安装失败');
    await page.locator('.pause-banner .pause-reason', { hasText: '第 1 批 1 台设备中有 1 台失败或超时' }).waitFor();

    // the phone: the rollout page and the list fit
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${emu.base}/#/rollouts/${rolloutId}`);
    await batch(2).waitFor();
    assert.ok((await overflow()) <= 0, `the rollout page is ${await overflow()} px wider than the phone`);
    await page.goto(`${emu.base}/#/rollouts`);
    await page.locator(`tr[data-row="${appId}"]`).waitFor();
    assert.ok((await overflow()) <= 0, `分批发布 is ${await overflow()} px wider than the phone`);
  } finally {
    for (const d of Object.values(devs)) d.close();
  }
});
