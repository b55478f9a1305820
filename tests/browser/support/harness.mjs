// harness.mjs — browserTest(name, options, body): a node:test test with its
// own haas-emu (options.emulator: startEmulator's options, e.g. a token)
// and chromium; afterwards a screenshot in tests/out/browser/<name>.png,
// devices and emulator stopped (sanitizer reports fail the test) and any
// page or console error fails it.
import { test } from 'node:test';
import path from 'node:path';
import fs from 'node:fs';
import { OUT, slug, freshDir } from './paths.mjs';
import { startEmulator } from './emulator.mjs';
import { startDevice } from './device.mjs';
import { openBrowser } from './browser.mjs';

export function browserTest(name, options, body) {
  test(name, { timeout: options.timeout || 90000 }, async () => {
    const id = slug(name);
    fs.mkdirSync(OUT, { recursive: true });
    const emu = await startEmulator(id, options.emulator);
    const devices = [];
    let browser = null;
    const problems = [];
    try {
      browser = await openBrowser(id, options);
      const ctx = {
        emu,
        browser,
        page: browser.page,
        workDir: freshDir('work', id),
        shot: (step) => browser.page.screenshot({ path: path.join(OUT, `${id}-${step}.png`), fullPage: true }),
        startDevice: (opts) => {
          const d = startDevice({ emu, name: `${id}-${opts.deviceName}`, ...opts });
          devices.push(d);
          return d;
        },
      };
      await body(ctx);
    } catch (e) {
      problems.push(e);
    }
    if (browser) {
      await browser.page.screenshot({ path: path.join(OUT, `${id}.png`), fullPage: true }).catch((e) => problems.push(e));
      if (browser.errors.length) problems.push(new Error(`errors in the page:\n${browser.errors.join('\n')}`));
      await browser.close().catch((e) => problems.push(e));
    }
    for (const d of devices) await d.stop().catch((e) => problems.push(e));
    await emu.stop().catch((e) => problems.push(e));
    if (problems.length === 1) throw problems[0];
    if (problems.length) throw new AggregateError(problems, problems.map((p) => p.message).join('\n---\n'));
  });
}
