// device.mjs — haas-device, the simulated Core2 (see tests/integration/
// sim_device.py): a flash folder with app python9000 installed, the process
// and its log; fails on sanitizer reports when stopped.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DEVICE, OUT, freshDir } from './paths.mjs';
import { stopAndCheck } from './emulator.mjs';

export const APP_NAME = 'python9000';
export const APP_ID = '8800100099990000';

export function writeApp(appDir, version) {
  fs.mkdirSync(appDir, { recursive: true });
  fs.writeFileSync(path.join(appDir, 'manifest.json'), JSON.stringify({ appName: APP_NAME, version, appid: APP_ID }, null, 4));
  fs.writeFileSync(path.join(appDir, 'main.py'), 'print("Python App Upgrade Program")\n');
}

export function startDevice({ name, emu, productKey, deviceName, deviceSecret, version = '0.0.1' }) {
  if (!fs.existsSync(DEVICE)) throw new Error(`${DEVICE} does not exist: run make, or set HAAS_DEVICE`);
  const root = freshDir('devices', name);
  writeApp(path.join(root, 'data', 'pyamp'), version);
  fs.mkdirSync(path.join(OUT, 'logs'), { recursive: true });
  const logPath = path.join(OUT, 'logs', `device-${name}.log`);
  const log = fs.openSync(logPath, 'w');
  const env = { ...process.env, ASAN_OPTIONS: 'detect_leaks=1', UBSAN_OPTIONS: 'print_stacktrace=1' };
  delete env.LD_PRELOAD;
  const args = [
    '--product-key', productKey, '--device-name', deviceName, '--device-secret', deviceSecret,
    '--broker', `127.0.0.1:${emu.mqttPort}`, '--root', root, '--python', '/usr/bin/python3',
    '--app-settle', '1', '--confirm-timeout', '20',
  ];
  const proc = spawn(DEVICE, args, { env, stdio: ['ignore', log, log] });
  const readLog = () => fs.readFileSync(logPath, 'utf8');

  async function stop() {
    await stopAndCheck(proc, log, logPath, 15000);
  }

  return { root, appDir: path.join(root, 'data', 'pyamp'), logPath, readLog, stop, proc };
}
