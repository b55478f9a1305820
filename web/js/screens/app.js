// screens/app.js — one app's versions (版本列表): upload a .tar.gz with a
// progress bar (创建版本), list with size/MD5/status, 测试 (start a test task
// for a group), 废弃, then 删除; and the app's test tasks.
import { api, enc, getAll, uploadVersion } from '../api.js';
import { h, fmtTime, fmtSize, renderIfChanged, toast, confirmAction, copyButton } from '../dom.js';
import { t } from '../i18n.js';
import { field, alertArea, submitting } from '../forms.js';
import { showError, loaded } from '../errors.js';
import { table } from '../table.js';
import { pageHeader, section, details } from '../layout.js';
import { taskCountsText } from './tasks.js';
import { go } from '../router.js';

export function mount(main, [appId]) {
  const base = `/apps/${enc(appId)}`;
  const head = h('div');
  const info = h('div');
  const loadErr = alertArea();
  let app = null;

  // -- upload --
  const file = field({ label: t('versions.file'), name: 'package', type: 'file', accept: '.tar.gz,.gz,application/gzip', hint: t('versions.fileHint', { name: appId }) });
  const upBtn = h('button', { type: 'submit', class: 'btn btn-primary' }, t('versions.upload'));
  const bar = h('progress', { max: 100, value: 0, 'aria-label': t('versions.progress') });
  const barText = h('span', { class: 'progress-text' });
  const progress = h('div', { class: 'upload-progress', hidden: true }, bar, barText);
  const upErr = alertArea();
  const upDone = h('div', { class: 'alert alert-ok', role: 'status', hidden: true });
  const upForm = h('form', { class: 'form', novalidate: true, 'aria-label': t('versions.create') }, file.el, h('div', { class: 'form-actions' }, upBtn), progress, upErr, upDone);
  upForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = file.input.files && file.input.files[0];
    upDone.hidden = true;
    if (!f) {
      showError(upErr, { message: t('versions.chooseFile') });
      return;
    }
    progress.hidden = false;
    bar.value = 0;
    barText.textContent = '0%';
    const v = await submitting(upBtn, upErr, () =>
      uploadVersion(appId, f, (sent, total) => {
        const pct = total ? Math.round((sent / total) * 100) : 100;
        bar.value = pct;
        barText.textContent = `${pct}% (${fmtSize(sent)} / ${fmtSize(total)})`;
      }),
    );
    if (v) {
      bar.value = 100;
      barText.textContent = '100%';
      upDone.textContent = t('versions.uploaded', { version: v.version, size: fmtSize(v.size), md5: v.md5 });
      upDone.hidden = false;
      upForm.reset();
      refresh();
    } else {
      progress.hidden = true;
    }
  });

  // -- start a test task: choose a test device group --
  const groupSel = field({ label: t('tasks.group'), name: 'groupId', as: 'select' });
  const dlgTitle = h('h2', { id: 'test-dialog-title' });
  const dlgErr = alertArea();
  const dlgOk = h('button', { type: 'submit', class: 'btn btn-primary' }, t('tasks.createAndOpen'));
  const dlgCancel = h('button', { type: 'button', class: 'btn', onclick: () => dialog.close() }, t('common.cancel'));
  const existing = h('div', { class: 'existing-tasks' });
  const dlgForm = h('form', { class: 'form', novalidate: true }, dlgTitle, h('p', { class: 'hint' }, t('tasks.groupHint')), groupSel.el, dlgErr, h('div', { class: 'form-actions' }, dlgOk, dlgCancel), existing);
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'test-dialog-title' }, dlgForm);
  let testing = null;
  dlgForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!groupSel.input.value) {
      showError(dlgErr, { message: t('tasks.chooseGroup') });
      return;
    }
    const task = await submitting(dlgOk, dlgErr, () => api.post('/tasks', { appId, version: testing.version, groupId: groupSel.input.value }));
    if (task) {
      dialog.close();
      toast(t('tasks.created'));
      go(`#/tasks/${enc(task.taskId)}`);
    }
  });

  async function openTest(v) {
    testing = v;
    dlgTitle.textContent = t('tasks.newFor', { app: app ? app.appName : appId, version: v.version });
    showError(dlgErr, null);
    groupSel.input.replaceChildren(h('option', { value: '' }, t('common.loading')));
    existing.replaceChildren();
    dialog.showModal();
    try {
      const [groups, old] = await Promise.all([getAll('/groups', 500), getAll(`/tasks?appId=${enc(appId)}`, 500)]);
      // 再次推送: the tasks this version already has, to open instead of a new one.
      const same = old.filter((k) => k.version === v.version);
      if (same.length) {
        existing.replaceChildren(
          h('p', { class: 'hint' }, t('tasks.existing')),
          h('ul', null, same.map((k) => h('li', null, h('a', { href: `#/tasks/${enc(k.taskId)}`, onclick: () => dialog.close() }, `${k.groupName} · ${k.taskId}`), ` (${t('tasks.pushCount')}: ${k.pushCount})`))),
        );
      }
      groupSel.input.replaceChildren(
        h('option', { value: '' }, groups.length ? t('tasks.chooseGroup') : t('tasks.noGroups')),
        ...groups.map((g) => h('option', { value: g.groupId }, `${g.name} (${t('groups.nDevices', { n: g.deviceCount })})`)),
      );
      if (groups.length === 1) groupSel.input.value = groups[0].groupId;
      groupSel.input.focus();
    } catch (err) {
      showError(dlgErr, err);
    }
  }

  const listErr = alertArea();
  const list = h('div', { class: 'list' });
  const tasks = h('div', { class: 'list' });

  main.append(
    head,
    loadErr,
    info,
    section(t('versions.create'), upForm),
    section(t('versions.list'), h('p', { class: 'hint' }, t('versions.deleteHint')), listErr, list),
    section(t('tasks.ofApp'), tasks),
    dialog,
  );

  async function act(v, what) {
    const path = `${base}/versions/${enc(v.version)}`;
    const ask = what === 'deprecate' ? 'versions.confirmDeprecate' : 'versions.confirmDelete';
    if (!confirmAction(t(ask, { version: v.version }))) return;
    try {
      if (what === 'deprecate') await api.post(`${path}/deprecate`);
      else await api.del(path);
      toast(t(what === 'deprecate' ? 'versions.deprecated' : 'versions.deleted', { version: v.version }));
      refresh();
    } catch (e) {
      showError(listErr, e);
    }
  }

  function versionActions(v) {
    const dep = v.status === 'deprecated';
    return [
      h('button', { type: 'button', class: 'btn btn-small btn-primary', disabled: dep, dataset: { key: `test-${v.version}`, action: 'test' }, onclick: () => openTest(v) }, t('versions.test')),
      h('button', { type: 'button', class: 'btn btn-small', disabled: dep, dataset: { key: `dep-${v.version}`, action: 'deprecate' }, onclick: () => act(v, 'deprecate') }, t('versions.deprecate')),
      h('button', {
        type: 'button',
        class: 'btn btn-small btn-danger',
        disabled: !dep,
        title: dep ? null : t('versions.deleteHint'),
        dataset: { key: `del-${v.version}`, action: 'delete' },
        onclick: () => act(v, 'delete'),
      }, t('common.delete')),
      h('a', { class: 'btn btn-small btn-ghost', href: v.url, download: v.fileName }, t('versions.download')),
    ];
  }

  async function refresh() {
    const answer = await loaded(loadErr, api.get(base));
    if (!answer) return;
    app = answer;
    renderIfChanged(head, app.appName, () => pageHeader(`${app.appName}`, [{ href: '#/apps', label: t('apps.title') }]));
    renderIfChanged(info, app, (a) =>
      section(t('apps.info'), details([[t('apps.name'), a.appName], [t('apps.id'), h('code', { class: 'mono' }, a.appId)], [t('apps.description'), a.description || '—'], [t('apps.latest'), a.latestVersion || '—'], [t('common.createdAt'), fmtTime(a.createdAt)]])),
    );
    try {
      const [versions, taskList] = await Promise.all([getAll(`${base}/versions`, 500), api.get(`/tasks?appId=${enc(appId)}&limit=100`)]);
      showError(listErr, null);
      // The signed URL changes on every answer: compare without it.
      const sig = versions.map(({ url, urlExpiresAt, ...rest }) => rest);
      renderIfChanged(list, sig, () =>
        table(
          [
            { label: t('versions.version'), class: 'mono', cell: (v) => v.version },
            { label: t('versions.fileName'), class: 'mono wrap', cell: (v) => v.fileName },
            { label: t('versions.size'), class: 'num', cell: (v) => h('span', { title: `${v.size} B` }, fmtSize(v.size)) },
            { label: 'MD5', class: 'mono wrap', cell: (v) => [h('span', { dataset: { field: 'md5' } }, v.md5), ' ', copyButton(v.md5, 'common.copy', 'MD5')] },
            { label: t('versions.status'), cell: (v) => h('span', { class: `badge vstatus-${v.status}` }, t(`vstatus.${v.status}`)) },
            { label: t('common.createdAt'), cell: (v) => fmtTime(v.createdAt) },
            { label: t('common.actions'), class: 'actions', cell: versionActions },
          ],
          versions,
          { empty: t('versions.none'), rowKey: (v) => v.version },
        ),
      );
      renderIfChanged(tasks, taskList.items, (items) =>
        table(
          [
            { label: t('tasks.task'), class: 'mono', cell: (k) => h('a', { href: `#/tasks/${enc(k.taskId)}` }, k.taskId) },
            { label: t('versions.version'), class: 'mono', cell: (k) => k.version },
            { label: t('tasks.group'), cell: (k) => k.groupName },
            { label: t('tasks.counts'), cell: (k) => taskCountsText(k.counts) },
            { label: t('tasks.pushedAt'), cell: (k) => fmtTime(k.pushedAt) },
          ],
          items,
          { empty: t('tasks.none') },
        ),
      );
    } catch (e) {
      showError(listErr, e);
    }
  }

  refresh();
  return { refresh, unmount: () => dialog.open && dialog.close() };
}
