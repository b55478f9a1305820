// paths.mjs — where the browser tests find the binaries and put their output
// (tests/out/browser/: screenshots, logs, data dirs, device flash dirs).
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const WEB = path.join(ROOT, 'web');
export const OUT = path.join(ROOT, 'tests', 'out', 'browser');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

function pick(envName, ...candidates) {
  if (process.env[envName]) return process.env[envName];
  return candidates.find((c) => fs.existsSync(c)) || candidates[0];
}

// The sanitizer builds of `make test` when they exist, as tests/run.py does.
export const EMU = pick('HAAS_EMU', path.join(ROOT, 'build', 'asan', 'haas-emu'), path.join(ROOT, 'build', 'haas-emu'));
export const DEVICE = pick('HAAS_DEVICE', path.join(ROOT, 'build', 'asan', 'haas-device'), path.join(ROOT, 'build', 'haas-device'));

export const SANITIZER_MARKS = ['ERROR: AddressSanitizer', 'runtime error:', 'ERROR: LeakSanitizer'];

// A fresh folder under tests/out/browser/.
export function freshDir(...parts) {
  const dir = path.join(OUT, ...parts);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export function slug(name) {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}
