// emulator.mjs — one haas-emu per test: its managed broker (plain and TLS)
// and HTTP/HTTPS on free loopback ports, a fresh data dir, the console from
// web/; fails on sanitizer reports or a bad exit when stopped.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { EMU, WEB, SANITIZER_MARKS, freshDir, OUT } from './paths.mjs';
import { waitUntil } from './wait.mjs';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Path of libasan when the binary links it (the managed mosquitto then loads
// the sanitizer build of the plugin, which needs the runtime preloaded).
export function asanRuntime(binary) {
  try {
    const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
    const line = out.split('\n').find((l) => l.includes('libasan') && l.includes('=>'));
    return line ? line.split('=>')[1].split('(')[0].trim() : null;
  } catch {
    return null;
  }
}

export function exitOf(proc, timeoutMs) {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

// Stops a process we started (SIGTERM, then SIGKILL after graceMs), closes
// its log and fails on any sanitizer report in it. Returns the log text.
export async function stopAndCheck(proc, log, logPath, graceMs) {
  if (proc.exitCode === null && proc.signalCode === null) {
    proc.kill('SIGTERM');
    if (!(await exitOf(proc, graceMs))) {
      proc.kill('SIGKILL');
      await exitOf(proc, 5000);
    }
  }
  fs.closeSync(log);
  const text = fs.readFileSync(logPath, 'utf8');
  for (const mark of SANITIZER_MARKS) {
    if (text.includes(mark)) throw new Error(`sanitizer report in ${logPath}:\n${text.slice(-4000)}`);
  }
  return text;
}

// options: args (more haas-emu arguments), token (started with --api-token
// token; api() then sends it as Authorization: Bearer, unless the call
// gives its own Authorization header), clock ('virtual': --clock virtual,
// the time standing still at 2026-01-01T00:00:00Z until moved).
export async function startEmulator(name, { args: extraArgs = [], token = null, clock = null } = {}) {
  if (!fs.existsSync(EMU)) throw new Error(`${EMU} does not exist: run make (or make asan), or set HAAS_EMU`);
  // HTTP, MQTT, MQTT over TLS and HTTPS: four distinct free ports (the
  // defaults 8883 and 8443 would collide between tests).
  const ports = [];
  while (ports.length < 4) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const [port, mqttPort, mqttsPort, httpsPort] = ports;
  const dataDir = freshDir('data', name);
  fs.mkdirSync(path.join(OUT, 'logs'), { recursive: true });
  const logPath = path.join(OUT, 'logs', `${name}.log`);
  const log = fs.openSync(logPath, 'w');
  const env = { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0', UBSAN_OPTIONS: 'print_stacktrace=1' };
  const asan = asanRuntime(EMU);
  if (asan) env.LD_PRELOAD = asan;
  const args = ['--bind', '127.0.0.1', '--http-port', String(port), '--mqtt-port', String(mqttPort), '--mqtts-port', String(mqttsPort), '--https-port', String(httpsPort), '--data-dir', dataDir, '--web-dir', WEB];
  if (token) args.push('--api-token', token);
  if (clock) args.push('--clock', clock);
  args.push(...extraArgs);
  const proc = spawn(EMU, args, { env, stdio: ['ignore', log, log] });
  const base = `http://127.0.0.1:${port}`;
  const readLog = () => fs.readFileSync(logPath, 'utf8');

  async function api(method, p, body, headers = {}) {
    const init = { method, headers: token ? { Authorization: `Bearer ${token}`, ...headers } : { ...headers } };
    if (body !== undefined) {
      if (Buffer.isBuffer(body)) init.body = body;
      else {
        init.body = JSON.stringify(body);
        init.headers['Content-Type'] = 'application/json';
      }
    }
    const r = await fetch(base + p, init);
    const text = await r.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: r.status, json, text };
  }

  await waitUntil(
    async () => {
      if (proc.exitCode !== null) throw new Error(`haas-emu exited with ${proc.exitCode}:\n${readLog()}`);
      try {
        return (await fetch(`${base}/healthz`)).status === 200;
      } catch {
        return false;
      }
    },
    { timeout: 20000, interval: 50, what: `haas-emu /healthz on port ${port}` },
  ).catch((e) => {
    proc.kill('SIGKILL');
    throw e;
  });

  async function stop() {
    const text = await stopAndCheck(proc, log, logPath, 30000);
    if (proc.exitCode !== 0) throw new Error(`haas-emu exited with ${proc.exitCode ?? proc.signalCode}:\n${text.slice(-2000)}`);
  }

  return { name, port, mqttPort, mqttsPort, httpsPort, base, dataDir, logPath, api, stop, readLog, token };
}
