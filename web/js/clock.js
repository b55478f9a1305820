// clock.js — the emulator's clock (GET/POST /api/v1/clock): real, or
// virtual (haas-emu --clock virtual: still until the console or a script
// moves it forward). The header's indicator (its time and whether it is
// virtual, a link to the test bench), and the controls the test bench
// shows: +1 s, +10 s, +1 min, +1 h, a custom amount, and setting it.
import { api } from './api.js';
import { h, fmtTime, toast } from './dom.js';
import { t } from './i18n.js';
import { authNeeded } from './auth.js';
import { field, alertArea, setFieldError, submitting } from './forms.js';
import { showError } from './errors.js';

let clock = null; // {mode, now, nowMs} as haas-emu answered
let fetchedAt = 0; // Date.now() when it answered
let indicator = null;
let ticker = 0;
const listeners = new Set();

// The emulator's time now in ms (a real clock goes on between answers).
export function clockNowMs() {
  if (!clock) return null;
  return clock.mode === 'virtual' ? clock.nowMs : clock.nowMs + (Date.now() - fetchedAt);
}

export const clockIsVirtual = () => !!clock && clock.mode === 'virtual';

function set(answer) {
  clock = answer;
  fetchedAt = Date.now();
  drawIndicator();
  for (const fn of listeners) fn(clock);
}

// Asks haas-emu for its clock (after a live change, and at the start).
export async function loadClock() {
  try {
    set(await api.get('/clock'));
  } catch {
    /* the live indicator says haas-emu does not answer */
  }
  return clock;
}

// Calls fn(clock) whenever it is known anew; returns the unsubscribe.
export function onClock(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// "2026/1/1 08:00:31" in the browser's time zone, to the second.
export const clockText = (ms) => fmtTime(new Date(ms).toISOString());
const utcText = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function drawIndicator() {
  if (!indicator) return;
  const ms = clockNowMs();
  if (ms == null) {
    indicator.hidden = true;
    return;
  }
  const virtual = clockIsVirtual();
  indicator.hidden = false;
  indicator.className = `clock-indicator ${virtual ? 'clock-virtual' : 'clock-real'}`;
  indicator.dataset.clockMode = clock.mode;
  indicator.title = `${t(virtual ? 'clock.virtualHint' : 'clock.realHint')} (${utcText(ms)})`;
  indicator.replaceChildren(h('span', { class: 'clock-mode' }, t(virtual ? 'clock.virtual' : 'clock.real')), ' ', h('time', { class: 'clock-time', datetime: utcText(ms) }, clockText(ms)));
}

// The header's indicator: el is a link to the test bench.
export function startClock(el) {
  indicator = el;
  indicator.setAttribute('href', '#/faults');
  if (!authNeeded()) loadClock();
  clearInterval(ticker);
  // a real clock's seconds go on in the header without asking haas-emu;
  // not known yet (no token at first, say): asked again
  ticker = setInterval(() => {
    if (document.hidden) return;
    if (!clock) {
      if (!authNeeded()) loadClock();
    } else if (clock.mode === 'real') {
      drawIndicator();
      for (const fn of listeners) fn(clock);
    }
  }, 1000);
}

export function redrawClock() {
  drawIndicator();
}

// datetime-local value (browser's time zone, to the second) of ms.
export function localInputValue(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// datetime-local → ISO 8601 UTC without milliseconds; null when not a time.
export function utcOfLocal(local) {
  const d = new Date(local);
  return local && !isNaN(d) ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : null;
}

const STEPS = [
  ['1s', 1],
  ['10s', 10],
  ['1min', 60],
  ['1h', 3600],
];
const UNITS = [
  ['s', 1],
  ['min', 60],
  ['h', 3600],
];

// The test bench's clock card: mode and time, and for a virtual clock the
// buttons that move it. → {el, draw()}
export function clockControls() {
  const err = alertArea();
  const now = h('p', { class: 'clock-now', role: 'status' });
  const steps = STEPS.map(([key, s]) =>
    h('button', { type: 'button', class: 'btn', dataset: { advance: String(s) }, 'aria-label': t('clock.advanceBy', { what: t(`clock.step.${key}`) }) }, `+${t(`clock.step.${key}`)}`),
  );
  const amount = field({ label: t('clock.amount'), name: 'advance', type: 'number', min: 0, step: 'any', inputmode: 'decimal' });
  const unit = field({ label: t('clock.unit'), name: 'unit', as: 'select', children: UNITS.map(([k, f]) => h('option', { value: String(f) }, t(`clock.unit.${k}`))) });
  const advance = h('button', { type: 'submit', class: 'btn btn-primary' }, t('clock.advance'));
  const custom = h('form', { class: 'clock-form', novalidate: true, 'aria-label': t('clock.customTitle') }, amount.el, unit.el, h('div', { class: 'form-actions' }, advance));
  const at = field({ label: t('clock.setTo'), name: 'set', type: 'datetime-local', step: 1, hint: t('clock.setHint') });
  const setBtn = h('button', { type: 'submit', class: 'btn' }, t('clock.set'));
  const setForm = h('form', { class: 'clock-form', novalidate: true, 'aria-label': t('clock.setTitle') }, at.el, h('div', { class: 'form-actions' }, setBtn));
  const virtualPart = h(
    'div',
    { class: 'clock-controls' },
    h('div', { class: 'form-actions clock-steps', role: 'group', 'aria-label': t('clock.quick') }, steps),
    custom,
    setForm,
  );
  const realHint = h('p', { class: 'hint' }, t('clock.realLong'));
  const el = h('div', { class: 'clock-card' }, now, h('p', { class: 'hint clock-explain' }), realHint, virtualPart, err);

  async function move(button, body) {
    const answer = await submitting(button, err, () => api.post('/clock', body));
    if (answer) {
      set(answer);
      toast(t('clock.moved', { time: clockText(answer.nowMs) }));
    }
    return answer;
  }
  steps.forEach((b, i) => b.addEventListener('click', () => move(b, { advanceSeconds: STEPS[i][1] })));
  custom.addEventListener('submit', (e) => {
    e.preventDefault();
    const n = Number(amount.input.value.trim());
    if (!setFieldError(amount.input, amount.input.value.trim() !== '' && Number.isFinite(n) && n > 0 ? '' : t('clock.amountInvalid'))) return;
    move(advance, { advanceMs: Math.round(n * Number(unit.input.value) * 1000) });
  });
  setForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const iso = utcOfLocal(at.input.value);
    const ms = clockNowMs();
    let problem = iso ? '' : t('clock.setInvalid');
    if (!problem && ms != null && Date.parse(iso) < Math.floor(ms / 1000) * 1000) problem = t('clock.setBackwards');
    if (!setFieldError(at.input, problem)) return;
    move(setBtn, { set: iso });
  });

  function draw() {
    const ms = clockNowMs();
    if (ms == null) {
      now.textContent = t('common.loading');
      virtualPart.hidden = true;
      realHint.hidden = true;
      return;
    }
    const virtual = clockIsVirtual();
    now.replaceChildren(
      h('span', { class: `badge clock-badge-${clock.mode}`, dataset: { clockMode: clock.mode } }, t(virtual ? 'clock.virtual' : 'clock.real')),
      ' ',
      h('strong', { class: 'clock-local' }, clockText(ms)),
      ' ',
      h('code', { class: 'mono clock-utc' }, utcText(ms)),
    );
    el.querySelector('.clock-explain').textContent = t(virtual ? 'clock.virtualLong' : 'clock.realShort');
    virtualPart.hidden = !virtual;
    realHint.hidden = virtual;
    // the time to set starts at the clock's, and follows it while behind
    const chosen = utcOfLocal(at.input.value);
    if (!chosen || Date.parse(chosen) < Math.floor(ms / 1000) * 1000) at.input.value = localInputValue(ms);
  }
  const off = onClock(draw);
  showError(err, null);
  return { el, draw, stop: off };
}
