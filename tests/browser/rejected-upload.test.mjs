// rejected-upload.test.mjs — packages the server refuses: the console says
// why in words (and shows the server's message), and lists nothing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { browserTest } from './support/harness.mjs';
import { makePackage, packageName } from './support/package.mjs';
import { APP_ID } from './support/device.mjs';

browserTest('rejected upload', { locale: 'zh-CN' }, async ({ emu, page, browser, workDir }) => {
  assert.equal((await emu.api('POST', '/api/v1/apps', { appName: 'python9000', appId: APP_ID })).status, 201);
  browser.allowHttpError(400, `/api/v1/apps/${APP_ID}/versions`); // the rejections this test provokes

  await page.goto(`${emu.base}/#/apps/${APP_ID}`);
  await page.getByRole('heading', { name: 'python9000', level: 1 }).waitFor();
  const form = page.getByRole('form', { name: '创建版本' });
  const alert = form.getByRole('alert');

  // not gzip at all
  const notGzip = path.join(workDir, packageName('0.0.2'));
  fs.writeFileSync(notGzip, 'print("this is not a tar.gz")\n');
  await form.getByLabel('升级包（.tar.gz）').setInputFiles(notGzip);
  await form.getByRole('button', { name: '上传' }).click();
  await alert.getByText('上传的文件不是 gzip 压缩的 tar 包（.tar.gz）。请在应用目录中用 tar cvzf 打包。').waitFor();
  await alert.getByText(/服务端说明: .*gzip.*\[NotGzip\]/).waitFor();
  await page.getByText('还没有版本。').waitFor();

  // a real package whose manifest says another version than its file name
  fs.mkdirSync(path.join(workDir, 'mismatch'));
  const bad = makePackage(path.join(workDir, 'mismatch'), '0.0.2', { manifestVersion: '0.0.3' });
  await form.getByLabel('升级包（.tar.gz）').setInputFiles(bad.file);
  await form.getByRole('button', { name: '上传' }).click();
  await alert.getByText('manifest.json 中的 appName、appid 或 version 与应用或文件名不一致。').waitFor();
  await alert.getByText(/\[ManifestMismatch\]/).waitFor();

  assert.equal(await page.locator('tr[data-row]').count(), 0);
  await page.getByText('还没有版本。').waitFor();
  assert.equal((await emu.api('GET', `/api/v1/apps/${APP_ID}/versions`)).json.total, 0);
});
