// screens/apps.js — apps (应用): the list and 创建应用, with appName and appId
// checked in the browser by the tutorial's rules before the server sees them.
import { h, fmtTime } from '../dom.js';
import { t } from '../i18n.js';
import { field, setFieldError } from '../forms.js';
import { mountListScreen } from '../paged_list.js';

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

  return mountListScreen(main, {
    path: '/apps',
    id: (a) => a.appId,
    name: (a) => a.appName,
    texts: {
      title: 'apps.title',
      create: 'apps.create',
      created: 'apps.created',
      list: 'apps.list',
      none: 'apps.none',
      manage: 'apps.versions',
      confirmDelete: 'apps.confirmDelete',
    },
    fields: [name.el, id.el],
    extra: desc.el,
    body(form) {
      if (!check()) {
        form.querySelector('[aria-invalid]').focus();
        return null;
      }
      const body = { appName: name.input.value.trim(), appId: id.input.value.trim() };
      if (desc.input.value.trim()) body.description = desc.input.value.trim();
      return body;
    },
    columns: (href) => [
      { label: t('apps.name'), cell: (a) => h('a', { href: href(a) }, a.appName) },
      { label: t('apps.id'), class: 'mono', cell: (a) => a.appId },
      { label: t('apps.description'), cell: (a) => a.description || '—' },
      { label: t('apps.versionCount'), class: 'num', cell: (a) => String(a.versionCount) },
      { label: t('apps.latest'), class: 'mono', cell: (a) => a.latestVersion || '—' },
      { label: t('common.createdAt'), cell: (a) => fmtTime(a.createdAt) },
    ],
    // An app with versions cannot be deleted (the server refuses too).
    deleteAttrs: (a) => ({ disabled: a.versionCount > 0, title: a.versionCount > 0 ? t('apps.deleteHasVersions') : null }),
  });
}
