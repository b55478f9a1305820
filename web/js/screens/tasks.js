// screens/tasks.js — test tasks (测试任务): the list, and 新建测试任务 by
// choosing an app, one of its versions and a test device group.
import { api, enc, getAll } from '../api.js';
import { h, fmtTime, toast } from '../dom.js';
import { t } from '../i18n.js';
import { field, alertArea, submitting, selectOptions, setFieldError } from '../forms.js';
import { showError } from '../errors.js';
import { pageHeader, section } from '../layout.js';
import { go } from '../router.js';
import { pagedList } from '../paged_list.js';
import { countsText } from '../progress.js';

const SHOWN = ['succeeded', 'failed', 'timedOut', 'pushed', 'offline', 'upToDate', 'pending'];

// "成功 1 · 已推送 2 / 3" — the non-zero counts, then the total.
export const taskCountsText = (c) => countsText(c, SHOWN);

export function mount(main) {
  const appSel = field({ label: t('tasks.app'), name: 'appId', as: 'select' });
  const verSel = field({ label: t('versions.version'), name: 'version', as: 'select' });
  const grpSel = field({ label: t('tasks.group'), name: 'groupId', as: 'select', hint: t('tasks.groupHint') });
  const timeout = field({ label: t('tasks.timeoutOptional'), name: 'timeoutSeconds', type: 'number', min: 0, max: 604800, inputmode: 'numeric', hint: t('tasks.timeoutHint') });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('tasks.createAndOpen'));
  const formErr = alertArea();
  const form = h('form', { class: 'form', novalidate: true, 'aria-label': t('tasks.new') }, h('div', { class: 'form-row' }, appSel.el, verSel.el, grpSel.el), h('div', { class: 'form-row' }, timeout.el), h('div', { class: 'form-actions' }, submit), formErr);

  async function loadChoices() {
    try {
      const [apps, groups] = await Promise.all([getAll('/apps', 500), getAll('/groups', 500)]);
      selectOptions(appSel.input, apps, t('tasks.chooseApp'), (a) => a.appId, (a) => `${a.appName} (${a.appId})`);
      selectOptions(grpSel.input, groups, groups.length ? t('tasks.chooseGroup') : t('tasks.noGroups'), (g) => g.groupId, (g) => `${g.name} (${t('groups.nDevices', { n: g.deviceCount })})`);
      loadVersions();
    } catch (e) {
      showError(formErr, e);
    }
  }

  async function loadVersions() {
    const appId = appSel.input.value;
    if (!appId) {
      selectOptions(verSel.input, [], t('tasks.chooseAppFirst'), () => '', () => '');
      return;
    }
    try {
      const vs = (await getAll(`/apps/${enc(appId)}/versions`, 500)).filter((v) => v.status !== 'deprecated');
      selectOptions(verSel.input, vs, vs.length ? t('tasks.chooseVersion') : t('versions.none'), (v) => v.version, (v) => v.version);
    } catch (e) {
      showError(formErr, e);
    }
  }
  appSel.input.addEventListener('change', loadVersions);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { appId: appSel.input.value, version: verSel.input.value, groupId: grpSel.input.value };
    // The timeout: empty for the server's default (--task-timeout), 0 for none.
    const secs = timeout.input.value.trim();
    const n = Number(secs);
    if (!setFieldError(timeout.input, secs === '' || (Number.isInteger(n) && n >= 0 && n <= 604800) ? '' : t('rollouts.intRange', { min: 0, max: 604800 }))) return;
    if (secs !== '') body.timeoutSeconds = n;
    if (!body.appId || !body.version || !body.groupId) {
      showError(formErr, { message: t('tasks.chooseAll') });
      return;
    }
    const task = await submitting(submit, formErr, () => api.post('/tasks', body));
    if (task) {
      toast(t('tasks.created'));
      go(`#/tasks/${enc(task.taskId)}`);
    }
  });

  const list = pagedList({
    path: '/tasks',
    id: (k) => k.taskId,
    empty: 'tasks.none',
    columns: (href) => [
      { label: t('tasks.task'), class: 'mono', cell: (k) => h('a', { href: href(k) }, k.taskId) },
      { label: t('tasks.app'), cell: (k) => h('a', { href: `#/apps/${enc(k.appId)}` }, k.appName) },
      { label: t('versions.version'), class: 'mono', cell: (k) => k.version },
      { label: t('tasks.group'), cell: (k) => h('a', { href: `#/groups/${enc(k.groupId)}` }, k.groupName) },
      { label: t('tasks.counts'), cell: (k) => taskCountsText(k.counts) },
      { label: t('tasks.pushedAt'), cell: (k) => fmtTime(k.pushedAt) },
    ],
  });
  main.append(pageHeader(t('tasks.title')), section(t('tasks.new'), form), list.section(t('tasks.list')));

  loadChoices();
  list.refresh();
  return { refresh: list.refresh };
}
