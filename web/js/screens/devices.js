// screens/devices.js — 设备管理 → 设备: the devices of every product in one
// paged list (GET /api/v1/devices), filtered by product and status (kept
// in the address: #/devices?productKey=…&status=…), each linking to its
// device page, with the triple to copy and a CSV export of the list.
import { api, enc, getAll } from '../api.js';
import { h, fmtTime, renderIfChanged, copyButton, downloadFile } from '../dom.js';
import { t } from '../i18n.js';
import { field, alertArea } from '../forms.js';
import { showError } from '../errors.js';
import { table, createPager } from '../table.js';
import { pageHeader, section, statusBadge, appsText } from '../layout.js';
import { devicesCsv, tripleSnippet } from '../export.js';

const STATUSES = ['online', 'offline', 'inactive'];

export function mount(main, _params, query) {
  const names = new Map(); // productKey → product name
  const product = field({ label: t('devices.product'), name: 'productKey', as: 'select' });
  product.el.classList.add('field-wide');
  const status = field({
    label: t('devices.filter'),
    name: 'status',
    as: 'select',
    children: ['', ...STATUSES].map((s) => h('option', { value: s }, s ? t(`status.${s}`) : t('common.all'))),
  });
  const wanted = { productKey: query.get('productKey') || '', status: query.get('status') || '' };
  status.input.value = STATUSES.includes(wanted.status) ? wanted.status : '';

  function productOptions() {
    const keys = [...names.keys()];
    if (wanted.productKey && !names.has(wanted.productKey)) keys.push(wanted.productKey);
    product.input.replaceChildren(
      h('option', { value: '' }, t('devices.allProducts')),
      ...keys.map((pk) => h('option', { value: pk }, names.has(pk) ? `${names.get(pk)} (${pk})` : pk)),
    );
    product.input.value = wanted.productKey;
  }
  productOptions();

  const filterQuery = () => {
    const q = new URLSearchParams();
    if (product.input.value) q.set('productKey', product.input.value);
    if (status.input.value) q.set('status', status.input.value);
    return q.toString();
  };
  const onFilter = () => {
    wanted.productKey = product.input.value;
    const q = filterQuery();
    // The filters go into the address without a new navigation.
    history.replaceState(null, '', `#/devices${q ? `?${q}` : ''}`);
    pager.offset = 0;
    refresh();
  };
  product.input.addEventListener('change', onFilter);
  status.input.addEventListener('change', onFilter);

  const listErr = alertArea();
  const list = h('div', { class: 'list' });
  const pager = createPager(() => refresh());
  const summary = h('p', { class: 'hint', role: 'status', 'aria-live': 'polite' });

  const csvBtn = h('button', { type: 'button', class: 'btn' }, t('devices.exportCsv'));
  const csvErr = alertArea(); // a failed export: refreshes clear listErr
  csvBtn.addEventListener('click', async () => {
    csvBtn.disabled = true;
    showError(csvErr, null);
    try {
      const q = filterQuery();
      const all = await getAll(`/devices${q ? `?${q}` : ''}`);
      downloadFile(`devices-${product.input.value || 'all'}.csv`, devicesCsv(all));
    } catch (e) {
      showError(csvErr, e);
    } finally {
      csvBtn.disabled = false;
    }
  });

  main.append(
    pageHeader(t('devices.title')),
    h('p', { class: 'intro' }, t('devices.intro'), ' ', h('a', { href: '#/products' }, t('devices.toProducts'))),
    section(t('devices.list'), h('div', { class: 'toolbar' }, product.el, status.el, csvBtn), summary, listErr, csvErr, list, pager.el),
  );

  const devHref = (d) => `#/products/${enc(d.productKey)}/devices/${enc(d.deviceName)}`;

  async function loadProducts() {
    try {
      const items = await getAll('/products', 5000);
      names.clear();
      for (const p of items) names.set(p.productKey, p.name);
      productOptions();
    } catch (e) {
      showError(listErr, e);
    }
  }

  async function refresh() {
    try {
      const q = filterQuery();
      const page = await api.get(`/devices?${pager.query()}${q ? `&${q}` : ''}`);
      showError(listErr, null);
      pager.update(page.total);
      summary.textContent = t('devices.total', { n: page.total });
      // A product made since the names were read: read them again.
      if (page.items.some((d) => !names.has(d.productKey))) await loadProducts();
      renderIfChanged(list, [page.items, [...names]], () =>
        table(
          [
            { label: 'DeviceName', class: 'mono', cell: (d) => h('a', { href: devHref(d) }, d.deviceName) },
            { label: t('devices.product'), cell: (d) => h('a', { href: `#/products/${enc(d.productKey)}` }, names.get(d.productKey) || d.productKey) },
            { label: 'ProductKey', class: 'mono', cell: (d) => d.productKey },
            { label: t('devices.status'), cell: (d) => statusBadge(d.status) },
            { label: t('devices.lastOnline'), cell: (d) => fmtTime(d.lastOnlineAt) },
            { label: 'IP', class: 'mono', cell: (d) => d.ip || '—' },
            { label: t('devices.apps'), class: 'mono', cell: (d) => appsText(d.apps) },
            {
              label: t('common.actions'),
              class: 'actions',
              cell: (d) => [
                h('a', { class: 'btn btn-small', href: devHref(d), 'aria-label': `${t('devices.view')} ${d.deviceName}` }, t('devices.view')),
                copyButton(tripleSnippet(d), 'devices.copyTriple', d.deviceName),
              ],
            },
          ],
          page.items,
          { empty: product.input.value || status.input.value ? t('devices.noneMatch') : t('devices.noneAll'), rowKey: (d) => `${d.productKey}/${d.deviceName}` },
        ),
      );
    } catch (e) {
      showError(listErr, e);
    }
  }

  loadProducts().then(refresh);
  return { refresh };
}
