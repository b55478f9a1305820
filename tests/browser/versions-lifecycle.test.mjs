// versions-lifecycle.test.mjs — 废弃 then 删除 a version: delete is disabled
// (and refused by the server) until the version is deprecated.
import assert from 'node:assert/strict';
import { browserTest } from './support/harness.mjs';
import { makePackage, packageName } from './support/package.mjs';
import { APP_ID } from './support/device.mjs';

browserTest('deprecate then delete a version', { locale: 'zh-CN' }, async ({ emu, browser, page, workDir }) => {
  assert.equal((await emu.api('POST', '/api/v1/apps', { appName: 'python9000', appId: APP_ID })).status, 201);
  const pkg = makePackage(workDir, '0.0.2');
  const up = await emu.api('POST', `/api/v1/apps/${APP_ID}/versions?filename=${packageName('0.0.2')}`, pkg.bytes, { 'Content-Type': 'application/gzip' });
  assert.equal(up.status, 201, up.text);
  const refused = await emu.api('DELETE', `/api/v1/apps/${APP_ID}/versions/0.0.2`);
  assert.equal(refused.status, 409, refused.text);

  const dialogs = [];
  let beforeYes = null; // what happens elsewhere while the question is open
  page.on('dialog', async (d) => {
    dialogs.push(d.message());
    if (beforeYes) await beforeYes();
    d.accept();
  });
  await page.goto(`${emu.base}/#/apps/${APP_ID}`);
  const row = page.locator('tr[data-row="0.0.2"]');
  await row.waitFor();
  const del = row.getByRole('button', { name: '删除' });
  const deprecate = row.getByRole('button', { name: '废弃' });
  assert.equal(await del.isDisabled(), true, 'delete is disabled before deprecate');
  assert.equal(await row.getByRole('button', { name: '测试' }).isEnabled(), true);
  await row.getByText('测试中').waitFor();

  await deprecate.click();
  await row.getByText('已废弃').waitFor();
  await row.locator('[data-action="delete"]:not([disabled])').waitFor();
  assert.equal(await deprecate.isDisabled(), true);
  assert.equal(await row.getByRole('button', { name: '测试' }).isDisabled(), true);
  assert.equal((await emu.api('GET', `/api/v1/apps/${APP_ID}/versions/0.0.2`)).json.status, 'deprecated');

  await del.click();
  await row.waitFor({ state: 'detached' });
  await page.getByText('还没有版本。').waitFor();
  assert.equal((await emu.api('GET', `/api/v1/apps/${APP_ID}/versions/0.0.2`)).status, 404);
  assert.deepEqual(dialogs, ['废弃版本 0.0.2？废弃后不能再创建测试任务。', '删除版本 0.0.2 及其升级包？']);

  // 废弃 of a version deleted meanwhile is refused, in words; the refusal
  // outlives the refreshes that follow (any API write moves /rev): a list
  // refresh used to clear it, at times before it could be read
  const upload = async (version) => {
    const p = makePackage(workDir, version);
    const r = await emu.api('POST', `/api/v1/apps/${APP_ID}/versions?filename=${packageName(version)}`, p.bytes, { 'Content-Type': 'application/gzip' });
    assert.equal(r.status, 201, r.text);
  };
  await upload('0.0.3');
  const row3 = page.locator('tr[data-row="0.0.3"]');
  await row3.waitFor();
  browser.allowHttpError(404, '/versions/0.0.3');
  beforeYes = async () => {
    await emu.api('POST', `/api/v1/apps/${APP_ID}/versions/0.0.3/deprecate`);
    assert.equal((await emu.api('DELETE', `/api/v1/apps/${APP_ID}/versions/0.0.3`)).status, 204);
  };
  await row3.getByRole('button', { name: '废弃' }).click();
  await page.getByText('版本不存在（可能已被删除）。').waitFor();
  beforeYes = null;
  await upload('0.0.4');
  await page.locator('tr[data-row="0.0.4"]').waitFor();
  assert.equal(await page.getByText('版本不存在（可能已被删除）。').isVisible(), true);
});
