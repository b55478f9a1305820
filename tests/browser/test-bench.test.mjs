// test-bench.test.mjs — 测试工具 (the test bench, issue 13) under
// --clock virtual: a product, a device online as a bare MQTT client, an
// app version, a group and a test task with a 30 s timeout made over REST;
// in the console (reached from the menu) the header's clock says virtual,
// 添加规则 shows each action's numbers only (truncate → at, corrupt → at and
// count, disconnect → when, refuseLogin → logins) and what it does, and a
// dropPush rule scoped to the task is added; the task pushed, the clock
// moved 10 s with +10 秒 (still pushed) and 21 s more by a custom amount:
// the device timed out, in words, counted; the task's timeline names the
// fault, the push and the timeout; the rule fired once, 停用 then 删除 in
// the console; the push again reaches the device; the device's timeline;
// a task made in the console with a timeout (a wrong one caught first);
// the test bench in English; the phone.
import assert from 'node:assert/strict';
import { browserTest } from './support/harness.mjs';
import { connectDevice } from './support/mqtt_device.mjs';
import { waitUntil } from './support/wait.mjs';
import { makePackage, packageName } from './support/package.mjs';
import { APP_ID } from './support/device.mjs';

const DN = 'core2-0001';
const START = Date.parse('2026-01-01T00:00:00Z');

browserTest('test bench', { locale: 'zh-CN', timeout: 120000, emulator: { clock: 'virtual' } }, async ({ emu, page, workDir, shot }) => {
  const clockMs = async () => (await emu.api('GET', '/api/v1/clock')).json.nowMs;
  assert.equal((await emu.api('GET', '/api/v1/clock')).json.mode, 'virtual');
  const pk = (await emu.api('POST', '/api/v1/products', { name: 'HaaS Core2' })).json.productKey;
  const secret = (await emu.api('POST', `/api/v1/products/${pk}/devices`, { deviceName: DN })).json.deviceSecret;
  await emu.api('POST', '/api/v1/apps', { appName: 'python9000', appId: APP_ID });
  const pkg = makePackage(workDir, '0.0.2');
  const ver = await emu.api('POST', `/api/v1/apps/${APP_ID}/versions?filename=${packageName('0.0.2')}`, pkg.bytes, { 'Content-Type': 'application/gzip' });
  assert.equal(ver.status, 201, ver.text);
  const gid = (await emu.api('POST', '/api/v1/groups', { name: '测试分组' })).json.groupId;
  assert.equal((await emu.api('POST', `/api/v1/groups/${gid}/devices`, { devices: [{ productKey: pk, deviceName: DN }] })).status < 300, true);
  const task = await emu.api('POST', '/api/v1/tasks', { appId: APP_ID, version: '0.0.2', groupId: gid, timeoutSeconds: 30 });
  assert.equal(task.status, 201, task.text);
  const taskId = task.json.taskId;
  assert.equal(task.json.timeoutSeconds, 30);

  const dev = await connectDevice({ port: emu.mqttPort, productKey: pk, deviceName: DN, deviceSecret: secret });
  try {
    const pushTopic = `/sys/${pk}/${DN}/thing/service/hli_service_upgrade_push`;
    await dev.subscribe(pushTopic);
    await waitUntil(async () => (await emu.api('GET', `/api/v1/products/${pk}/devices/${DN}`)).json.status === 'online', { what: 'the device online' });

    const dialogs = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      d.accept();
    });

    // 测试工具 → 故障注入 from the menu; the header's clock is virtual, at the start
    await page.goto(`${emu.base}/#/products`);
    const clockLink = page.locator('header .clock-indicator');
    await clockLink.locator('.clock-mode', { hasText: '虚拟时钟' }).waitFor();
    assert.equal(await clockLink.locator('time').getAttribute('datetime'), '2026-01-01T00:00:00Z');
    await page.getByRole('navigation', { name: '主菜单' }).getByRole('list', { name: '测试工具' }).getByRole('link', { name: '故障注入' }).click();
    await page.getByRole('heading', { name: '故障注入', level: 1 }).waitFor();
    await page.getByText('还没有故障规则。').waitFor();
    const clockCard = page.getByRole('region', { name: '时钟' });
    await clockCard.locator('[data-clock-mode="virtual"]').waitFor();
    await clockCard.getByText('2026-01-01T00:00:00Z').waitFor();

    // 添加规则: each action shows only its numbers, with what it does
    await page.getByRole('button', { name: '添加规则' }).click();
    const dialog = page.getByRole('dialog', { name: '添加规则' });
    const action = dialog.getByLabel('故障动作');
    assert.equal(await action.inputValue(), 'dropPush');
    const shown = async () => {
      const out = [];
      for (const label of ['HTTP 状态码', '毫秒', '每秒字节数', '起始字节', '字节数', '多声明的字节数', '拒绝登录次数', '断开时机']) {
        if (await dialog.getByLabel(label, { exact: true }).isVisible()) out.push(label);
      }
      return out;
    };
    assert.deepEqual(await shown(), []);
    await dialog.getByText('推送（或固件升级通知）不发出，但任务记为已推送').waitFor();
    await action.selectOption({ label: '截断' });
    assert.deepEqual(await shown(), ['起始字节']);
    await dialog.getByText('发送了这么多字节后断开连接：设备应以 Range 请求断点续传并最终成功。').waitFor();
    await action.selectOption({ label: '篡改字节' });
    assert.deepEqual(await shown(), ['起始字节', '字节数']);
    await action.selectOption({ label: '断开设备连接' });
    assert.deepEqual(await shown(), ['断开时机']);
    await action.selectOption({ label: '拒绝登录' });
    assert.deepEqual(await shown(), ['拒绝登录次数']);
    // refuseLogin names a device: caught in the browser
    await dialog.getByRole('button', { name: '添加规则' }).click();
    await dialog.getByText('这个动作需要指定设备：请选择产品和设备').waitFor();
    assert.equal((await emu.api('GET', '/api/v1/faults')).json.total, 0);
    await action.selectOption({ label: '延迟推送' });
    assert.deepEqual(await shown(), ['毫秒']);
    await action.selectOption({ label: '丢弃推送' });
    assert.deepEqual(await shown(), []);
    // scope: the task; the trigger's numbers only for their choice
    await dialog.getByLabel('任务或分批发布').selectOption(taskId);
    await dialog.getByRole('radio', { name: '接下来 N 次' }).check();
    await dialog.getByLabel('次数', { exact: true }).waitFor();
    assert.equal(await dialog.getByLabel('概率（%）').isVisible(), false);
    await dialog.getByRole('radio', { name: '总是' }).check();
    assert.equal(await dialog.getByLabel('次数', { exact: true }).isVisible(), false);
    await shot('new-rule');
    await dialog.getByRole('button', { name: '添加规则' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const rules = (await emu.api('GET', '/api/v1/faults')).json.items;
    assert.equal(rules.length, 1);
    assert.equal(rules[0].action, 'dropPush');
    assert.deepEqual(rules[0].scope, { taskId });
    assert.equal(rules[0].trigger, 'always');
    const fid = rules[0].faultId;
    const ruleRow = page.locator(`tr[data-row="${fid}"]`);
    await ruleRow.getByText('丢弃推送').waitFor();
    await ruleRow.getByText(`任务 ${taskId}`).waitFor();
    await ruleRow.locator('[data-enabled="true"]').waitFor();
    await ruleRow.locator('[data-live="live"]').waitFor();
    assert.equal(await ruleRow.locator('[data-field="fired"]').textContent(), '0');

    // the task: pushed (the fault keeps the push from the device)
    await page.goto(`${emu.base}/#/tasks/${taskId}`);
    await page.locator('.details-row', { hasText: '超时时间' }).getByText('30 秒').waitFor();
    const row = page.locator(`tr[data-row="${pk}/${DN}"]`);
    await row.locator('[data-state="pending"]').waitFor();
    await page.getByRole('button', { name: '推送', exact: true }).click();
    await page.getByText('已推送 1 台，离线 0 台，已是最新 0 台').waitFor();
    await row.locator('[data-state="pushed"]').waitFor();
    assert.equal((await emu.api('GET', `/api/v1/faults/${fid}`)).json.fired, 1);
    assert.equal(dev.messages.some((m) => m.topic === pushTopic), false, 'the dropped push reached the device');

    // the clock: +10 秒 (still pushed), then 21 seconds more: timed out
    await page.getByRole('navigation', { name: '主菜单' }).getByRole('link', { name: '故障注入' }).click();
    await ruleRow.locator('[data-field="fired"]', { hasText: '1' }).waitFor();
    await clockCard.getByRole('button', { name: '时钟向前拨 10 秒' }).click();
    await clockCard.getByText('2026-01-01T00:00:10Z').waitFor();
    await clockLink.locator('time[datetime="2026-01-01T00:00:10Z"]').waitFor();
    assert.equal(await clockMs(), START + 10000);
    assert.equal((await emu.api('GET', `/api/v1/tasks/${taskId}`)).json.devices[0].state, 'pushed');
    await clockCard.getByLabel('时长', { exact: true }).fill('21');
    assert.equal(await clockCard.getByLabel('单位', { exact: true }).inputValue(), '1');
    await clockCard.getByRole('button', { name: '向前拨动', exact: true }).click();
    await clockCard.getByText('2026-01-01T00:00:31Z').waitFor();
    assert.equal(await clockMs(), START + 31000);
    await shot('clock');
    await page.goto(`${emu.base}/#/tasks/${taskId}`);
    await row.locator('[data-state="timedOut"]', { hasText: '超时' }).waitFor();
    await row.getByText('推送后 30 秒内没有升级结果，已超时；重新推送即可重试').waitFor();
    assert.equal(await page.locator('[data-count="timedOut"]').textContent(), '1');

    // the task's timeline: the fault, the push and the timeout, in order
    const timeline = page.getByRole('list', { name: '时间线' });
    const line = (kind, text) => timeline.locator(`li[data-kind="${kind}"]`, { hasText: text });
    await line('fault', `规则 ${fid}（丢弃推送）：推送没有发出`).waitFor();
    await line('mqtt', '推送版本 0.0.2').waitFor();
    await line('state', '超时时间内没有升级结果').waitFor();
    const kinds = await timeline.locator('li').evaluateAll((l) => l.map((e) => e.dataset.kind));
    const at = (k, from = 0) => kinds.indexOf(k, from);
    assert.ok(at('fault') >= 0 && at('fault') < at('mqtt') && at('mqtt') < at('state'), kinds.join(','));
    // a line opens to its raw detail
    await line('state', '超时时间内没有升级结果').locator('summary').click();
    await line('state', '超时时间内没有升级结果').locator('pre', { hasText: '"state": "timedOut"' }).waitFor();
    assert.equal(await line('state', '超时').locator('time').getAttribute('datetime'), '2026-01-01T00:00:31.000Z');
    await shot('timeline');

    // 停用 then 删除 the rule
    await page.getByRole('navigation', { name: '主菜单' }).getByRole('link', { name: '故障注入' }).click();
    await ruleRow.getByRole('button', { name: `停用规则 ${fid}` }).click();
    await ruleRow.locator('[data-enabled="false"]').waitFor();
    await ruleRow.getByText('否：已停用').waitFor();
    assert.equal((await emu.api('GET', `/api/v1/faults/${fid}`)).json.enabled, false);
    assert.equal(await ruleRow.locator('[data-field="fired"]').textContent(), '1');
    await ruleRow.getByRole('button', { name: `删除规则 ${fid}` }).click();
    await page.getByText('还没有故障规则。').waitFor();
    assert.deepEqual(dialogs, [`删除规则 ${fid}（丢弃推送）？`]);
    assert.equal((await emu.api('GET', '/api/v1/faults')).json.total, 0);

    // without the rule the push again reaches the device
    await page.goto(`${emu.base}/#/tasks/${taskId}`);
    await page.getByRole('button', { name: '重新推送' }).click();
    await row.locator('[data-state="pushed"]').waitFor();
    await dev.waitFor((m) => m.topic === pushTopic, 'the push sent again');

    // the device's timeline
    await page.goto(`${emu.base}/#/products/${pk}/devices/${DN}`);
    const devTimeline = page.getByRole('list', { name: '时间线' });
    await devTimeline.locator('li[data-kind="fault"]').first().waitFor();
    await devTimeline.locator('li[data-kind="state"]', { hasText: '超时' }).waitFor();
    assert.ok((await devTimeline.locator('li[data-kind="mqtt"]', { hasText: '推送版本 0.0.2' }).count()) >= 2);

    // 新建测试任务 with a timeout: a wrong one caught in the browser
    await page.goto(`${emu.base}/#/tasks`);
    const taskForm = page.getByRole('form', { name: '新建测试任务' });
    await taskForm.getByLabel('应用', { exact: true }).selectOption(APP_ID);
    await waitUntil(async () => (await taskForm.getByLabel('版本号').locator('option[value="0.0.2"]').count()) === 1, { what: 'the versions listed' });
    await taskForm.getByLabel('版本号').selectOption('0.0.2');
    await taskForm.getByLabel('测试设备分组').selectOption(gid);
    await taskForm.getByLabel('超时时间（秒，可选）').fill('1.5');
    await taskForm.getByRole('button', { name: '确定' }).click();
    await taskForm.getByText('请填 0–604800 的整数').waitFor();
    assert.equal((await emu.api('GET', '/api/v1/tasks')).json.total, 1);
    await taskForm.getByLabel('超时时间（秒，可选）').fill('45');
    await taskForm.getByRole('button', { name: '确定' }).click();
    await page.locator('.details-row', { hasText: '超时时间' }).getByText('45 秒').waitFor();
    const made = (await emu.api('GET', `/api/v1/tasks/${decodeURIComponent(page.url().split('/').pop())}`)).json;
    assert.equal(made.timeoutSeconds, 45);

    // the test bench in English
    await page.goto(`${emu.base}/#/faults`);
    await page.getByRole('button', { name: /Switch to English/ }).click();
    await page.getByRole('heading', { name: 'Fault injection', level: 1 }).waitFor();
    await page.getByText('No fault rules.').waitFor();
    await page.getByRole('button', { name: 'Move the clock forward by 1 min' }).waitFor();
    await page.locator('header .clock-mode', { hasText: 'Virtual clock' }).waitFor();
    await page.getByRole('button', { name: 'Switch to Chinese (切换到中文)' }).click();
    await page.getByRole('heading', { name: '故障注入', level: 1 }).waitFor();

    // the phone: the task page with its timeline and the test bench fit
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${emu.base}/#/tasks/${taskId}`);
    await page.getByRole('list', { name: '时间线' }).locator('li').first().waitFor();
    assert.ok((await overflow()) <= 0, `the task page is ${await overflow()} px wider than the phone`);
    await page.goto(`${emu.base}/#/faults`);
    await page.getByRole('button', { name: '时钟向前拨 1 小时' }).waitFor();
    assert.ok((await overflow()) <= 0, `故障注入 is ${await overflow()} px wider than the phone`);
  } finally {
    dev.close();
  }
});
