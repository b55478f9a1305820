// live.js — live updates: polls GET /api/v1/rev about once a second and
// calls the listener when the counter moved (every API write and device
// message moves it). Also shows whether the emulator answers. While the
// console waits for the management token it does not ask. And a screen's
// own poller, for what haas-emu changes by the clock alone.
import { api } from './api.js';
import { authNeeded } from './auth.js';
import { t } from './i18n.js';

let lastRev = null;
let connected = null;
let listener = () => {};
let indicator = null;

function show() {
  if (!indicator) return;
  if (authNeeded()) {
    indicator.className = 'live live-off';
    indicator.textContent = t('live.auth');
    indicator.title = t('live.authHint');
    return;
  }
  indicator.className = `live ${connected ? 'live-on' : connected === false ? 'live-off' : ''}`;
  indicator.textContent = connected === false ? t('live.off') : t('live.on');
  indicator.title = connected === false ? t('live.offHint') : t('live.onHint');
}

async function tick() {
  let wait = 1000;
  if (authNeeded()) {
    show();
    setTimeout(tick, 500);
    return;
  }
  try {
    const { rev } = await api.get('/rev');
    const wasDown = connected === false;
    connected = true;
    if ((lastRev !== null && rev !== lastRev) || wasDown) listener(rev);
    lastRev = rev;
  } catch {
    if (authNeeded()) {
      wait = 500; // a 401: asked again as soon as the token was given
    } else {
      connected = false;
      wait = 3000;
    }
  }
  show();
  if (document.hidden) wait = Math.max(wait, 5000);
  setTimeout(tick, wait);
}

export function startLive(el, onChange) {
  indicator = el;
  listener = onChange;
  show();
  tick();
}

// Redraws the indicator in the current language.
export function redrawLive() {
  show();
}

// A screen's own polling, for changes haas-emu makes by the clock without
// an API write or a message, which /rev does not count (a staged rollout's
// scheduled start, next batch, pause, timeouts, retries): after each
// refresh again(wanted) runs run() in ms while wanted (later while the tab
// is hidden); stop() on unmount.
export function poller(run, ms) {
  let timer = 0;
  let stopped = false;
  const again = (wanted) => {
    clearTimeout(timer);
    if (stopped || !wanted) return;
    timer = setTimeout(() => (document.hidden ? again(true) : run()), ms);
  };
  return {
    again,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
