// screens/products.js — the product list (产品) and the form that creates one.
import { api, enc } from '../api.js';
import { h, fmtTime, renderIfChanged, toast, confirmAction, copyButton } from '../dom.js';
import { t } from '../i18n.js';
import { field, alertArea, submitting, setFieldError } from '../forms.js';
import { showError } from '../errors.js';
import { table, createPager } from '../table.js';
import { pageHeader, section } from '../layout.js';
import { go } from '../router.js';

export function mount(main) {
  const name = field({ label: t('products.name'), name: 'name', maxlength: 64, autocomplete: 'off', required: true });
  const key = field({ label: t('products.keyOptional'), name: 'productKey', maxlength: 11, autocomplete: 'off', hint: t('products.keyHint') });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('products.create'));
  const formErr = alertArea();
  const form = h('form', { class: 'form', novalidate: true, 'aria-label': t('products.create') }, h('div', { class: 'form-row' }, name.el, key.el), h('div', { class: 'form-actions' }, submit), formErr);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const n = name.input.value.trim();
    const k = key.input.value.trim();
    let ok = setFieldError(name.input, n ? '' : t('products.nameRequired'));
    ok = setFieldError(key.input, !k || /^[A-Za-z0-9]{11}$/.test(k) ? '' : t('products.keyInvalid')) && ok;
    if (!ok) return;
    const body = k ? { name: n, productKey: k } : { name: n };
    const p = await submitting(submit, formErr, () => api.post('/products', body));
    if (p) {
      toast(t('products.created', { name: p.name }));
      form.reset();
      go(`#/products/${enc(p.productKey)}`);
    }
  });

  const listErr = alertArea();
  const list = h('div', { class: 'list' });
  const pager = createPager(() => refresh());

  main.append(
    pageHeader(t('products.title')),
    h('p', { class: 'intro' }, t('products.intro')),
    section(t('products.create'), form),
    section(t('products.list'), listErr, list, pager.el),
  );

  async function remove(p) {
    if (!confirmAction(t('products.confirmDelete', { name: p.name }))) return;
    try {
      await api.del(`/products/${enc(p.productKey)}`);
      toast(t('common.deleted'));
      refresh();
    } catch (e) {
      showError(listErr, e);
    }
  }

  async function refresh() {
    try {
      const page = await api.get(`/products?${pager.query()}`);
      showError(listErr, null);
      pager.update(page.total);
      renderIfChanged(list, page.items, (items) =>
        table(
          [
            { label: t('products.name'), cell: (p) => h('a', { href: `#/products/${enc(p.productKey)}` }, p.name) },
            { label: 'ProductKey', class: 'mono', cell: (p) => [p.productKey, ' ', copyButton(p.productKey, 'common.copy', 'ProductKey')] },
            { label: t('products.deviceCount'), class: 'num', cell: (p) => String(p.deviceCount) },
            { label: t('common.createdAt'), cell: (p) => fmtTime(p.createdAt) },
            {
              label: t('common.actions'),
              class: 'actions',
              cell: (p) => [
                h('a', { class: 'btn btn-small', href: `#/products/${enc(p.productKey)}` }, t('products.manageDevices')),
                h('button', { type: 'button', class: 'btn btn-small btn-danger', dataset: { key: `del-${p.productKey}` }, onclick: () => remove(p) }, t('common.delete')),
              ],
            },
          ],
          items,
          { empty: t('products.none'), rowKey: (p) => p.productKey },
        ),
      );
    } catch (e) {
      showError(listErr, e);
    }
  }

  refresh();
  return { refresh };
}
