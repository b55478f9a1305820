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

// Returns {file, bytes, md5}. manifestVersion lets a test make a package
// whose manifest disagrees with its file name.
export function makePackage(dir, version, { manifestVersion = version, fileName = packageName(version) } = {}) {
  const src = path.join(dir, `testUpgrade-${version}`);
  fs.rmSync(src, { recursive: true, force: true });
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(src, 'main.py'), 'print("new version upgrade success.")\n');
  fs.writeFileSync(path.join(src, 'manifest.json'), JSON.stringify({ appName: APP_NAME, version: manifestVersion, appid: APP_ID }));
  const file = path.join(dir, fileName);
  fs.rmSync(file, { force: true });
  execFileSync('sh', ['-c', 'tar czf "$0" *', file], { cwd: src });
  const bytes = fs.readFileSync(file);
  return { file, bytes, md5: crypto.createHash('md5').update(bytes).digest('hex') };
}
