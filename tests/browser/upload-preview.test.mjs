// upload-preview.test.mjs — 创建版本 as the real console's two steps, for an
// app that is not the tutorial's: the hints name THIS app's file name
// (<appName>-<appId>-<version>.tar.gz); choosing a package shows what the
// upload will create, read in the browser (appName, appid and version from
// the file name and from manifest.json inside the .tar.gz, size, SHA-256)
// and what does not agree, and nothing is uploaded before 确认.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { browserTest } from './support/harness.mjs';
import { makePackage } from './support/package.mjs';
import { APP_ID } from './support/device.mjs';

const NAME = 'blink42';
const ID = '8800100012340000';

// The text an element's aria-describedby points at.
const description = (locator) =>
  locator.evaluate((el) => el.getAttribute('aria-describedby').split(' ').map((id) => document.getElementById(id).textContent).join(' '));

browserTest('upload preview', { locale: 'zh-CN', timeout: 100000 }, async ({ emu, page, workDir, shot }) => {
  assert.equal((await emu.api('POST', '/api/v1/apps', { appName: 'python9000', appId: APP_ID })).status, 201);
  assert.equal((await emu.api('POST', '/api/v1/apps', { appName: NAME, appId: ID })).status, 201);
  const versions = async () => (await emu.api('GET', `/api/v1/apps/${ID}/versions`)).json.total;

  await page.goto(`${emu.base}/#/apps/${ID}`);
  await page.getByRole('heading', { name: NAME, level: 1 }).waitFor();
  const pattern = `${NAME}-${ID}-<version>.tar.gz`;
  const hint = page.locator('.create-hint');
  await hint.getByText(pattern).waitFor();
  assert.ok(!(await hint.textContent()).includes('python9000'), await hint.textContent());

  // step 1: choose the file; the field's hint names this app's file name
  await page.getByRole('button', { name: '创建版本' }).click();
  const create = page.getByRole('dialog', { name: '创建版本' });
  const fileInput = create.getByLabel('升级包（.tar.gz）');
  assert.ok(await fileInput.evaluate((el) => el === document.activeElement), 'the file field has focus');
  const fileHint = await description(fileInput);
  assert.ok(fileHint.includes(`tar cvzf ${pattern} *`), fileHint);
  assert.ok(!fileHint.includes('python9000'), fileHint);
  const steps = create.getByRole('list', { name: '创建步骤' });
  assert.equal(await steps.locator('[aria-current="step"]').textContent(), '选择升级包');
  assert.ok(await create.getByRole('button', { name: '确认' }).isDisabled(), 'nothing to confirm yet');

  // step 2: a good package, with a large file before manifest.json in the tar
  const src = path.join(workDir, 'good');
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, 'assets.bin'), crypto.randomBytes(300000));
  fs.writeFileSync(path.join(src, 'main.py'), 'print("blink")\n');
  fs.writeFileSync(path.join(src, 'manifest.json'), JSON.stringify({ appName: NAME, version: '1.2.3', appid: ID }));
  const good = path.join(workDir, `${NAME}-${ID}-1.2.3.tar.gz`);
  execFileSync('sh', ['-c', 'tar czf "$0" *', good], { cwd: src });
  const bytes = fs.readFileSync(good);
  const sha = crypto.createHash('sha256').update(bytes).digest('hex');
  await fileInput.setInputFiles(good);
  await create.getByText('文件名、manifest.json 与本应用一致：确认后将创建版本 1.2.3。').waitFor();
  assert.equal(await steps.locator('[aria-current="step"]').textContent(), '确认版本信息');
  assert.equal((await create.locator('[data-field="sha256"]').textContent()).trim(), sha);
  await create.getByText(`(${bytes.length} B)`).waitFor();
  for (const [field, value] of [['appName', NAME], ['appid', ID], ['version', '1.2.3']]) {
    const cells = create.locator(`[data-row="${field}"] td`);
    assert.equal((await cells.nth(2).textContent()).trim(), value, `${field} from the file name`);
    assert.equal((await cells.nth(3).textContent()).trim(), value, `${field} from manifest.json`);
  }
  assert.equal(await create.locator('.value-bad').count(), 0);
  await shot('good');
  assert.equal(await versions(), 0, 'nothing uploaded before 确认');
  await create.getByRole('button', { name: '确认' }).click();
  await page.getByText(`版本 1.2.3 已创建：大小 ${(bytes.length / 1024).toFixed(1)} KiB`).waitFor();
  const stored = (await emu.api('GET', `/api/v1/apps/${ID}/versions/1.2.3`)).json;
  assert.equal(stored.sha256, sha, 'the SHA-256 shown is the one haas-emu computed');
  await page.locator('.list tr[data-row="1.2.3"]').waitFor();

  // the same version again: said before the upload
  await page.getByRole('button', { name: '创建版本' }).click();
  await fileInput.setInputFiles(good);
  await create.locator('.preview-problems').getByText('本应用已有版本 1.2.3：请在 manifest.json 中提高版本号后重新打包。').waitFor();
  await create.getByRole('button', { name: '取消' }).click();
  await create.waitFor({ state: 'hidden' });

  // another app's package (the tutorial's python9000): its names do not agree with this app
  const other = makePackage(workDir, '0.0.2');
  await page.getByRole('button', { name: '创建版本' }).click();
  assert.equal(await create.locator('.preview').textContent(), '', 'the last preview is gone');
  await fileInput.setInputFiles(other.file);
  const problems = create.locator('.preview-problems');
  await problems.getByText(`文件名中的 appName 是 python9000，本应用是 ${NAME}。`).waitFor();
  await problems.getByText(`文件名中的 appid 是 ${APP_ID}，本应用是 ${ID}。`).waitFor();
  assert.equal(await problems.locator('li').count(), 2);
  assert.equal(await problems.getAttribute('role'), 'alert');
  await create.locator('[data-row="appName"] .value-bad', { hasText: 'python9000' }).waitFor();
  await shot('other-app');
  await create.getByRole('button', { name: '取消' }).click();

  // no manifest.json, and a file name that is not $appName-$appid-$version.tar.gz
  const bare = path.join(workDir, 'bare');
  fs.mkdirSync(bare);
  fs.writeFileSync(path.join(bare, 'main.py'), 'print(1)\n');
  const noManifest = path.join(workDir, `${NAME}-${ID}-2.0.0.tar.gz`);
  execFileSync('sh', ['-c', 'tar czf "$0" *', noManifest], { cwd: bare });
  await page.getByRole('button', { name: '创建版本' }).click();
  await fileInput.setInputFiles(noManifest);
  await problems.getByText('包的顶层没有 manifest.json：请在应用目录中执行 tar cvzf … *。').waitFor();
  await create.locator('[data-row="version"]').getByText('包的顶层没有').waitFor();
  const oddName = path.join(workDir, 'upgrade.tar.gz');
  fs.copyFileSync(good, oddName);
  await fileInput.setInputFiles(oddName);
  await problems.getByText('文件名应为 $appName-$appid-$version.tar.gz。').waitFor();
  await create.getByRole('button', { name: '取消' }).click();
  assert.equal(await versions(), 1);

  // in English
  await page.getByRole('button', { name: /Switch to English/ }).click();
  await page.getByRole('heading', { name: NAME, level: 1 }).waitFor();
  await page.locator('.create-hint').getByText(`This app's packages are named ${pattern}`).waitFor();
  await page.getByRole('button', { name: 'Create version' }).click();
  const createEn = page.getByRole('dialog', { name: 'Create version' });
  await createEn.getByLabel('Package (.tar.gz)').setInputFiles(other.file);
  await createEn.getByText(`The appName in the file name is python9000; this app is ${NAME}.`).waitFor();
  await createEn.getByRole('heading', { name: 'The version to create' }).waitFor();
  await shot('english');
  await createEn.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await versions(), 1);
});
