// browser.mjs — Debian's chromium driven by playwright-core, headless, with
// a fresh user-data dir; collects page errors and console errors. A test may
// allow specific HTTP error answers it provokes on purpose (chromium logs
// "Failed to load resource: ... status of 400" for them).
import { chromium } from 'playwright-core';
import { CHROMIUM, freshDir } from './paths.mjs';

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const HTTP_ERROR = /^Failed to load resource: the server responded with a status of (\d+)/;

export async function openBrowser(name, { locale = 'zh-CN', viewport = { width: 1280, height: 900 }, isMobile = false } = {}) {
  const profile = freshDir('profiles', name);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    locale,
    viewport,
    isMobile,
    hasTouch: isMobile,
    acceptDownloads: true,
  });
  const page = context.pages()[0] || (await context.newPage());
  const errors = [];
  const allowed = [];
  const watch = (p) => {
    p.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    p.on('console', (m) => {
      if (m.type() !== 'error') return;
      const text = m.text();
      const url = m.location().url || '';
      const status = HTTP_ERROR.exec(text);
      if (status && allowed.some((a) => a.status === Number(status[1]) && url.includes(a.url))) return;
      errors.push(`console.error: ${text} ${url}`);
    });
  };
  watch(page);
  context.on('page', watch);
  return {
    context,
    page,
    errors,
    // Tolerates chromium's log line for an HTTP answer the test expects.
    allowHttpError(status, url) {
      allowed.push({ status, url });
    },
    close: () => context.close(),
  };
}
