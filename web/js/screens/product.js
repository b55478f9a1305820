// screens/product.js — one product and its devices (设备): add one (or
// import an existing one with its DeviceSecret), batch add, live status and
// last-seen time, reported app versions, the triple with copy buttons, CSV
// export; a link to the product's firmware OTA.
import { api, enc, getAll } from '../api.js';
import { h, fmtTime, renderIfChanged, toast, copyButton, downloadFile } from '../dom.js';
import { t } from '../i18n.js';
import { field, alertArea, submitting, setFieldError } from '../forms.js';
import { showError, loaded } from '../errors.js';
import { table, createPager } from '../table.js';
import { pageHeader, section, statusBadge, appsText, details } from '../layout.js';
import { devicesCsv, tripleSnippet } from '../export.js';
import { tripleBlock } from '../triple.js';
import { go } from '../router.js';
import { confirmDelete } from '../paged_list.js';

const DEVICE_NAME = /^[A-Za-z0-9_@.:-]{4,32}$/;
const DEVICE_SECRET = /^[A-Za-z0-9]{32}$/;

export function mount(main, [pk]) {
  const base = `/products/${enc(pk)}`;
  const head = h('div');
  const info = h('div');
  const loadErr = alertArea();

  // -- add one device --
  const dn = field({ label: 'DeviceName', name: 'deviceName', maxlength: 32, autocomplete: 'off', hint: t('devices.nameHint') });
  // An existing Aliyun device (a Core2 flashed with its triple) keeps its
  // DeviceSecret: imported as it is, nothing on the device changes.
  const ds = field({ label: t('devices.secretOptional'), name: 'deviceSecret', maxlength: 32, autocomplete: 'off', spellcheck: 'false', class: 'mono', hint: t('devices.secretHint') });
  const addBtn = h('button', { type: 'submit', class: 'btn btn-primary' }, t('devices.add'));
  const addErr = alertArea();
  const added = h('div', { class: 'result', 'aria-live': 'polite' });
  const addForm = h('form', { class: 'form', novalidate: true, 'aria-label': t('devices.add') }, h('div', { class: 'form-row' }, dn.el, ds.el), h('div', { class: 'form-actions' }, addBtn), addErr, added);
  addForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = dn.input.value.trim();
    const secret = ds.input.value.trim();
    let ok = setFieldError(dn.input, DEVICE_NAME.test(name) ? '' : t('devices.nameInvalid'));
    ok = setFieldError(ds.input, !secret || DEVICE_SECRET.test(secret) ? '' : t('devices.secretInvalid', { n: secret.length })) && ok;
    if (!ok) return;
    const d = await submitting(addBtn, addErr, () => api.post(`${base}/devices`, secret ? { deviceName: name, deviceSecret: secret } : { deviceName: name }));
    if (d) {
      toast(t(secret ? 'devices.importedOne' : 'devices.addedOne', { name: d.deviceName }));
      addForm.reset();
      added.replaceChildren(h('p', { class: 'result-title' }, t('devices.tripleNote')), tripleBlock(d));
      refresh();
    }
  });

  // -- batch --
  const count = field({ label: t('devices.count'), name: 'count', type: 'number', min: 1, max: 10000, value: '10', inputmode: 'numeric' });
  const prefix = field({ label: t('devices.prefix'), name: 'prefix', maxlength: 26, autocomplete: 'off', hint: t('devices.prefixHint') });
  const batchBtn = h('button', { type: 'submit', class: 'btn btn-primary' }, t('devices.batchAdd'));
  const batchErr = alertArea();
  const batchDone = h('div', { class: 'result', 'aria-live': 'polite' });
  const batchForm = h('form', { class: 'form', novalidate: true, 'aria-label': t('devices.batchAdd') }, h('div', { class: 'form-row' }, count.el, prefix.el), h('div', { class: 'form-actions' }, batchBtn), batchErr, batchDone);
  batchForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const n = Number(count.input.value);
    const p = prefix.input.value.trim();
    let ok = setFieldError(count.input, Number.isInteger(n) && n >= 1 && n <= 10000 ? '' : t('devices.countInvalid'));
    ok = setFieldError(prefix.input, p.length <= 26 && /^[A-Za-z0-9_@.:-]*$/.test(p) ? '' : t('devices.prefixInvalid')) && ok;
    if (!ok) return;
    const res = await submitting(batchBtn, batchErr, () => api.post(`${base}/devices`, p ? { count: n, prefix: p } : { count: n }));
    if (res) {
      const items = res.items || [];
      toast(t('devices.addedMany', { n: items.length }));
      batchDone.replaceChildren(
        h('p', { class: 'result-title' }, t('devices.addedMany', { n: items.length })),
        h('button', { type: 'button', class: 'btn', onclick: () => downloadFile(`devices-${pk}-batch.csv`, devicesCsv(items)) }, t('devices.batchCsv')),
      );
      refresh();
    }
  });

  // -- list --
  const filter = field({
    label: t('devices.filter'),
    name: 'status',
    as: 'select',
    children: ['', 'online', 'offline', 'inactive'].map((s) => h('option', { value: s }, s ? t(`status.${s}`) : t('common.all'))),
  });
  filter.input.addEventListener('change', () => {
    pager.offset = 0;
    refresh();
  });
  const csvBtn = h('button', { type: 'button', class: 'btn' }, t('devices.exportCsv'));
  const csvErr = alertArea(); // a failed export: refreshes clear listErr
  csvBtn.addEventListener('click', async () => {
    csvBtn.disabled = true;
    showError(csvErr, null);
    try {
      const all = await getAll(`${base}/devices`);
      downloadFile(`devices-${pk}.csv`, devicesCsv(all));
    } catch (e) {
      showError(csvErr, e);
    } finally {
      csvBtn.disabled = false;
    }
  });
  const listErr = alertArea();
  const delErr = alertArea(); // refreshes clear loadErr and listErr
  const listDelErr = alertArea();
  const list = h('div', { class: 'list' });
  const pager = createPager(() => refresh());

  main.append(
    head,
    loadErr,
    delErr,
    info,
    section(t('devices.add'), addForm),
    section(t('devices.batchAdd'), batchForm),
    section(t('devices.list'), h('div', { class: 'toolbar' }, filter.el, csvBtn), listErr, csvErr, listDelErr, list, pager.el),
  );

  const removeProduct = (p) => confirmDelete(t('products.confirmDelete', { name: p.name }), base, delErr, () => go('#/products'));
  const removeDevice = (d) => confirmDelete(t('devices.confirmDelete', { name: d.deviceName }), `${base}/devices/${enc(d.deviceName)}`, listDelErr, () => refresh());

  const devHref = (d) => `#/products/${enc(pk)}/devices/${enc(d.deviceName)}`;

  async function refresh() {
    const product = await loaded(loadErr, api.get(base));
    if (!product) return;
    renderIfChanged(head, product.name, () =>
      pageHeader(product.name, [{ href: '#/products', label: t('products.title') }], [
        h('a', { class: 'btn', href: `#/ota?productKey=${enc(pk)}` }, t('ota.productLink')),
        h('a', { class: 'btn', href: `#/rollouts?productKey=${enc(pk)}` }, t('rollouts.productLink')),
        h('button', { type: 'button', class: 'btn btn-danger', onclick: () => removeProduct(product) }, t('products.delete')),
      ]),
    );
    renderIfChanged(info, product, (p) =>
      section(
        t('products.info'),
        details([
          [t('products.name'), p.name],
          ['ProductKey', h('span', null, h('code', { class: 'mono' }, p.productKey), ' ', copyButton(p.productKey, 'common.copy', 'ProductKey'))],
          [t('products.deviceCount'), String(p.deviceCount)],
          [t('common.createdAt'), fmtTime(p.createdAt)],
        ]),
      ),
    );
    try {
      const status = filter.input.value ? `&status=${enc(filter.input.value)}` : '';
      const page = await api.get(`${base}/devices?${pager.query()}${status}`);
      showError(listErr, null);
      pager.update(page.total);
      renderIfChanged(list, page.items, (items) =>
        table(
          [
            { label: 'DeviceName', class: 'mono', cell: (d) => h('a', { href: devHref(d) }, d.deviceName) },
            { label: t('devices.status'), cell: (d) => statusBadge(d.status) },
            { label: t('devices.lastOnline'), cell: (d) => fmtTime(d.lastOnlineAt) },
            { label: 'IP', class: 'mono', cell: (d) => d.ip || '—' },
            { label: t('devices.apps'), class: 'mono', cell: (d) => appsText(d.apps) },
            {
              label: t('common.actions'),
              class: 'actions',
              cell: (d) => [
                h('a', { class: 'btn btn-small', href: devHref(d) }, t('devices.view')),
                copyButton(tripleSnippet(d), 'devices.copyTriple', d.deviceName),
                h('button', { type: 'button', class: 'btn btn-small btn-danger', dataset: { key: `del-${d.deviceName}` }, onclick: () => removeDevice(d) }, t('common.delete')),
              ],
            },
          ],
          items,
          { empty: t('devices.none'), rowKey: (d) => d.deviceName },
        ),
      );
    } catch (e) {
      showError(listErr, e);
    }
  }

  refresh();
  return { refresh };
}
