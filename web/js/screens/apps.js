// screens/apps.js — apps (应用): the list and 创建应用, with appName and appId
// checked in the browser by the tutorial's rules before the server sees them.
import { api, enc } from '../api.js';
import { h, fmtTime, renderIfChanged, toast, confirmAction } from '../dom.js';
import { t } from '../i18n.js';
import { field, alertArea, submitting, setFieldError } from '../forms.js';
import { showError } from '../errors.js';
import { table, createPager } from '../table.js';
import { pageHeader, section } from '../layout.js';
import { go } from '../router.js';

// The tutorial: appName only letters and digits, at most 16 characters;
// appid 16 digits beginning with 88001000.
export function appNameProblem(v) {
  if (!v) return t('apps.nameRequired');
  if (!/^[A-Za-z0-9]+$/.test(v)) return t('apps.nameChars');
  if (v.length > 16) return t('apps.nameLength');
  return '';
}

export function appIdProblem(v) {
  if (!v) return t('apps.idRequired');
  if (!/^[0-9]{16}$/.test(v)) return t('apps.idDigits');
  if (!v.startsWith('88001000')) return t('apps.idPrefix');
  return '';
}

export function mount(main) {
  const name = field({ label: t('apps.name'), name: 'appName', maxlength: 64, autocomplete: 'off', spellcheck: 'false', hint: t('apps.nameHint') });
  const id = field({ label: t('apps.id'), name: 'appId', maxlength: 32, autocomplete: 'off', inputmode: 'numeric', hint: t('apps.idHint') });
  const desc = field({ label: t('apps.description'), name: 'description', as: 'textarea', maxlength: 512, rows: 2 });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('apps.create'));
  const formErr = alertArea();
  const form = h('form', { class: 'form', novalidate: true, 'aria-label': t('apps.create') }, h('div', { class: 'form-row' }, name.el, id.el), desc.el, h('div', { class: 'form-actions' }, submit), formErr);

  const check = () => {
    const a = setFieldError(name.input, appNameProblem(name.input.value.trim()));
    const b = setFieldError(id.input, appIdProblem(id.input.value.trim()));
    return a && b;
  };
  for (const f of [name, id]) {
    f.input.addEventListener('input', () => {
      if (f.input.getAttribute('aria-invalid')) check();
    });
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!check()) {
      form.querySelector('[aria-invalid]').focus();
      return;
    }
    const body = { appName: name.input.value.trim(), appId: id.input.value.trim() };
    if (desc.input.value.trim()) body.description = desc.input.value.trim();
    const a = await submitting(submit, formErr, () => api.post('/apps', body));
    if (a) {
      toast(t('apps.created', { name: a.appName }));
      form.reset();
      go(`#/apps/${enc(a.appId)}`);
    }
  });

  const listErr = alertArea();
  const list = h('div', { class: 'list' });
  const pager = createPager(() => refresh());
  main.append(pageHeader(t('apps.title')), section(t('apps.create'), form), section(t('apps.list'), listErr, list, pager.el));

  async function remove(a) {
    if (!confirmAction(t('apps.confirmDelete', { name: a.appName }))) return;
    try {
      await api.del(`/apps/${enc(a.appId)}`);
      toast(t('common.deleted'));
      refresh();
    } catch (e) {
      showError(listErr, e);
    }
  }

  async function refresh() {
    try {
      const page = await api.get(`/apps?${pager.query()}`);
      showError(listErr, null);
      pager.update(page.total);
      renderIfChanged(list, page.items, (items) =>
        table(
          [
            { label: t('apps.name'), cell: (a) => h('a', { href: `#/apps/${enc(a.appId)}` }, a.appName) },
            { label: t('apps.id'), class: 'mono', cell: (a) => a.appId },
            { label: t('apps.description'), cell: (a) => a.description || '—' },
            { label: t('apps.versionCount'), class: 'num', cell: (a) => String(a.versionCount) },
            { label: t('apps.latest'), class: 'mono', cell: (a) => a.latestVersion || '—' },
            { label: t('common.createdAt'), cell: (a) => fmtTime(a.createdAt) },
            {
              label: t('common.actions'),
              class: 'actions',
              cell: (a) => [
                h('a', { class: 'btn btn-small', href: `#/apps/${enc(a.appId)}` }, t('apps.versions')),
                h('button', {
                  type: 'button',
                  class: 'btn btn-small btn-danger',
                  disabled: a.versionCount > 0,
                  title: a.versionCount > 0 ? t('apps.deleteHasVersions') : null,
                  dataset: { key: `del-${a.appId}` },
                  onclick: () => remove(a),
                }, t('common.delete')),
              ],
            },
          ],
          items,
          { empty: t('apps.none'), rowKey: (a) => a.appId },
        ),
      );
    } catch (e) {
      showError(listErr, e);
    }
  }

  refresh();
  return { refresh };
}
