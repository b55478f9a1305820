// screens/groups.js — test device groups (测试设备分组): list and create.
import { api, enc } from '../api.js';
import { h, fmtTime, renderIfChanged, toast, confirmAction } from '../dom.js';
import { t } from '../i18n.js';
import { field, alertArea, submitting, setFieldError } from '../forms.js';
import { showError } from '../errors.js';
import { table, createPager } from '../table.js';
import { pageHeader, section } from '../layout.js';
import { go } from '../router.js';

export function mount(main) {
  const name = field({ label: t('groups.name'), name: 'name', maxlength: 64, autocomplete: 'off', required: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('groups.create'));
  const formErr = alertArea();
  const form = h('form', { class: 'form', novalidate: true, 'aria-label': t('groups.create') }, h('div', { class: 'form-row' }, name.el), h('div', { class: 'form-actions' }, submit), formErr);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const n = name.input.value.trim();
    if (!setFieldError(name.input, n ? '' : t('groups.nameRequired'))) return;
    const g = await submitting(submit, formErr, () => api.post('/groups', { name: n }));
    if (g) {
      toast(t('groups.created', { name: g.name }));
      form.reset();
      go(`#/groups/${enc(g.groupId)}`);
    }
  });

  const listErr = alertArea();
  const list = h('div', { class: 'list' });
  const pager = createPager(() => refresh());
  main.append(pageHeader(t('groups.title')), h('p', { class: 'intro' }, t('groups.intro')), section(t('groups.create'), form), section(t('groups.list'), listErr, list, pager.el));

  async function remove(g) {
    if (!confirmAction(t('groups.confirmDelete', { name: g.name }))) return;
    try {
      await api.del(`/groups/${enc(g.groupId)}`);
      toast(t('common.deleted'));
      refresh();
    } catch (e) {
      showError(listErr, e);
    }
  }

  async function refresh() {
    try {
      const page = await api.get(`/groups?${pager.query()}`);
      showError(listErr, null);
      pager.update(page.total);
      renderIfChanged(list, page.items, (items) =>
        table(
          [
            { label: t('groups.name'), cell: (g) => h('a', { href: `#/groups/${enc(g.groupId)}` }, g.name) },
            { label: t('groups.id'), class: 'mono', cell: (g) => g.groupId },
            { label: t('groups.deviceCount'), class: 'num', cell: (g) => String(g.deviceCount) },
            { label: t('common.createdAt'), cell: (g) => fmtTime(g.createdAt) },
            {
              label: t('common.actions'),
              class: 'actions',
              cell: (g) => [
                h('a', { class: 'btn btn-small', href: `#/groups/${enc(g.groupId)}` }, t('groups.manage')),
                h('button', { type: 'button', class: 'btn btn-small btn-danger', dataset: { key: `del-${g.groupId}` }, onclick: () => remove(g) }, t('common.delete')),
              ],
            },
          ],
          items,
          { empty: t('groups.none'), rowKey: (g) => g.groupId },
        ),
      );
    } catch (e) {
      showError(listErr, e);
    }
  }

  refresh();
  return { refresh };
}
