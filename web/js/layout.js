// layout.js — pieces every screen uses: the page header with breadcrumbs,
// titled sections, status badges, and the document title.
import { h } from './dom.js';
import { t } from './i18n.js';

// crumbs: [{href, label}] before the title.
export function pageHeader(title, crumbs = [], actions = []) {
  document.title = `${title} · ${t('app.brand')}`;
  return h(
    'div',
    { class: 'page-header' },
    crumbs.length
      ? h(
          'nav',
          { class: 'crumbs', 'aria-label': t('app.crumbs') },
          h('ol', null, crumbs.map((c) => h('li', null, h('a', { href: c.href }, c.label)))),
        )
      : null,
    h('div', { class: 'page-title-row' }, h('h1', { class: 'page-title' }, title), h('div', { class: 'page-actions' }, actions)),
  );
}

let seq = 0;
export function section(title, ...children) {
  const id = `sec${++seq}`;
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), children);
}

// Device connection status: inactive / online / offline.
export function statusBadge(status) {
  return h('span', { class: `badge status-${status || 'inactive'}` }, t(`status.${status || 'inactive'}`));
}

// A code the device reported (404, 405…) in words.
export function codeText(code) {
  if (code == null) return '';
  const key = `code.${code}`;
  const words = t(key);
  return words === key ? String(code) : `${code} ${words}`;
}

// haas-emu's English reason begins with the code's meaning ("verify failed:
// md5 mismatch", "download failed (404)"): the console says the meaning in
// the user's language and keeps only the device's own description.
const SERVER_MEANING = /^(?:(?:upgrade|download|verify|burn|install) failed(?: \(\d+\))?(?:: ?|$)|the device reported a failure$)/;

// A device's failure: its code in words, then the device's description.
export function failureWords(code, reason) {
  const desc = (reason || '').replace(SERVER_MEANING, '');
  return h('span', { class: 'fail-reason', dataset: { code: code ?? '' } }, code != null ? codeText(code) : null, code != null && desc ? ': ' : null, desc || null);
}

// Per-device task state, with the failure code explained.
export function stateBadge(state, code) {
  return h(
    'span',
    { class: `badge state-${state}`, dataset: { state } },
    t(`state.${state}`),
    state === 'failed' && code != null ? h('span', { class: 'badge-code' }, ` (${codeText(code)})`) : null,
  );
}

export function appsText(apps) {
  if (!apps || !apps.length) return '—';
  return apps.map((a) => `${a.appId}: ${a.version}`).join(', ');
}

// The firmware versions a device reported, per OTA module.
export function modulesText(modules) {
  if (!modules || !modules.length) return '—';
  return modules.map((m) => `${m.moduleName}: ${m.version}`).join(', ');
}

// <dl> of [label, value] pairs.
export function details(pairs) {
  return h(
    'dl',
    { class: 'details' },
    pairs.filter(Boolean).map(([k, v]) => h('div', { class: 'details-row' }, h('dt', null, k), h('dd', null, v))),
  );
}
