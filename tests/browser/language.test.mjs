// language.test.mjs — Chinese for a zh-CN browser, English after the switch
// (remembered across reloads), English for an en-US browser; the left menu
// in the real console's groups (设备管理: 产品, 设备; 升级服务: 应用升级, 固件升级,
// 分批发布, …) in both; 分批发布 in both.
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
  assert.deepEqual(await navText(page), ['产品', '设备', '应用升级', '固件升级', '分批发布', '测试设备分组', '测试任务']);
  assert.deepEqual(await groupLinks(page, '设备管理'), ['产品', '设备']);
  assert.deepEqual(await groupLinks(page, '升级服务'), ['应用升级', '固件升级', '分批发布', '测试设备分组', '测试任务']);
  assert.equal(await nav(page).getByRole('link', { name: '应用升级' }).getAttribute('aria-current'), 'page');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
  await page.getByRole('button', { name: '创建应用' }).waitFor();

  await page.getByRole('button', { name: /Switch to English/ }).click();
  await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor();
  assert.deepEqual(await navText(page), ['Products', 'Devices', 'App upgrade', 'Firmware OTA', 'Staged rollouts', 'Test device groups', 'Test tasks']);
  assert.deepEqual(await groupLinks(page, 'Device management'), ['Products', 'Devices']);
  assert.deepEqual(await groupLinks(page, 'Upgrade service'), ['App upgrade', 'Firmware OTA', 'Staged rollouts', 'Test device groups', 'Test tasks']);
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
    assert.deepEqual(await navText(english.page), ['Products', 'Devices', 'App upgrade', 'Firmware OTA', 'Staged rollouts', 'Test device groups', 'Test tasks']);
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
    assert.deepEqual(english.errors, []);
  } finally {
    await english.close();
  }
});
