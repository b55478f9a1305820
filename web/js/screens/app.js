// screens/app.js — one app's versions (版本列表): 创建版本 as a two-step
// dialog (choose the .tar.gz; see what the browser read from it and what
// does not agree; 确认 uploads it with a progress bar), the list with
// size/MD5/status, 测试 (start a test task for a group), 废弃, then 删除;
// and the app's test tasks.
import { api, enc, getAll, uploadVersion } from '../api.js';
import { h, fmtTime, fmtSize, renderIfChanged, toast, confirmAction, copyButton } from '../dom.js';
import { t } from '../i18n.js';
import { field, alertArea, submitting, uploadProgress } from '../forms.js';
import { showError, loaded } from '../errors.js';
import { table } from '../table.js';
import { pageHeader, section, details } from '../layout.js';
import { taskCountsText } from './tasks.js';
import { previewPackage } from '../package_preview.js';
import { go } from '../router.js';

const mono = (text) => h('code', { class: 'mono wrap' }, text);

// Step 2 of 创建版本: the version the upload will create, read in the
// browser, and each disagreement in words.
function previewView(p, app) {
  const m = p.manifest || {};
  const fromName = p.fromName || {};
  const rows = [
    { field: 'appName', app: app.appName, name: fromName.appName, manifest: m.appName },
    { field: 'appid', app: app.appId, name: fromName.appId, manifest: m.appid },
    { field: 'version', app: null, name: fromName.version, manifest: m.version },
  ];
  const manifestNote = p.manifestError ? t(`preview.manifest.${p.manifestError}`) : '—';
  const cell = (value, bad) =>
    value == null ? '—' : h('span', { class: bad ? 'value-bad' : null }, mono(String(value)), bad ? h('span', { class: 'value-bad-mark', title: t('preview.differs') }, ' ✗') : null);
  const nameBad = (r) => r.app != null && r.name != null && r.name !== r.app;
  const manifestBad = (r) => r.manifest !== undefined && r.name != null && r.manifest !== r.name;
  const version = fromName.version || m.version;
  return h(
    'div',
    { class: 'preview-body' },
    h('h3', null, t('preview.title')),
    details([
      [t('versions.fileName'), mono(p.fileName)],
      [t('versions.size'), p.size < 1024 ? fmtSize(p.size) : `${fmtSize(p.size)} (${p.size} B)`],
      ['SHA-256', p.sha256 ? h('code', { class: 'mono wrap', dataset: { field: 'sha256' } }, p.sha256) : t('preview.noSha')],
    ]),
    table(
      [
        { label: t('preview.field'), class: 'mono', cell: (r) => r.field },
        { label: t('preview.thisApp'), cell: (r) => (r.field === 'version' ? t('preview.latest', { version: app.latestVersion || '—' }) : cell(r.app, false)) },
        { label: t('preview.fromName'), cell: (r) => cell(r.name, nameBad(r)) },
        { label: 'manifest.json', cell: (r) => (p.manifest ? cell(r.manifest, manifestBad(r)) : manifestNote) },
      ],
      rows,
      { caption: t('preview.caption'), rowKey: (r) => r.field },
    ),
    p.problems.length
      ? h(
          'div',
          { class: 'alert alert-warn preview-problems', role: 'alert' },
          h('p', null, h('strong', null, t('preview.problems', { n: p.problems.length }))),
          h('ul', null, p.problems.map((q) => h('li', { dataset: { problem: q.key.split('.').pop() } }, t(q.key, q.vars)))),
          h('p', { class: 'hint' }, t('preview.serverDecides')),
        )
      : h('p', { class: 'alert alert-ok preview-ok' }, t('preview.allGood', { version })),
  );
}

export function mount(main, [appId]) {
  const base = `/apps/${enc(appId)}`;
  const head = h('div');
  const info = h('div');
  const loadErr = alertArea();
  let app = null;

  // -- 创建版本: a two-step dialog. 1: choose the package; 2: what the
  // browser read from it (file name, manifest.json, size, SHA-256) and what
  // does not agree, then 确认 uploads it (haas-emu checks it again). --
  const createHint = h('p', { class: 'hint create-hint' });
  const createBtn = h('button', { type: 'button', class: 'btn btn-primary', disabled: true }, t('versions.create'));
  const upDone = h('div', { class: 'alert alert-ok', role: 'status', hidden: true });

  const file = field({ label: t('versions.file'), name: 'package', type: 'file', accept: '.tar.gz,.gz,application/gzip', hint: t('common.loading') });
  const fileHint = file.el.querySelector('.hint');
  const stepItems = [t('versions.step1'), t('versions.step2')].map((label, i) => h('li', { class: 'step', dataset: { step: i + 1 } }, label));
  const steps = h('ol', { class: 'steps', 'aria-label': t('versions.steps') }, stepItems);
  const preview = h('div', { class: 'preview', 'aria-live': 'polite' });
  const progress = uploadProgress(t('versions.progress'));
  const upErr = alertArea();
  const upOk = h('button', { type: 'submit', class: 'btn btn-primary', disabled: true }, t('versions.confirm'));
  const upCancel = h('button', { type: 'button', class: 'btn', onclick: () => upDialog.close() }, t('common.cancel'));
  const upTitle = h('h2', { id: 'upload-dialog-title' }, t('versions.create'));
  const upForm = h('form', { class: 'form', novalidate: true }, upTitle, steps, file.el, preview, progress.el, upErr, h('div', { class: 'form-actions' }, upOk, upCancel));
  const upDialog = h('dialog', { class: 'dialog dialog-wide', 'aria-labelledby': 'upload-dialog-title' }, upForm);
  let uploading = false;
  let inspecting = 0;
  let versionsNow = [];

  function setStep(n) {
    stepItems.forEach((li, i) => {
      if (i + 1 === n) li.setAttribute('aria-current', 'step');
      else li.removeAttribute('aria-current');
    });
  }

  function openUpload() {
    if (!app) return;
    upForm.reset();
    preview.replaceChildren();
    progress.hide();
    showError(upErr, null);
    upOk.disabled = true;
    setStep(1);
    upDialog.showModal();
    file.input.focus();
  }
  createBtn.addEventListener('click', openUpload);
  upDialog.addEventListener('cancel', (e) => {
    if (uploading) e.preventDefault(); // Esc does not hide an upload that runs
  });

  file.input.addEventListener('change', async () => {
    const f = file.input.files && file.input.files[0];
    const seq = ++inspecting;
    upOk.disabled = true;
    progress.hide();
    showError(upErr, null);
    if (!f) {
      preview.replaceChildren();
      setStep(1);
      return;
    }
    preview.replaceChildren(h('p', { class: 'muted' }, t('preview.reading')));
    let view;
    try {
      view = previewView(await previewPackage(f, app, versionsNow), app);
    } catch {
      view = h('p', { class: 'alert alert-warn' }, t('preview.failed'));
    }
    if (seq !== inspecting) return; // another file was chosen meanwhile
    preview.replaceChildren(view);
    setStep(2);
    upOk.disabled = false;
  });

  upForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = file.input.files && file.input.files[0];
    if (!f) {
      showError(upErr, { message: t('versions.chooseFile') });
      return;
    }
    progress.start();
    uploading = true;
    file.input.disabled = true;
    upCancel.disabled = true;
    const v = await submitting(upOk, upErr, () => uploadVersion(appId, f, progress.update));
    uploading = false;
    file.input.disabled = false;
    upCancel.disabled = false;
    if (v) {
      progress.finish();
      upDialog.close();
      upDone.textContent = t('versions.uploaded', { version: v.version, size: fmtSize(v.size), md5: v.md5 });
      upDone.hidden = false;
      toast(t('versions.created', { version: v.version }));
      refresh();
      createBtn.focus();
    } else {
      progress.hide();
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
  const actErr = alertArea(); // a refused 废弃 or 删除: refreshes clear listErr
  const list = h('div', { class: 'list' });
  const tasks = h('div', { class: 'list' });

  main.append(
    head,
    loadErr,
    info,
    section(t('versions.create'), createHint, h('div', { class: 'form-actions' }, createBtn), upDone),
    section(t('versions.list'), h('p', { class: 'hint' }, t('versions.deleteHint')), listErr, actErr, list),
    section(t('tasks.ofApp'), tasks),
    dialog,
    upDialog,
  );

  async function act(v, what) {
    const path = `${base}/versions/${enc(v.version)}`;
    const ask = what === 'deprecate' ? 'versions.confirmDeprecate' : 'versions.confirmDelete';
    if (!confirmAction(t(ask, { version: v.version }))) return;
    showError(actErr, null);
    try {
      if (what === 'deprecate') await api.post(`${path}/deprecate`);
      else await api.del(path);
      toast(t(what === 'deprecate' ? 'versions.deprecated' : 'versions.deleted', { version: v.version }));
      refresh();
    } catch (e) {
      showError(actErr, e);
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
    // The file name this app's packages must have (tar cvzf NAME *).
    const pattern = `${app.appName}-${app.appId}-<version>.tar.gz`;
    createHint.textContent = t('versions.createHint', { pattern });
    fileHint.textContent = t('versions.fileHint', { pattern });
    createBtn.disabled = false;
    renderIfChanged(head, app.appName, () => pageHeader(`${app.appName}`, [{ href: '#/apps', label: t('apps.title') }]));
    renderIfChanged(info, app, (a) =>
      section(t('apps.info'), details([[t('apps.name'), a.appName], [t('apps.id'), h('code', { class: 'mono' }, a.appId)], [t('apps.description'), a.description || '—'], [t('apps.latest'), a.latestVersion || '—'], [t('common.createdAt'), fmtTime(a.createdAt)]])),
    );
    try {
      const [versions, taskList] = await Promise.all([getAll(`${base}/versions`, 500), api.get(`/tasks?appId=${enc(appId)}&limit=100`)]);
      versionsNow = versions;
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
  return {
    refresh,
    unmount: () => {
      if (dialog.open) dialog.close();
      if (upDialog.open) upDialog.close();
    },
  };
}
