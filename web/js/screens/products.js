// screens/products.js — the product list (产品) and the form that creates one.
import { h, fmtTime, copyButton } from '../dom.js';
import { t } from '../i18n.js';
import { field, setFieldError } from '../forms.js';
import { mountListScreen } from '../paged_list.js';

export function mount(main) {
  const name = field({ label: t('products.name'), name: 'name', maxlength: 64, autocomplete: 'off', required: true });
  const key = field({ label: t('products.keyOptional'), name: 'productKey', maxlength: 11, autocomplete: 'off', hint: t('products.keyHint') });

  return mountListScreen(main, {
    path: '/products',
    id: (p) => p.productKey,
    name: (p) => p.name,
    texts: {
      title: 'products.title',
      intro: 'products.intro',
      create: 'products.create',
      created: 'products.created',
      list: 'products.list',
      none: 'products.none',
      manage: 'products.manageDevices',
      confirmDelete: 'products.confirmDelete',
    },
    fields: [name.el, key.el],
    body() {
      const n = name.input.value.trim();
      const k = key.input.value.trim();
      let ok = setFieldError(name.input, n ? '' : t('products.nameRequired'));
      ok = setFieldError(key.input, !k || /^[A-Za-z0-9]{11}$/.test(k) ? '' : t('products.keyInvalid')) && ok;
      if (!ok) return null;
      return k ? { name: n, productKey: k } : { name: n };
    },
    columns: (href) => [
      { label: t('products.name'), cell: (p) => h('a', { href: href(p) }, p.name) },
      { label: 'ProductKey', class: 'mono', cell: (p) => [p.productKey, ' ', copyButton(p.productKey, 'common.copy', 'ProductKey')] },
      { label: t('products.deviceCount'), class: 'num', cell: (p) => String(p.deviceCount) },
      { label: t('common.createdAt'), cell: (p) => fmtTime(p.createdAt) },
    ],
  });
}
