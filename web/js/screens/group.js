// screens/group.js — one test device group: its devices, adding devices of a
// product (添加分组设备) and removing them.
import { api, enc, getAll } from '../api.js';
import { h, fmtTime, renderIfChanged, toast } from '../dom.js';
import { t } from '../i18n.js';
import { field, alertArea, submitting, deviceCheckboxes, tickedDevices } from '../forms.js';
import { showError, loaded } from '../errors.js';
import { table, createPager } from '../table.js';
import { pageHeader, section, statusBadge, appsText, details } from '../layout.js';
import { go } from '../router.js';
import { confirmDelete } from '../paged_list.js';

export function mount(main, [gid]) {
  const base = `/groups/${enc(gid)}`;
  const head = h('div');
  const info = h('div');
  const loadErr = alertArea();
  let members = new Set();

  // -- add devices: pick a product, tick its devices --
  const product = field({ label: t('groups.product'), name: 'product', as: 'select' });
  const choices = h('fieldset', { class: 'choices' }, h('legend', null, t('groups.pickDevices')));
  const addBtn = h('button', { type: 'submit', class: 'btn btn-primary' }, t('groups.addDevices'));
  const addErr = alertArea();
  const addForm = h('form', { class: 'form', novalidate: true, 'aria-label': t('groups.addDevices') }, h('div', { class: 'form-row' }, product.el), choices, h('div', { class: 'form-actions' }, addBtn), addErr);
  product.input.addEventListener('change', () => loadChoices());

  async function loadProducts() {
    try {
      const prods = await getAll('/products', 500);
      const keep = product.input.value;
      product.input.replaceChildren(
        h('option', { value: '' }, prods.length ? t('groups.chooseProduct') : t('groups.noProducts')),
        ...prods.map((p) => h('option', { value: p.productKey }, `${p.name} (${p.productKey})`)),
      );
      if (prods.some((p) => p.productKey === keep)) product.input.value = keep;
      else if (prods.length === 1) product.input.value = prods[0].productKey;
      loadChoices();
    } catch (e) {
      showError(addErr, e);
    }
  }

  async function loadChoices() {
    const pk = product.input.value;
    const legend = choices.firstChild;
    if (!pk) {
      choices.replaceChildren(legend, h('p', { class: 'muted' }, t('groups.chooseProductFirst')));
      return;
    }
    try {
      const page = await api.get(`/products/${enc(pk)}/devices?limit=500`);
      const free = page.items.filter((d) => !members.has(`${d.productKey}/${d.deviceName}`));
      choices.replaceChildren(legend, ...deviceCheckboxes(free, t('groups.noFreeDevices')));
    } catch (e) {
      showError(addErr, e);
    }
  }

  addForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const pk = product.input.value;
    const picked = tickedDevices(choices).map((deviceName) => ({ productKey: pk, deviceName }));
    if (!picked.length) {
      showError(addErr, { code: 'NothingPicked', message: '' });
      return;
    }
    const r = await submitting(addBtn, addErr, () => api.post(`${base}/devices`, { devices: picked }));
    if (r) {
      toast(t('groups.added', { n: r.added }));
      await refresh();
      loadChoices();
    }
  });

  const listErr = alertArea();
  const delErr = alertArea(); // refreshes clear loadErr and listErr
  const listDelErr = alertArea();
  const list = h('div', { class: 'list' });
  const pager = createPager(() => refresh(), 100);

  main.append(head, loadErr, delErr, info, section(t('groups.addDevices'), addForm),
    section(t('groups.members'), listErr, listDelErr, list, pager.el));

  const removeGroup = (g) => confirmDelete(t('groups.confirmDelete', { name: g.name }), base, delErr, () => go('#/groups'));
  const removeMember = (d) =>
    confirmDelete(
      t('groups.confirmRemove', { name: d.deviceName }),
      `${base}/devices/${enc(d.productKey)}/${enc(d.deviceName)}`,
      listDelErr,
      async () => {
        await refresh();
        loadChoices();
      },
      t('groups.removed', { name: d.deviceName }),
    );

  async function refresh() {
    const g = await loaded(loadErr, api.get(base));
    if (!g) return;
    renderIfChanged(head, g.name, () =>
      pageHeader(g.name, [{ href: '#/groups', label: t('groups.title') }], [
        h('button', { type: 'button', class: 'btn btn-danger', onclick: () => removeGroup(g) }, t('groups.delete')),
      ]),
    );
    renderIfChanged(info, g, () =>
      section(t('groups.info'), details([[t('groups.name'), g.name], [t('groups.id'), h('code', { class: 'mono' }, g.groupId)], [t('groups.deviceCount'), String(g.deviceCount)], [t('common.createdAt'), fmtTime(g.createdAt)]])),
    );
    try {
      const page = await api.get(`${base}/devices?${pager.query()}`);
      showError(listErr, null);
      pager.update(page.total);
      members = new Set(page.items.map((d) => `${d.productKey}/${d.deviceName}`));
      renderIfChanged(list, page.items, (items) =>
        table(
          [
            { label: 'DeviceName', class: 'mono', cell: (d) => h('a', { href: `#/products/${enc(d.productKey)}/devices/${enc(d.deviceName)}` }, d.deviceName) },
            { label: 'ProductKey', class: 'mono', cell: (d) => d.productKey },
            { label: t('devices.status'), cell: (d) => statusBadge(d.status) },
            { label: t('devices.lastOnline'), cell: (d) => fmtTime(d.lastOnlineAt) },
            { label: t('devices.apps'), class: 'mono', cell: (d) => appsText(d.apps) },
            {
              label: t('common.actions'),
              class: 'actions',
              cell: (d) => h('button', { type: 'button', class: 'btn btn-small btn-danger', dataset: { key: `rm-${d.productKey}-${d.deviceName}` }, onclick: () => removeMember(d) }, t('groups.remove')),
            },
          ],
          items,
          { empty: t('groups.noMembers'), rowKey: (d) => `${d.productKey}/${d.deviceName}` },
        ),
      );
    } catch (e) {
      showError(listErr, e);
    }
  }

  refresh().then(loadProducts);
  return { refresh };
}
