// screens/groups.js — test device groups (测试设备分组): list and create.
import { h, fmtTime } from '../dom.js';
import { t } from '../i18n.js';
import { field, setFieldError } from '../forms.js';
import { mountListScreen } from '../paged_list.js';

export function mount(main) {
  const name = field({ label: t('groups.name'), name: 'name', maxlength: 64, autocomplete: 'off', required: true });

  return mountListScreen(main, {
    path: '/groups',
    id: (g) => g.groupId,
    name: (g) => g.name,
    texts: {
      title: 'groups.title',
      intro: 'groups.intro',
      create: 'groups.create',
      created: 'groups.created',
      list: 'groups.list',
      none: 'groups.none',
      manage: 'groups.manage',
      confirmDelete: 'groups.confirmDelete',
    },
    fields: [name.el],
    body() {
      const n = name.input.value.trim();
      if (!setFieldError(name.input, n ? '' : t('groups.nameRequired'))) return null;
      return { name: n };
    },
    columns: (href) => [
      { label: t('groups.name'), cell: (g) => h('a', { href: href(g) }, g.name) },
      { label: t('groups.id'), class: 'mono', cell: (g) => g.groupId },
      { label: t('groups.deviceCount'), class: 'num', cell: (g) => String(g.deviceCount) },
      { label: t('common.createdAt'), cell: (g) => fmtTime(g.createdAt) },
    ],
  });
}
