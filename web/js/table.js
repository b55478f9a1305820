// table.js — data tables (each cell labelled, so phones can show rows as
// cards) and a pager for the API's offset/limit lists.
import { h } from './dom.js';
import { t } from './i18n.js';

// columns: [{label, cell: row => node|string, class?}]
export function table(columns, rows, { empty = t('common.empty'), caption = null, rowKey = null } = {}) {
  const head = h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label))));
  const body = h('tbody');
  if (!rows.length) {
    body.append(h('tr', { class: 'empty-row' }, h('td', { colspan: columns.length }, empty)));
  }
  for (const row of rows) {
    const tr = h('tr', rowKey ? { dataset: { row: rowKey(row) } } : null);
    for (const c of columns) tr.append(h('td', { 'data-label': c.label, class: c.class }, h('div', { class: 'cell' }, c.cell(row))));
    body.append(tr);
  }
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table' }, caption ? h('caption', null, caption) : null, head, body));
}

// A pager: calls onChange() after offset moved; update(total) redraws it.
export function createPager(onChange, limit = 50) {
  const state = { offset: 0, limit, total: 0 };
  const el = h('div', { class: 'pager' });
  const go = (offset) => {
    state.offset = Math.max(0, offset);
    onChange();
  };
  state.el = el;
  state.query = () => `offset=${state.offset}&limit=${state.limit}`;
  state.update = (total) => {
    state.total = total;
    if (state.offset && state.offset >= total) {
      go(Math.max(0, Math.floor((total - 1) / state.limit) * state.limit));
      return;
    }
    if (total <= state.limit && !state.offset) {
      el.replaceChildren();
      return;
    }
    const from = total ? state.offset + 1 : 0;
    const to = Math.min(total, state.offset + state.limit);
    el.replaceChildren(
      h('button', { type: 'button', class: 'btn btn-small', disabled: state.offset === 0, onclick: () => go(state.offset - state.limit) }, t('common.prev')),
      h('span', { class: 'pager-info' }, t('common.range', { from, to, total })),
      h('button', { type: 'button', class: 'btn btn-small', disabled: to >= total, onclick: () => go(state.offset + state.limit) }, t('common.next')),
    );
  };
  return state;
}
