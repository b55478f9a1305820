// phone-keyboard.test.mjs — the task page on a 390x844 phone: no sideways
// scrolling, and the push button reached with Tab and pressed with Enter;
// the other screens and 创建版本's confirmation step fit the phone too; a
// staged rollout's page (暂停 by Tab and Enter), the list and 新建分批发布 too;
// 故障注入 with a rule, and its 添加规则 dialog.
import assert from 'node:assert/strict';
import { browserTest } from './support/harness.mjs';
import { makePackage, packageName } from './support/package.mjs';
import { APP_ID } from './support/device.mjs';

browserTest('phone viewport and keyboard', { locale: 'zh-CN', viewport: { width: 390, height: 844 }, isMobile: true }, async ({ emu, page, workDir, shot }) => {
  const pk = (await emu.api('POST', '/api/v1/products', { name: 'HaaS Core2' })).json.productKey;
  await emu.api('POST', `/api/v1/products/${pk}/devices`, { deviceName: 'core2-0001' });
  const gid = (await emu.api('POST', '/api/v1/groups', { name: '测试分组' })).json.groupId;
  await emu.api('POST', `/api/v1/groups/${gid}/devices`, { devices: [{ productKey: pk, deviceName: 'core2-0001' }] });
  await emu.api('POST', '/api/v1/apps', { appName: 'python9000', appId: APP_ID });
  const pkg = makePackage(workDir, '0.0.2');
  await emu.api('POST', `/api/v1/apps/${APP_ID}/versions?filename=${packageName('0.0.2')}`, pkg.bytes, { 'Content-Type': 'application/gzip' });
  const task = await emu.api('POST', '/api/v1/tasks', { appId: APP_ID, version: '0.0.2', groupId: gid });
  assert.equal(task.status, 201, task.text);

  await page.goto(`${emu.base}/#/tasks/${task.json.taskId}`);
  await page.locator(`tr[data-row="${pk}/core2-0001"] [data-state="pending"]`).waitFor();
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok((await overflow()) <= 0, `page is ${await overflow()} px wider than the phone`);

  // Tab from the top of the page to the push button, then Enter.
  let found = false;
  for (let i = 0; i < 40 && !found; i++) {
    await page.keyboard.press('Tab');
    found = await page.evaluate(() => document.activeElement && document.activeElement.textContent.trim() === '推送');
  }
  assert.ok(found, 'the push button is reachable with Tab');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'focus is visible');
  await page.keyboard.press('Enter');
  await page.getByText('已推送 0 台，离线 1 台，已是最新 0 台').waitFor();
  await page.locator(`tr[data-row="${pk}/core2-0001"] [data-state="offline"]`).waitFor();
  await page.getByRole('button', { name: '重新推送' }).waitFor();
  assert.ok((await overflow()) <= 0, `page is ${await overflow()} px wider than the phone after the push`);
  await shot('task');

  // the other screens fit too
  for (const hash of ['#/products', `#/products/${pk}`, '#/devices', `#/apps/${APP_ID}`, `#/groups/${gid}`, '#/tasks', `#/ota?productKey=${pk}`]) {
    await page.goto(`${emu.base}/${hash}`);
    await page.locator('.list').first().waitFor();
    await page.locator('tbody tr').first().waitFor();
    assert.ok((await overflow()) <= 0, `${hash} is ${await overflow()} px wider than the phone`);
  }

  // 创建版本's confirmation step fits too
  await page.goto(`${emu.base}/#/apps/${APP_ID}`);
  await page.getByRole('button', { name: '创建版本' }).click();
  const create = page.getByRole('dialog', { name: '创建版本' });
  await create.getByLabel('升级包（.tar.gz）').setInputFiles(makePackage(workDir, '0.0.3').file);
  await create.getByText('确认后将创建版本 0.0.3').waitFor();
  const wider = await create.evaluate((d) => d.scrollWidth - d.clientWidth);
  assert.ok(wider <= 0, `the dialog is ${wider} px wider than itself`);
  assert.ok((await overflow()) <= 0, `the page is ${await overflow()} px wider than the phone with the dialog`);
  await shot('create-version');

  // 分批发布: a rollout of the app to the group (its device offline: batch 1
  // queued); its page fits, 暂停 by Tab and Enter; the list and 新建分批发布 fit
  const ro = await emu.api('POST', '/api/v1/rollouts', { kind: 'app', productKey: pk, appId: APP_ID, version: '0.0.2', targetType: 'group', groupId: gid, batches: ['1', '100%'], name: 'phone' });
  assert.equal(ro.status, 201, ro.text);
  await page.goto(`${emu.base}/#/rollouts/${ro.json.rolloutId}`);
  await page.locator('[data-rollout-status="running"]').first().waitFor();
  await page.locator(`tr[data-row="${pk}/core2-0001"] [data-state="queued"]`).waitFor();
  assert.ok((await overflow()) <= 0, `the rollout page is ${await overflow()} px wider than the phone`);
  found = false;
  for (let i = 0; i < 40 && !found; i++) {
    await page.keyboard.press('Tab');
    found = await page.evaluate(() => document.activeElement && document.activeElement.dataset.action === 'pause');
  }
  assert.ok(found, 'the pause button is reachable with Tab');
  await page.keyboard.press('Enter');
  await page.locator('.pause-banner', { hasText: '手动暂停' }).waitFor();
  assert.ok((await overflow()) <= 0, `the paused rollout page is ${await overflow()} px wider than the phone`);
  await shot('rollout');
  await page.getByRole('link', { name: '分批发布' }).first().click();
  await page.locator(`tr[data-row="${ro.json.rolloutId}"] [data-rollout-status="paused"]`).waitFor();
  assert.ok((await overflow()) <= 0, `分批发布 is ${await overflow()} px wider than the phone`);
  await page.getByRole('button', { name: '新建分批发布' }).click();
  const newRollout = page.getByRole('dialog', { name: '新建分批发布' });
  await newRollout.getByLabel('第 3 批', { exact: true }).waitFor();
  const dialogWider = await newRollout.evaluate((d) => d.scrollWidth - d.clientWidth);
  assert.ok(dialogWider <= 0, `新建分批发布 is ${dialogWider} px wider than itself`);
  assert.ok((await overflow()) <= 0, `the page is ${await overflow()} px wider than the phone with 新建分批发布`);
  await shot('new-rollout');
  await page.keyboard.press('Escape');

  // 故障注入: a rule in the list (a card), and 添加规则 fit
  const rule = await emu.api('POST', '/api/v1/faults', { action: 'corrupt', at: 100, count: 4, scope: { productKey: pk, deviceName: 'core2-0001' }, trigger: { times: 2 } });
  assert.equal(rule.status, 201, rule.text);
  await page.goto(`${emu.base}/#/faults`);
  await page.locator(`tr[data-row="${rule.json.faultId}"] [data-live="live"]`).waitFor();
  assert.ok((await overflow()) <= 0, `故障注入 is ${await overflow()} px wider than the phone`);
  await page.getByRole('button', { name: '添加规则' }).click();
  const newRule = page.getByRole('dialog', { name: '添加规则' });
  await newRule.getByLabel('故障动作').selectOption({ label: '篡改字节' });
  await newRule.getByLabel('起始字节').waitFor();
  const ruleWider = await newRule.evaluate((d) => d.scrollWidth - d.clientWidth);
  assert.ok(ruleWider <= 0, `添加规则 is ${ruleWider} px wider than itself`);
  assert.ok((await overflow()) <= 0, `the page is ${await overflow()} px wider than the phone with 添加规则`);
  await shot('fault');
});
