// dom.js — small DOM helpers shared by the screens: an element builder,
// date/size formatting, re-rendering that keeps keyboard focus, toasts,
// clipboard copy and file downloads.
import { t, locale, getLang } from './i18n.js';

const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'multiple', 'open']);

// h('button', {class: 'btn', onclick: fn}, 'text', child, [more]) → element
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString(locale(), { hour12: false });
}

export function fmtSize(n) {
  if (n == null) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// Replaces the children of container; the element that had focus inside it
// (found again by its data-key) gets it back, so live refreshes do not throw
// a keyboard user out of a table.
export function swap(container, nodes) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.key : null;
  container.replaceChildren(...[].concat(nodes).filter(Boolean));
  if (key) {
    const again = container.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again) again.focus();
  }
}

// Re-renders only when the data (or the language) changed since last time.
const lastData = new WeakMap();
export function renderIfChanged(container, data, build) {
  const sig = getLang() + JSON.stringify(data);
  if (lastData.get(container) === sig) return;
  lastData.set(container, sig);
  swap(container, build(data));
}

let toastTimer = 0;
export function toast(message, kind = 'ok') {
  const el = document.getElementById('toast');
  if (!el) return;
  el.textContent = message;
  el.className = `toast show toast-${kind}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.className = 'toast';
    el.textContent = '';
  }, 4000);
}

function copyFallback(text) {
  const ta = h('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true' });
  ta.value = text;
  document.body.append(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}

// Copies text; the button (if given) says "copied" for a moment.
export async function copyText(text, button) {
  let ok = false;
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch {
      ok = false;
    }
  }
  if (!ok) ok = copyFallback(text);
  toast(ok ? t('common.copied') : t('common.copyFailed'), ok ? 'ok' : 'error');
  if (ok && button) {
    const old = button.textContent;
    button.textContent = t('common.copied');
    setTimeout(() => {
      button.textContent = old;
    }, 1500);
  }
  return ok;
}

export function copyButton(text, labelKey = 'common.copy', what = '') {
  const btn = h('button', {
    type: 'button',
    class: 'btn btn-small btn-ghost copy',
    'aria-label': what ? `${t(labelKey)} ${what}` : null,
    text: t(labelKey),
  });
  btn.addEventListener('click', () => copyText(text, btn));
  return btn;
}

export function downloadFile(name, text, type = 'text/csv;charset=utf-8') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name, class: 'offscreen' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// Asks before destructive actions.
export function confirmAction(message) {
  return window.confirm(message);
}
