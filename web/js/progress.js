// progress.js — how far a rollout is, shared by a test task's page, a
// firmware upgrade job's page and a staged rollout's page: a box per device
// state with its count, and a bar of the finished devices (plus those under
// way); the counts as one line for the lists; and one device's download
// progress.
import { h } from './dom.js';
import { t } from './i18n.js';

// c: {total, <state>: n}; states: the boxes in order; done: the finished
// states (the bar's solid segments and its count); moving: states under way
// (striped segments after them).
export function countsView(c, { states, done, moving = [] }) {
  const total = c.total || 0;
  const finished = done.reduce((n, s) => n + (c[s] || 0), 0);
  const pct = (n) => (total ? `${(n / total) * 100}%` : '0');
  return h(
    'div',
    { class: 'task-progress' },
    h(
      'ul',
      { class: 'counts', 'aria-label': t('tasks.counts') },
      h('li', { class: 'count count-total' }, h('span', { class: 'count-n', dataset: { count: 'total' } }, String(total)), h('span', { class: 'count-label' }, t('tasks.totalLabel'))),
      states.map((s) =>
        h('li', { class: `count count-${s}` }, h('span', { class: 'count-n', dataset: { count: s } }, String(c[s] || 0)), h('span', { class: 'count-label' }, t(`state.${s}`))),
      ),
    ),
    h(
      'div',
      { class: 'progress-row' },
      h(
        'div',
        { class: 'bar', role: 'progressbar', 'aria-label': t('tasks.progress'), 'aria-valuemin': 0, 'aria-valuemax': total, 'aria-valuenow': finished, 'aria-valuetext': `${finished}/${total}` },
        done.concat(moving).map((s) => h('span', { class: `bar-seg seg-${s}`, style: `width:${pct(c[s] || 0)}` })),
      ),
      h('span', { class: 'progress-label' }, t('tasks.done'), ' ', h('strong', { class: 'progress-count' }, `${finished}/${total}`)),
    ),
  );
}

// "成功 1 · 已推送 2 / 共 3 台" — the non-zero counts of shown, then the total.
export function countsText(c, shown) {
  const parts = shown.filter((s) => c[s]).map((s) => `${t(`state.${s}`)} ${c[s]}`);
  return `${parts.join(' · ') || '—'} / ${t('tasks.total', { n: c.total })}`;
}

// The download progress of one device (label: the bar's accessible name): a
// bar and its percentage while it downloads (the last step it reported
// otherwise), — when it reported none.
export function deviceProgress(progress, label) {
  if (progress == null) return '—';
  const pct = Math.max(0, Math.min(100, Number(progress) || 0));
  return h(
    'span',
    { class: 'dl-progress', dataset: { progress: pct } },
    h('span', { class: 'dl-bar', role: 'progressbar', 'aria-label': label, 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': pct }, h('span', { class: 'dl-fill', style: `width:${pct}%` })),
    h('span', { class: 'dl-pct' }, `${pct}%`),
  );
}
