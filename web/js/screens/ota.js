// screens/ota.js — 固件升级 (Firmware OTA) of one product, as the Aliyun IoT
// console has it: the product chosen at the top (kept in the address:
// #/ota?productKey=…); its OTA modules (default always there; add, delete);
// its firmware (添加固件 uploads a binary with version, module, name, sign
// method and the versions it upgrades from, with a progress bar; size, MD5,
// SHA256; delete), 批量升级 creating an upgrade job of a firmware for chosen
// devices, a test device group or every device of the product; and the
// product's upgrade jobs, each opening its live page (ota_job.js).
import { api, enc, getAll, uploadFirmware } from '../api.js';
import { h, fmtTime, fmtSize, toast, copyButton } from '../dom.js';
import { t } from '../i18n.js';
import { field, alertArea, submitting, setFieldError, uploadProgress, deviceCheckboxes, tickedDevices, radioGroup } from '../forms.js';
import { showError } from '../errors.js';
import { pageHeader } from '../layout.js';
import { go } from '../router.js';
import { pagedList, createForm } from '../paged_list.js';
import { countsText } from '../progress.js';

// Module names and versions: 1..64 of A-Z a-z 0-9 . _ - (as haas-emu checks).
export const OTA_WORD = /^[A-Za-z0-9._-]{1,64}$/;
const SIGN_METHODS = ['Md5', 'SHA256'];
const TARGETS = ['devices', 'group', 'product'];
// The states a job's line in a list names (its counts), in this order.
export const JOB_SHOWN = ['succeeded', 'failed', 'timedOut', 'canceled', 'downloading', 'pushed', 'queued'];

// "1.0.0, 1.0.0b" from ["1.0.0","1.0.0b"] ("" for none); and back.
export const versionsText = (list) => (list || []).join(', ');
export const versionsList = (text) => text.split(/[,，\s]+/).map((v) => v.trim()).filter(Boolean);

export function jobStatusBadge(status) {
  return h('span', { class: `badge jstatus-${status}`, dataset: { jobStatus: status } }, t(`ota.jobStatus.${status}`));
}

export function targetText(job) {
  return t(`ota.target.${job.targetType}`);
}

// -- OTA modules: the list (default's delete disabled) and 添加模块 --
function modulesSection(pk, onChange) {
  const path = `/products/${enc(pk)}/ota/modules`;
  const name = field({ label: t('ota.moduleName'), name: 'moduleName', maxlength: 64, autocomplete: 'off', spellcheck: 'false', hint: t('ota.moduleNameHint') });
  const alias = field({ label: t('ota.alias'), name: 'alias', maxlength: 64, autocomplete: 'off' });
  const desc = field({ label: t('ota.description'), name: 'description', maxlength: 512, autocomplete: 'off' });
  const list = pagedList({
    path,
    id: (m) => m.moduleName,
    empty: 'ota.noModules',
    columns: () => [
      { label: t('ota.moduleName'), class: 'mono', cell: (m) => m.moduleName },
      { label: t('ota.aliasCol'), cell: (m) => m.alias || '—' },
      { label: t('apps.description'), cell: (m) => m.description || '—' },
      { label: t('common.createdAt'), cell: (m) => fmtTime(m.createdAt) },
    ],
    del: {
      confirm: 'ota.confirmDeleteModule',
      name: (m) => m.moduleName,
      attrs: (m) => ({ disabled: m.moduleName === 'default', title: m.moduleName === 'default' ? t('ota.defaultModule') : null, 'aria-label': `${t('common.delete')} ${m.moduleName}` }),
    },
  });
  const form = createForm({
    label: 'ota.addModule',
    fields: [name.el, alias.el, desc.el],
    path,
    body() {
      const n = name.input.value.trim();
      const problem = !n ? t('ota.moduleNameRequired') : OTA_WORD.test(n) ? '' : t('ota.moduleNameInvalid');
      if (!setFieldError(name.input, problem)) {
        name.input.focus();
        return null;
      }
      return { moduleName: n, alias: alias.input.value.trim(), description: desc.input.value.trim() };
    },
    created: (m) => t('ota.moduleAdded', { name: m.moduleName }),
    then: () => {
      list.refresh();
      onChange();
    },
  });
  const el = list.section(t('ota.modules'), h('p', { class: 'hint' }, t('ota.modulesHint')), form);
  return { el, refresh: list.refresh };
}

// -- 添加固件: a dialog with the file and its fields; 确认上传 uploads it
// with a progress bar. --
function uploadDialog(pk, getModules, done) {
  const file = field({ label: t('ota.file'), name: 'firmware', type: 'file', hint: t('ota.fileHint') });
  const chosen = h('p', { class: 'hint file-chosen', 'aria-live': 'polite' });
  const name = field({ label: t('ota.firmwareName'), name: 'name', maxlength: 64, autocomplete: 'off' });
  const version = field({ label: t('ota.version'), name: 'version', maxlength: 64, autocomplete: 'off', spellcheck: 'false', hint: t('ota.versionHint') });
  const module = field({ label: t('ota.module'), name: 'module', as: 'select' });
  const sign = field({ label: t('ota.signMethod'), name: 'signMethod', as: 'select', children: SIGN_METHODS.map((m) => h('option', { value: m }, m)) });
  const src = field({ label: t('ota.srcVersions'), name: 'srcVersions', maxlength: 1024, autocomplete: 'off', spellcheck: 'false', hint: t('ota.srcVersionsHint') });
  const progress = uploadProgress(t('ota.uploadProgress'));
  const err = alertArea();
  const ok = h('button', { type: 'submit', class: 'btn btn-primary' }, t('ota.uploadConfirm'));
  const cancel = h('button', { type: 'button', class: 'btn', onclick: () => dialog.close() }, t('common.cancel'));
  const title = h('h2', { id: 'firmware-dialog-title' }, t('ota.addFirmware'));
  const form = h(
    'form',
    { class: 'form', novalidate: true },
    title,
    h('p', { class: 'hint' }, t('ota.firmwareHint')),
    file.el,
    chosen,
    h('div', { class: 'form-row' }, name.el, version.el),
    h('div', { class: 'form-row' }, module.el, sign.el),
    src.el,
    progress.el,
    err,
    h('div', { class: 'form-actions' }, ok, cancel),
  );
  const dialog = h('dialog', { class: 'dialog dialog-wide', 'aria-labelledby': 'firmware-dialog-title' }, form);
  let uploading = false;

  dialog.addEventListener('cancel', (e) => {
    if (uploading) e.preventDefault(); // Esc does not hide an upload that runs
  });
  file.input.addEventListener('change', () => {
    const f = file.input.files && file.input.files[0];
    chosen.textContent = f ? t('ota.fileChosen', { name: f.name, size: f.size < 1024 ? fmtSize(f.size) : `${fmtSize(f.size)} (${f.size} B)` }) : '';
    if (f) setFieldError(file.input, '');
    // The file's name without its extension, when no name was typed.
    if (f && !name.input.value.trim()) name.input.value = f.name.replace(/\.[^.]*$/, '').slice(0, 64);
  });

  function open() {
    form.reset();
    chosen.textContent = '';
    progress.hide();
    showError(err, null);
    for (const f of [file, name, version, src]) setFieldError(f.input, '');
    const mods = getModules();
    module.input.replaceChildren(...mods.map((m) => h('option', { value: m.moduleName }, m.alias ? `${m.moduleName} (${m.alias})` : m.moduleName)));
    dialog.showModal();
    file.input.focus();
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = file.input.files && file.input.files[0];
    const fields = { name: name.input.value.trim(), version: version.input.value.trim(), module: module.input.value, signMethod: sign.input.value, srcVersions: versionsList(src.input.value) };
    let good = setFieldError(file.input, f ? '' : t('ota.fileRequired'));
    good = setFieldError(name.input, fields.name ? '' : t('ota.firmwareNameRequired')) && good;
    good = setFieldError(version.input, !fields.version ? t('ota.versionRequired') : OTA_WORD.test(fields.version) ? '' : t('ota.versionInvalid')) && good;
    good = setFieldError(src.input, fields.srcVersions.every((v) => OTA_WORD.test(v)) ? '' : t('ota.srcVersionsInvalid')) && good;
    if (!good) {
      form.querySelector('[aria-invalid]').focus();
      return;
    }
    progress.start();
    uploading = true;
    cancel.disabled = true;
    const fw = await submitting(ok, err, () => uploadFirmware(pk, f, fields, progress.update));
    uploading = false;
    cancel.disabled = false;
    if (!fw) {
      progress.hide();
      return;
    }
    progress.finish();
    dialog.close();
    toast(t('ota.firmwareAdded', { name: fw.name }));
    done(fw);
  });

  return { dialog, open };
}

// -- 批量升级: an upgrade job of a firmware for chosen devices, a test
// device group or every device of the product (optionally only those on
// given versions), with an optional timeout. --
function jobDialog(pk) {
  const title = h('h2', { id: 'job-dialog-title' });
  const hint = h('p', { class: 'hint' });
  const target = radioGroup({ legend: t('ota.target'), name: 'targetType', choices: TARGETS.map((k) => [k, t(`ota.target.${k}`)]), idPrefix: 'target-' });
  const picks = h('fieldset', { class: 'choices target-devices' }, h('legend', null, t('ota.pickDevices')));
  const group = field({ label: t('ota.groupSelect'), name: 'groupId', as: 'select' });
  group.el.classList.add('target-group');
  const src = field({ label: t('ota.jobSrcVersions'), name: 'srcVersions', maxlength: 1024, autocomplete: 'off', spellcheck: 'false', hint: t('ota.jobSrcVersionsHint') });
  const timeout = field({ label: t('ota.timeout'), name: 'timeoutMinutes', type: 'number', min: 1, max: 1440, inputmode: 'numeric', hint: t('ota.timeoutHint') });
  const err = alertArea();
  const ok = h('button', { type: 'submit', class: 'btn btn-primary' }, t('tasks.createAndOpen'));
  const cancel = h('button', { type: 'button', class: 'btn', onclick: () => dialog.close() }, t('common.cancel'));
  const form = h('form', { class: 'form', novalidate: true }, title, hint, target.el, picks, group.el, src.el, timeout.el, err, h('div', { class: 'form-actions' }, ok, cancel));
  const dialog = h('dialog', { class: 'dialog dialog-wide', 'aria-labelledby': 'job-dialog-title' }, form);
  let firmware = null;

  const chosenTarget = () => target.value();
  function showTarget() {
    const k = chosenTarget();
    picks.hidden = k !== 'devices';
    group.el.hidden = k !== 'group';
    src.el.hidden = k === 'devices';
  }
  target.el.addEventListener('change', showTarget);

  async function open(fw) {
    firmware = fw;
    form.reset();
    title.textContent = t('ota.newJob', { name: fw.name, version: fw.version });
    hint.textContent = t('ota.newJobHint', { module: fw.moduleName });
    target.set('devices');
    src.input.value = versionsText(fw.srcVersions);
    setFieldError(timeout.input, '');
    setFieldError(src.input, '');
    showError(err, null);
    showTarget();
    const legend = picks.firstChild;
    picks.replaceChildren(legend, h('p', { class: 'muted' }, t('common.loading')));
    group.input.replaceChildren(h('option', { value: '' }, t('common.loading')));
    dialog.showModal();
    try {
      const [devices, groups] = await Promise.all([getAll(`/products/${enc(pk)}/devices`, 2000), getAll('/groups', 500)]);
      picks.replaceChildren(legend, ...deviceCheckboxes(devices, t('ota.noDevices'), 'ota-pick-'));
      group.input.replaceChildren(
        h('option', { value: '' }, groups.length ? t('tasks.chooseGroup') : t('tasks.noGroups')),
        ...groups.map((g) => h('option', { value: g.groupId }, `${g.name} (${t('groups.nDevices', { n: g.deviceCount })})`)),
      );
      if (groups.length === 1) group.input.value = groups[0].groupId;
    } catch (e) {
      showError(err, e);
    }
  }

  // The request body, or null (the problem shown) when something is missing.
  function body() {
    const k = chosenTarget();
    const b = { firmwareId: firmware.firmwareId, targetType: k };
    if (k === 'devices') {
      b.devices = tickedDevices(picks);
      if (!b.devices.length) {
        showError(err, { code: 'NothingPicked', message: '' });
        return null;
      }
    } else {
      const versions = versionsList(src.input.value);
      if (!setFieldError(src.input, versions.every((v) => OTA_WORD.test(v)) ? '' : t('ota.srcVersionsInvalid'))) {
        src.input.focus();
        return null;
      }
      // Always sent: without it haas-emu would take the firmware's own
      // from-versions, and an empty field means any version.
      b.srcVersions = versions;
    }
    if (k === 'group') {
      b.groupId = group.input.value;
      if (!b.groupId) {
        showError(err, { message: t('tasks.chooseGroup') });
        return null;
      }
    }
    const minutes = timeout.input.value.trim();
    if (minutes) {
      const n = Number(minutes);
      if (!setFieldError(timeout.input, Number.isInteger(n) && n >= 1 && n <= 1440 ? '' : t('ota.timeoutInvalid'))) {
        timeout.input.focus();
        return null;
      }
      b.timeoutMinutes = n;
    }
    return b;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    showError(err, null);
    setFieldError(timeout.input, '');
    setFieldError(src.input, '');
    const b = body();
    if (!b) return;
    const job = await submitting(ok, err, () => api.post('/ota/jobs', b));
    if (job) {
      dialog.close();
      toast(t('ota.jobCreated'));
      go(`#/ota/jobs/${enc(job.jobId)}`);
    }
  });

  return { dialog, open };
}

// The sections of one product: modules, firmware, jobs, and the dialogs.
function productView(pk) {
  let modules = [{ moduleName: 'default' }];
  const loadModules = async () => {
    try {
      modules = await getAll(`/products/${enc(pk)}/ota/modules`, 2000);
    } catch {
      /* the modules list shows the failure */
    }
  };
  const mods = modulesSection(pk, loadModules);
  // A job names its firmware by id: the names of the product's firmware.
  const fwNames = new Map();
  const loadNames = async () => {
    try {
      for (const f of await getAll(`/firmwares?productKey=${enc(pk)}`, 2000)) fwNames.set(f.firmwareId, f.name);
    } catch {
      /* the firmware list shows the failure */
    }
  };
  const jobs = pagedList({
    path: '/ota/jobs',
    filter: () => `productKey=${enc(pk)}`,
    id: (j) => j.jobId,
    empty: 'ota.noJobs',
    columns: (href) => [
      { label: t('ota.job'), class: 'mono', cell: (j) => h('a', { href: href(j) }, j.jobId) },
      { label: t('ota.firmwareName'), cell: (j) => fwNames.get(j.firmwareId) || j.firmwareId },
      { label: t('ota.version'), class: 'mono', cell: (j) => j.version },
      { label: t('ota.module'), class: 'mono', cell: (j) => j.moduleName },
      { label: t('ota.target'), cell: targetText },
      { label: t('ota.jobStatus'), cell: (j) => jobStatusBadge(j.status) },
      { label: t('tasks.counts'), cell: (j) => countsText(j.counts, JOB_SHOWN) },
      { label: t('common.createdAt'), cell: (j) => fmtTime(j.createdAt) },
    ],
  });
  const job = jobDialog(pk);
  const firmwares = pagedList({
    path: '/firmwares',
    filter: () => `productKey=${enc(pk)}`,
    id: (f) => f.firmwareId,
    empty: 'ota.noFirmwares',
    columns: () => [
      { label: t('ota.firmwareName'), cell: (f) => f.name },
      { label: t('ota.version'), class: 'mono', cell: (f) => f.version },
      { label: t('ota.module'), class: 'mono', cell: (f) => f.moduleName },
      { label: t('versions.size'), class: 'num', cell: (f) => h('span', { title: `${f.size} B` }, fmtSize(f.size)) },
      { label: t('ota.signMethod'), cell: (f) => f.signMethod },
      { label: 'MD5', class: 'mono wrap', cell: (f) => [h('span', { dataset: { field: 'md5' } }, f.md5), ' ', copyButton(f.md5, 'common.copy', 'MD5')] },
      { label: 'SHA256', class: 'mono wrap', cell: (f) => h('span', { dataset: { field: 'sha256' } }, f.sha256) },
      { label: t('ota.srcVersionsCol'), class: 'mono', cell: (f) => versionsText(f.srcVersions) || t('ota.anyVersion') },
      { label: t('common.createdAt'), cell: (f) => fmtTime(f.createdAt) },
    ],
    del: {
      confirm: 'ota.confirmDeleteFirmware',
      name: (f) => `${f.name} ${f.version}`,
      attrs: (f) => ({ 'aria-label': `${t('common.delete')} ${f.name} ${f.version}` }),
      extra: (f) => h('button', { type: 'button', class: 'btn btn-small btn-primary', dataset: { key: `job-${f.firmwareId}`, action: 'upgrade' }, onclick: () => job.open(f) }, t('ota.upgrade')),
    },
  });
  const upDone = h('div', { class: 'alert alert-ok', role: 'status', hidden: true });
  const addBtn = h('button', { type: 'button', class: 'btn btn-primary' }, t('ota.addFirmware'));
  const upload = uploadDialog(pk, () => modules, (fw) => {
    upDone.textContent = t('ota.uploaded', { name: fw.name, version: fw.version, size: fmtSize(fw.size), md5: fw.md5 });
    upDone.hidden = false;
    firmwares.refresh();
    addBtn.focus();
  });
  addBtn.addEventListener('click', async () => {
    await loadModules();
    upload.open();
  });

  const el = h(
    'div',
    null,
    mods.el,
    firmwares.section(t('ota.firmwares'), h('div', { class: 'form-actions' }, addBtn), upDone),
    jobs.section(t('ota.jobs')),
    upload.dialog,
    job.dialog,
  );

  async function refresh() {
    // The names first: a job is drawn once, when its list changes.
    await Promise.all([mods.refresh(), firmwares.refresh(), loadNames().then(jobs.refresh)]);
  }
  const close = () => {
    for (const d of [upload.dialog, job.dialog]) if (d.open) d.close();
  };
  return { el, refresh, close, loadModules };
}

export function mount(main, _params, query) {
  const product = field({ label: t('ota.product'), name: 'productKey', as: 'select' });
  product.el.classList.add('field-wide');
  const loadErr = alertArea();
  const body = h('div');
  let view = null;

  function show(pk) {
    if (view) view.close();
    view = pk ? productView(pk) : null;
    body.replaceChildren(view ? view.el : '');
    if (view) {
      view.refresh();
      view.loadModules();
    }
  }

  product.input.addEventListener('change', () => {
    const pk = product.input.value;
    // The product goes into the address without a new navigation.
    history.replaceState(null, '', `#/ota${pk ? `?productKey=${enc(pk)}` : ''}`);
    show(pk);
  });

  main.append(
    pageHeader(t('ota.title')),
    h('p', { class: 'intro' }, t('ota.intro')),
    h('div', { class: 'toolbar' }, product.el),
    loadErr,
    body,
  );

  async function loadProducts() {
    try {
      const prods = await getAll('/products', 5000);
      showError(loadErr, null);
      let pk = query.get('productKey') || '';
      // The first product when none was asked for, as the Aliyun console does.
      if (!pk && prods.length) {
        pk = prods[0].productKey;
        history.replaceState(null, '', `#/ota?productKey=${enc(pk)}`);
      }
      const known = prods.some((p) => p.productKey === pk);
      product.input.replaceChildren(
        h('option', { value: '' }, prods.length ? t('ota.chooseProduct') : t('ota.noProducts')),
        ...prods.map((p) => h('option', { value: p.productKey }, `${p.name} (${p.productKey})`)),
        pk && !known ? h('option', { value: pk }, pk) : null,
      );
      product.input.value = pk;
      show(pk);
    } catch (e) {
      showError(loadErr, e);
    }
  }

  loadProducts();
  return {
    refresh: () => (view ? view.refresh() : null),
    unmount: () => {
      if (view) view.close();
    },
  };
}
