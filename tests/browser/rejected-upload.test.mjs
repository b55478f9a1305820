// rejected-upload.test.mjs — packages the server refuses: 创建版本's
// confirmation step already says what is wrong (read in the browser), the
// upload can still be confirmed, and the server's refusal is explained in
// words (with the server's message); nothing is listed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { browserTest } from './support/harness.mjs';
import { makePackage, packageName } from './support/package.mjs';
import { APP_ID } from './support/device.mjs';

browserTest('rejected upload', { locale: 'zh-CN' }, async ({ emu, page, browser, workDir, shot }) => {
  assert.equal((await emu.api('POST', '/api/v1/apps', { appName: 'python9000', appId: APP_ID })).status, 201);
  browser.allowHttpError(400, `/api/v1/apps/${APP_ID}/versions`); // the rejections this test provokes

  await page.goto(`${emu.base}/#/apps/${APP_ID}`);
  await page.getByRole('heading', { name: 'python9000', level: 1 }).waitFor();
  const create = page.getByRole('dialog', { name: '创建版本' });
  const problems = create.locator('.preview-problems');
  const alert = create.locator('.alert-error');

  // not gzip at all: the browser sees it, the server refuses it
  const notGzip = path.join(workDir, packageName('0.0.2'));
  fs.writeFileSync(notGzip, 'print("this is not a tar.gz")\n');
  await page.getByRole('button', { name: '创建版本' }).click();
  await create.getByLabel('升级包（.tar.gz）').setInputFiles(notGzip);
  await problems.getByText('文件不是 gzip 压缩的 tar 包（.tar.gz）。').waitFor();
  await problems.getByText('仍可点击“确认”上传：是否接受由 haas-emu 检查后决定。').waitFor();
  await create.locator('[data-row="version"]').getByText('未读取（不是 gzip）').waitFor();
  await shot('not-gzip-preview');
  await create.getByRole('button', { name: '确认' }).click();
  await alert.getByText('上传的文件不是 gzip 压缩的 tar 包（.tar.gz）。请在应用目录中用 tar cvzf 打包。').waitFor();
  await alert.getByText(/服务端说明: .*gzip.*\[NotGzip\]/).waitFor();
  assert.equal(await alert.getAttribute('role'), 'alert');
  assert.ok(await create.isVisible(), 'the dialog stays open with the refusal');
  await create.getByRole('button', { name: '取消' }).click();
  await page.getByText('还没有版本。').waitFor();

  // a real package whose manifest says another version than its file name
  fs.mkdirSync(path.join(workDir, 'mismatch'));
  const bad = makePackage(path.join(workDir, 'mismatch'), '0.0.2', { manifestVersion: '0.0.3' });
  await page.getByRole('button', { name: '创建版本' }).click();
  await create.getByLabel('升级包（.tar.gz）').setInputFiles(bad.file);
  await problems.getByText('manifest.json 中的 version 是 0.0.3，文件名中是 0.0.2。').waitFor();
  assert.equal(await problems.locator('li').count(), 1);
  await create.locator('[data-row="version"] .value-bad', { hasText: '0.0.3' }).waitFor();
  await create.getByRole('button', { name: '确认' }).click();
  await alert.getByText('manifest.json 中的 appName、appid 或 version 与应用或文件名不一致。').waitFor();
  await alert.getByText(/\[ManifestMismatch\]/).waitFor();
  await shot('mismatch-refused');
  await page.keyboard.press('Escape');
  await create.waitFor({ state: 'hidden' });

  assert.equal(await page.locator('.list tr[data-row]').count(), 0);
  await page.getByText('还没有版本。').waitFor();
  assert.equal((await emu.api('GET', `/api/v1/apps/${APP_ID}/versions`)).json.total, 0);
});
