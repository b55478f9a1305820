// package.mjs — upgrade packages made the tutorial's way: `tar czf NAME *`
// inside a folder holding main.py and manifest.json.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { APP_ID, APP_NAME } from './device.mjs';

export function packageName(version, name = APP_NAME, appId = APP_ID) {
  return `${name}-${appId}-${version}.tar.gz`;
}

// Returns {file, bytes, md5, sha256}. manifestVersion lets a test make a
// package whose manifest disagrees with its file name; appName and appId
// name another app (in the manifest and the default file name).
export function makePackage(dir, version, { appName = APP_NAME, appId = APP_ID, manifestVersion = version, fileName = packageName(version, appName, appId) } = {}) {
  const src = path.join(dir, `testUpgrade-${version}`);
  fs.rmSync(src, { recursive: true, force: true });
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(src, 'main.py'), 'print("new version upgrade success.")\n');
  fs.writeFileSync(path.join(src, 'manifest.json'), JSON.stringify({ appName, version: manifestVersion, appid: appId }));
  const file = path.join(dir, fileName);
  fs.rmSync(file, { force: true });
  execFileSync('sh', ['-c', 'tar czf "$0" *', file], { cwd: src });
  const bytes = fs.readFileSync(file);
  const digest = (alg) => crypto.createHash(alg).update(bytes).digest('hex');
  return { file, bytes, md5: digest('md5'), sha256: digest('sha256') };
}
