// wait.mjs — bounded polling: waitUntil(fn) retries fn until it returns a
// true value or the deadline passes (no fixed sleeps in the tests).
import { setTimeout as sleep } from 'node:timers/promises';

export async function waitUntil(fn, { timeout = 10000, interval = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    }
    await sleep(interval);
  }
}
