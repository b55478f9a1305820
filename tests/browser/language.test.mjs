// language.test.mjs — Chinese for a zh-CN browser, English after the switch
// (remembered across reloads), English for an en-US browser; the left menu
// in the real console's groups (设备管理: 产品, 设备; 升级服务: 应用升级, 固件升级,
// 分批发布, …; 测试工具: 故障注入) in both; 分批发布 and 故障注入 in both.
import assert from 'node:assert/strict';
import { browserTest } from './support/harness.mjs';
import { openBrowser } from './support/browser.mjs';

const nav = (page) => page.getByRole('navigation', { name: /主菜单|Main menu/ });
const navText = (page) => nav(page).getByRole('link').allTextContents();
// The links of a group of the menu (its list is labelled by the group's title).
const groupLinks = (page, title) => nav(page).getByRole('list', { name: title, exact: true }).getByRole('link').allTextContents();

browserTest('language switch', { locale: 'zh-CN' }, async ({ emu, page }) => {
  await page.goto(`${emu.base}/#/apps`);
  await page.getByRole('heading', { name: '应用', level: 1 }).waitFor();
  assert.deepEqual(await navText(page), ['产品', '设备', '应用升级', '固件升级', '分批发布', '测试设备分组', '测试任务', '故障注入']);
  assert.deepEqual(await groupLinks(page, '设备管理'), ['产品', '设备']);
  assert.deepEqual(await groupLinks(page, '升级服务'), ['应用升级', '固件升级', '分批发布', '测试设备分组', '测试任务']);
  assert.deepEqual(await groupLinks(page, '测试工具'), ['故障注入']);
  assert.equal(await nav(page).getByRole('link', { name: '应用升级' }).getAttribute('aria-current'), 'page');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
  await page.getByRole('button', { name: '创建应用' }).waitFor();

  await page.getByRole('button', { name: /Switch to English/ }).click();
  await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor();
  assert.deepEqual(await navText(page), ['Products', 'Devices', 'App upgrade', 'Firmware OTA', 'Staged rollouts', 'Test device groups', 'Test tasks', 'Fault injection']);
  assert.deepEqual(await groupLinks(page, 'Device management'), ['Products', 'Devices']);
  assert.deepEqual(await groupLinks(page, 'Upgrade service'), ['App upgrade', 'Firmware OTA', 'Staged rollouts', 'Test device groups', 'Test tasks']);
  assert.deepEqual(await groupLinks(page, 'Test bench'), ['Fault injection']);
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en-US');
  await page.getByRole('button', { name: 'Create app' }).waitFor();

  await page.reload();
  await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('haas-emu.lang')), 'en');

  // a browser set to English starts in English and can switch to Chinese
  const english = await openBrowser('language-switch-en', { locale: 'en-US' });
  try {
    await english.page.goto(`${emu.base}/#/products`);
    await english.page.getByRole('heading', { name: 'Products', level: 1 }).waitFor();
    assert.deepEqual(await navText(english.page), ['Products', 'Devices', 'App upgrade', 'Firmware OTA', 'Staged rollouts', 'Test device groups', 'Test tasks', 'Fault injection']);
    await english.page.getByRole('button', { name: /Switch to Chinese/ }).click();
    await english.page.getByRole('heading', { name: '产品', level: 1 }).waitFor();
    // 分批发布 in both
    await english.page.getByRole('link', { name: '分批发布' }).click();
    await english.page.getByRole('heading', { name: '分批发布', level: 1 }).waitFor();
    await english.page.getByRole('button', { name: '新建分批发布' }).waitFor();
    await english.page.getByRole('button', { name: /Switch to English/ }).click();
    await english.page.getByRole('heading', { name: 'Staged rollouts', level: 1 }).waitFor();
    await english.page.getByRole('button', { name: 'New staged rollout' }).waitFor();
    await english.page.getByText('No staged rollouts yet.').waitFor();
    // 故障注入 in both: the rules, the clock (real here), 添加规则 with an action's explanation
    await english.page.getByRole('link', { name: 'Fault injection' }).click();
    await english.page.getByRole('heading', { name: 'Fault injection', level: 1 }).waitFor();
    await english.page.getByText('No fault rules.').waitFor();
    await english.page.getByRole('region', { name: 'Clock' }).getByText('start haas-emu with --clock virtual', { exact: false }).waitFor();
    await english.page.locator('header .clock-mode', { hasText: 'Real clock' }).waitFor();
    await english.page.getByRole('button', { name: 'Add rule' }).click();
    let dialog = english.page.getByRole('dialog', { name: 'Add rule' });
    await dialog.getByLabel('Action').selectOption({ label: 'Corrupt bytes' });
    await dialog.getByText('the device\'s MD5 check should fail (404)', { exact: false }).waitFor();
    await dialog.getByLabel('At byte').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await english.page.getByRole('button', { name: /Switch to Chinese/ }).click();
    await english.page.getByRole('heading', { name: '故障注入', level: 1 }).waitFor();
    await english.page.getByText('还没有故障规则。').waitFor();
    await english.page.locator('header .clock-mode', { hasText: '真实时钟' }).waitFor();
    await english.page.getByRole('button', { name: '添加规则' }).click();
    dialog = english.page.getByRole('dialog', { name: '添加规则' });
    await dialog.getByLabel('故障动作').selectOption({ label: '篡改字节' });
    await dialog.getByText('设备的 MD5 校验应失败（404）', { exact: false }).waitFor();
    await dialog.getByLabel('起始字节').waitFor();
    await dialog.getByRole('button', { name: '取消' }).click();
    assert.deepEqual(english.errors, []);
  } finally {
    await english.close();
  }
});
