// screens/rollouts.js — 分批发布 (staged rollouts, 灰度升级): the list of
// rollouts, all or one product's (kept in the address:
// #/rollouts?productKey=…), with their status and pause reason, batch and
// counts; and 新建分批发布, a dialog that sends a firmware, or an app
// version, to a product's devices, a test device group's or chosen ones, in
// batches (10%, 30%, 100%…), with success and error thresholds, a
// scheduled start, a push rate, a per-device timeout and retries. Each
// rollout opens its live page (rollout.js).
import { api, enc, getAll } from '../api.js';
import { h, fmtTime, toast } from '../dom.js';
import { t } from '../i18n.js';
import { field, alertArea, submitting, setFieldError, deviceCheckboxes, tickedDevices, selectOptions, radioGroup } from '../forms.js';
import { showError } from '../errors.js';
import { pageHeader } from '../layout.js';
import { go } from '../router.js';
import { pagedList } from '../paged_list.js';
import { countsText } from '../progress.js';
import { poller } from '../live.js';
import { OTA_WORD, versionsList } from './ota.js';

// The states a rollout's line in the list names (its counts), in this order.
export const ROLLOUT_SHOWN = ['succeeded', 'failed', 'timedOut', 'canceled', 'installing', 'downloading', 'pushed', 'queued', 'waiting'];
const KINDS = ['firmware', 'app'];
const TARGETS = ['product', 'group', 'devices'];
const DEFAULT_BATCHES = ['10%', '30%', '100%'];
const BATCHES_MAX = 20;
// A batch: a count of devices (1..1000000) or a percent (1..100) of them.
const BATCH = /^([1-9]\d{0,6})(%?)$/;

// haas-emu's engine moves a rollout on by the clock (a batch starts, the
// rollout pauses) without any message: a rollout not ended is asked again
// this often (its page; the list half as often), besides the live refresh.
export const ROLLOUT_POLL_MS = 2000;

export const rolloutName = (r) => r.name || r.rolloutId;

export function rolloutStatusBadge(status) {
  return h('span', { class: `badge rstatus-${status}`, dataset: { rolloutStatus: status } }, t(`rollouts.status.${status}`));
}

// Why a rollout paused, in the user's language: haas-emu's English reasons
// ("batch 2: 1 of 1 devices failed or timed out (more than the error
// threshold of 0%)", "paused by hand") in words; any other as it is.
const PAUSED_ERRORS = /^batch (\d+): (\d+) of (\d+) devices failed or timed out \(more than the error threshold of (\d+)%\)$/;
export function pauseReasonText(reason) {
  if (!reason) return '';
  if (reason === 'paused by hand') return t('rollouts.pausedByHand');
  const m = PAUSED_ERRORS.exec(reason);
  return m ? t('rollouts.pausedErrors', { batch: m[1], failed: m[2], size: m[3], threshold: m[4] }) : reason;
}

// What a rollout sends: "default 1.1.0" (a firmware's module and version)
// or "8800100099990000 0.0.2" (an app and its version).
export function payloadText(r) {
  return r.kind === 'firmware' ? `${r.moduleName || 'default'} ${r.version}` : `${r.appId} ${r.version}`;
}

// The whole number in input within min..max; NaN (the problem shown at the
// input) when it is not. Empty: dflt.
function intIn(input, min, max, dflt) {
  const text = input.value.trim();
  const n = text === '' ? dflt : Number(text);
  const ok = Number.isInteger(n) && n >= min && n <= max;
  setFieldError(input, ok ? '' : t('rollouts.intRange', { min, max }));
  return ok ? n : NaN;
}

// datetime-local ("2026-12-02T18:00", the browser's time zone) → ISO 8601
// UTC without milliseconds, as haas-emu reads startAt; '' for none, null
// when it is not a time.
function utcOf(local) {
  if (!local) return '';
  const d = new Date(local);
  return isNaN(d) ? null : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// -- the batches: an editable list of sizes, one input per batch --
function batchesEditor() {
  const list = h('ol', { class: 'batch-edit-list' });
  const add = h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'add-batch' } }, t('rollouts.addBatch'));
  const el = h('fieldset', { class: 'choices batches-edit' }, h('legend', null, t('rollouts.batches')), h('p', { class: 'hint' }, t('rollouts.batchesHint')), list, h('div', { class: 'form-actions' }, add));
  const rows = () => [...list.children];
  const inputOf = (li) => li.querySelector('input');

  function renumber() {
    const all = rows();
    all.forEach((li, i) => {
      li.querySelector('label').textContent = t('rollouts.batchN', { n: i + 1 });
      const remove = li.querySelector('button');
      remove.setAttribute('aria-label', t('rollouts.removeBatch', { n: i + 1 }));
      remove.disabled = all.length === 1;
    });
    add.disabled = all.length >= BATCHES_MAX;
  }

  function row(value) {
    const f = field({ label: '', name: 'batch', maxlength: 8, autocomplete: 'off', spellcheck: 'false', value });
    const remove = h('button', { type: 'button', class: 'btn btn-small btn-ghost', dataset: { action: 'remove-batch' } }, t('common.delete'));
    const li = h('li', { class: 'batch-edit' }, f.el, remove);
    f.input.addEventListener('input', () => setFieldError(f.input, ''));
    remove.addEventListener('click', () => {
      const at = rows().indexOf(li);
      li.remove();
      renumber();
      const next = rows()[Math.max(0, at - 1)];
      (next ? inputOf(next) : add).focus();
    });
    return li;
  }

  add.addEventListener('click', () => {
    const li = row('');
    list.append(li);
    renumber();
    inputOf(li).focus();
  });

  return {
    el,
    set(values) {
      list.replaceChildren(...values.map(row));
      renumber();
    },
    // The sizes, or null when one is wrong (shown at its input).
    values() {
      let good = true;
      const out = rows().map((li) => {
        const input = inputOf(li);
        const v = input.value.trim().replace(/\s+/g, '').replace('％', '%');
        const m = BATCH.exec(v);
        const ok = !!m && (!m[2] || Number(m[1]) <= 100);
        good = setFieldError(input, ok ? '' : t('rollouts.batchInvalid')) && good;
        return v;
      });
      return good ? out : null;
    },
  };
}

// -- 新建分批发布 --
function rolloutDialog() {
  const title = h('h2', { id: 'rollout-dialog-title' }, t('rollouts.new'));
  const name = field({ label: t('rollouts.nameOptional'), name: 'name', maxlength: 64, autocomplete: 'off' });
  const kind = radioGroup({ legend: t('rollouts.kind'), name: 'kind', choices: KINDS.map((k) => [k, t(`rollouts.kind.${k}`)]), idPrefix: 'rollout-kind-' });
  const product = field({ label: t('rollouts.product'), name: 'productKey', as: 'select' });
  const firmware = field({ label: t('rollouts.firmware'), name: 'firmwareId', as: 'select' });
  const app = field({ label: t('rollouts.app'), name: 'appId', as: 'select' });
  const version = field({ label: t('rollouts.appVersion'), name: 'version', as: 'select' });
  const target = radioGroup({ legend: t('rollouts.target'), name: 'targetType', choices: TARGETS.map((k) => [k, t(`rollouts.target.${k}`)]), idPrefix: 'rollout-target-' });
  const group = field({ label: t('ota.groupSelect'), name: 'groupId', as: 'select' });
  const picks = h('fieldset', { class: 'choices' }, h('legend', null, t('ota.pickDevices')));
  const src = field({ label: t('rollouts.srcVersions'), name: 'srcVersions', maxlength: 1024, autocomplete: 'off', spellcheck: 'false', hint: t('rollouts.srcVersionsHint') });
  const dynamicBox = h('input', { type: 'checkbox', id: 'rollout-dynamic', name: 'dynamic', 'aria-describedby': 'rollout-dynamic-hint' });
  const dynamic = h('div', { class: 'field' }, h('div', { class: 'choice' }, dynamicBox, h('label', { for: 'rollout-dynamic' }, t('rollouts.dynamic'))), h('p', { class: 'hint', id: 'rollout-dynamic-hint' }, t('rollouts.dynamicHint')));
  const batches = batchesEditor();
  const success = field({ label: t('rollouts.successPercent'), name: 'successPercent', type: 'number', min: 1, max: 100, inputmode: 'numeric', hint: t('rollouts.successHint') });
  const errors = field({ label: t('rollouts.errorPercent'), name: 'errorPercent', type: 'number', min: 0, max: 100, inputmode: 'numeric', hint: t('rollouts.errorHint') });
  const start = field({ label: t('rollouts.startAt'), name: 'startAt', type: 'datetime-local', hint: t('rollouts.startAtHint') });
  const startUtc = h('p', { class: 'hint start-utc', id: 'rollout-start-utc', 'aria-live': 'polite' });
  start.el.append(startUtc);
  start.input.setAttribute('aria-describedby', `${start.input.getAttribute('aria-describedby')} rollout-start-utc`);
  const rate = field({ label: t('rollouts.rate'), name: 'ratePerMinute', type: 'number', min: 0, max: 100000, inputmode: 'numeric', hint: t('rollouts.rateHint') });
  const timeout = field({ label: t('rollouts.timeout'), name: 'timeoutSeconds', type: 'number', min: 0, max: 604800, inputmode: 'numeric', hint: t('rollouts.timeoutHint') });
  const retries = field({ label: t('rollouts.retries'), name: 'maxRetries', type: 'number', min: 0, max: 10, inputmode: 'numeric', hint: t('rollouts.retriesHint') });
  const retryAfter = field({ label: t('rollouts.retrySeconds'), name: 'retrySeconds', type: 'number', min: 1, max: 86400, inputmode: 'numeric', hint: t('rollouts.retrySecondsHint') });
  const err = alertArea();
  const ok = h('button', { type: 'submit', class: 'btn btn-primary' }, t('rollouts.create'));
  const cancel = h('button', { type: 'button', class: 'btn', onclick: () => dialog.close() }, t('common.cancel'));
  const form = h(
    'form',
    { class: 'form', novalidate: true },
    title,
    h('p', { class: 'hint' }, t('rollouts.newHint')),
    name.el,
    kind.el,
    h('div', { class: 'form-row' }, product.el, firmware.el, app.el, version.el),
    target.el,
    group.el,
    picks,
    src.el,
    dynamic,
    batches.el,
    h('div', { class: 'form-row' }, success.el, errors.el),
    h('div', { class: 'form-row' }, start.el, rate.el),
    h('div', { class: 'form-row' }, timeout.el, retries.el, retryAfter.el),
    err,
    h('div', { class: 'form-actions' }, ok, cancel),
  );
  const dialog = h('dialog', { class: 'dialog dialog-wide', 'aria-labelledby': 'rollout-dialog-title' }, form);
  const numbers = [success, errors, rate, timeout, retries, retryAfter];
  let firmwares = [];

  function showStartUtc() {
    const iso = utcOf(start.input.value);
    startUtc.textContent = iso ? t('rollouts.startUtc', { iso }) : '';
  }
  start.input.addEventListener('input', showStartUtc);
  start.input.addEventListener('change', showStartUtc);

  function showKind() {
    const k = kind.value();
    firmware.el.hidden = k !== 'firmware';
    app.el.hidden = k !== 'app';
    version.el.hidden = k !== 'app';
    fillSrc();
  }
  function showTarget() {
    const k = target.value();
    group.el.hidden = k !== 'group';
    picks.hidden = k !== 'devices';
    // A device list is fixed: nothing joins it later.
    dynamicBox.disabled = k === 'devices';
    if (k === 'devices') dynamicBox.checked = false;
  }
  // A firmware's from-versions fill the field (emptied: any version).
  function fillSrc() {
    const fw = kind.value() === 'firmware' && firmwares.find((f) => f.firmwareId === firmware.input.value);
    src.input.value = fw ? (fw.srcVersions || []).join(', ') : '';
  }
  kind.el.addEventListener('change', showKind);
  target.el.addEventListener('change', showTarget);
  firmware.input.addEventListener('change', fillSrc);

  // The product's firmware and devices.
  async function loadProduct() {
    const pk = product.input.value;
    const legend = picks.firstChild;
    if (!pk) {
      firmwares = [];
      selectOptions(firmware.input, [], t('rollouts.chooseProductFirst'), () => '', () => '');
      picks.replaceChildren(legend, h('p', { class: 'muted' }, t('rollouts.chooseProductFirst')));
      fillSrc();
      return;
    }
    picks.replaceChildren(legend, h('p', { class: 'muted' }, t('common.loading')));
    try {
      const [fws, devices] = await Promise.all([getAll(`/firmwares?productKey=${enc(pk)}`, 2000), getAll(`/products/${enc(pk)}/devices`, 2000)]);
      if (product.input.value !== pk) return; // another product was chosen meanwhile
      firmwares = fws;
      selectOptions(firmware.input, fws, fws.length ? t('rollouts.chooseFirmware') : t('ota.noFirmwares'), (f) => f.firmwareId, (f) => `${f.name} ${f.version} (${f.moduleName})`);
      if (fws.length === 1) firmware.input.value = fws[0].firmwareId;
      fillSrc();
      picks.replaceChildren(legend, ...deviceCheckboxes(devices, t('ota.noDevices'), 'rollout-pick-'));
    } catch (e) {
      showError(err, e);
    }
  }
  product.input.addEventListener('change', loadProduct);

  async function loadVersions() {
    const appId = app.input.value;
    if (!appId) {
      selectOptions(version.input, [], t('tasks.chooseAppFirst'), () => '', () => '');
      return;
    }
    try {
      const vs = (await getAll(`/apps/${enc(appId)}/versions`, 500)).filter((v) => v.status !== 'deprecated');
      if (app.input.value !== appId) return;
      selectOptions(version.input, vs, vs.length ? t('tasks.chooseVersion') : t('versions.none'), (v) => v.version, (v) => v.version);
      if (vs.length === 1) version.input.value = vs[0].version;
    } catch (e) {
      showError(err, e);
    }
  }
  app.input.addEventListener('change', loadVersions);

  // Opens the dialog, the product pk chosen (the first when none).
  async function open(pk) {
    form.reset();
    showError(err, null);
    for (const f of [name, product, firmware, app, version, group, src, start, ...numbers]) setFieldError(f.input, '');
    kind.set('firmware');
    target.set('product');
    batches.set(DEFAULT_BATCHES);
    success.input.value = '100';
    errors.input.value = '0';
    rate.input.value = '0';
    timeout.input.value = '0';
    retries.input.value = '0';
    retryAfter.input.value = '60';
    firmwares = [];
    for (const s of [product, firmware, app, version, group]) s.input.replaceChildren(h('option', { value: '' }, t('common.loading')));
    showKind();
    showTarget();
    showStartUtc();
    dialog.showModal();
    name.input.focus();
    try {
      const [prods, apps, groups] = await Promise.all([getAll('/products', 5000), getAll('/apps', 500), getAll('/groups', 500)]);
      selectOptions(product.input, prods, prods.length ? t('ota.chooseProduct') : t('ota.noProducts'), (p) => p.productKey, (p) => `${p.name} (${p.productKey})`);
      product.input.value = prods.some((p) => p.productKey === pk) ? pk : prods.length ? prods[0].productKey : '';
      selectOptions(app.input, apps, apps.length ? t('tasks.chooseApp') : t('apps.none'), (a) => a.appId, (a) => `${a.appName} (${a.appId})`);
      if (apps.length === 1) app.input.value = apps[0].appId;
      selectOptions(group.input, groups, groups.length ? t('tasks.chooseGroup') : t('tasks.noGroups'), (g) => g.groupId, (g) => `${g.name} (${t('groups.nDevices', { n: g.deviceCount })})`);
      if (groups.length === 1) group.input.value = groups[0].groupId;
      await Promise.all([loadProduct(), loadVersions()]);
    } catch (e) {
      showError(err, e);
    }
  }

  // A select that must have a choice: its value, or '' with the problem shown.
  const chosen = (f, message) => (setFieldError(f.input, f.input.value ? '' : message) ? f.input.value : '');

  // The request body, or null (the problems shown) when something is wrong.
  function body() {
    const k = kind.value();
    const tt = target.value();
    const b = { kind: k, targetType: tt };
    let good = true;
    const need = (v) => {
      good = good && !!v;
      return v;
    };
    if (name.input.value.trim()) b.name = name.input.value.trim();
    if (k === 'firmware') b.firmwareId = need(chosen(firmware, t('rollouts.chooseFirmware')));
    else {
      b.productKey = need(chosen(product, t('ota.chooseProduct')));
      b.appId = need(chosen(app, t('tasks.chooseApp')));
      b.version = need(chosen(version, t('tasks.chooseVersion')));
    }
    if (tt === 'group') b.groupId = need(chosen(group, t('tasks.chooseGroup')));
    if (tt === 'devices') {
      b.devices = tickedDevices(picks);
      if (!b.devices.length) {
        good = false;
        showError(err, { code: 'NothingPicked', message: '' });
      }
    }
    const versions = versionsList(src.input.value);
    good = setFieldError(src.input, versions.every((v) => OTA_WORD.test(v)) ? '' : t('ota.srcVersionsInvalid')) && good;
    // Always sent: without it a firmware's own from-versions would apply;
    // empty means any version.
    b.srcVersions = versions;
    b.dynamic = dynamicBox.checked && tt !== 'devices';
    b.batches = batches.values();
    good = good && !!b.batches;
    const startAt = utcOf(start.input.value);
    good = setFieldError(start.input, startAt === null ? t('rollouts.startAtInvalid') : '') && good;
    if (startAt) b.startAt = startAt;
    b.successPercent = intIn(success.input, 1, 100, 100);
    b.errorPercent = intIn(errors.input, 0, 100, 0);
    b.ratePerMinute = intIn(rate.input, 0, 100000, 0);
    b.timeoutSeconds = intIn(timeout.input, 0, 604800, 0);
    b.maxRetries = intIn(retries.input, 0, 10, 0);
    b.retrySeconds = intIn(retryAfter.input, 1, 86400, 60);
    good = good && numbers.every((f) => !f.input.hasAttribute('aria-invalid'));
    if (!good) {
      const bad = form.querySelector('[aria-invalid="true"]');
      if (bad) bad.focus();
      return null;
    }
    return b;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    showError(err, null);
    const b = body();
    if (!b) return;
    const r = await submitting(ok, err, () => api.post('/rollouts', b));
    if (r) {
      dialog.close();
      toast(t('rollouts.created', { name: rolloutName(r) }));
      go(`#/rollouts/${enc(r.rolloutId)}`);
    }
  });

  return { dialog, open };
}

export function mount(main, _params, query) {
  const product = field({ label: t('rollouts.product'), name: 'productKey', as: 'select' });
  product.el.classList.add('field-wide');
  let pk = query.get('productKey') || '';
  const names = new Map(); // productKey → product name
  const dialog = rolloutDialog();
  const newBtn = h('button', { type: 'button', class: 'btn btn-primary' }, t('rollouts.new'));
  newBtn.addEventListener('click', () => dialog.open(pk));

  const list = pagedList({
    path: '/rollouts',
    filter: () => (pk ? `productKey=${enc(pk)}` : ''),
    id: (r) => r.rolloutId,
    empty: 'rollouts.none',
    columns: (href) => [
      { label: t('rollouts.name'), cell: (r) => h('a', { href: href(r) }, rolloutName(r)) },
      { label: t('rollouts.kind'), cell: (r) => t(`rollouts.kind.${r.kind}`) },
      { label: t('rollouts.payload'), class: 'mono', cell: payloadText },
      { label: t('rollouts.product'), cell: (r) => names.get(r.productKey) || r.productKey },
      {
        label: t('rollouts.statusCol'),
        cell: (r) => [
          rolloutStatusBadge(r.status),
          r.status === 'paused' && r.pauseReason ? h('span', { class: 'pause-reason-line' }, pauseReasonText(r.pauseReason)) : null,
        ],
      },
      { label: t('rollouts.batch'), class: 'num', cell: (r) => h('span', { dataset: { field: 'batch' } }, t('rollouts.batchOf', { n: r.currentBatch, count: r.batches.length })) },
      { label: t('tasks.counts'), cell: (r) => countsText(r.counts, ROLLOUT_SHOWN) },
      { label: t('common.createdAt'), cell: (r) => fmtTime(r.createdAt) },
    ],
  });

  const loadErr = alertArea();
  product.input.addEventListener('change', () => {
    pk = product.input.value;
    // The product goes into the address without a new navigation.
    history.replaceState(null, '', `#/rollouts${pk ? `?productKey=${enc(pk)}` : ''}`);
    refresh();
  });

  main.append(
    pageHeader(t('rollouts.title')),
    h('p', { class: 'intro' }, t('rollouts.intro')),
    list.section(t('rollouts.list'), h('div', { class: 'toolbar' }, product.el, newBtn), loadErr),
    dialog.dialog,
  );

  async function loadProducts() {
    try {
      const prods = await getAll('/products', 5000);
      showError(loadErr, null);
      for (const p of prods) names.set(p.productKey, p.name);
      selectOptions(product.input, prods, t('devices.allProducts'), (p) => p.productKey, (p) => `${p.name} (${p.productKey})`);
      if (pk && !names.has(pk)) product.input.append(h('option', { value: pk }, pk));
      product.input.value = pk;
    } catch (e) {
      showError(loadErr, e);
    }
  }

  // Rollouts not ended move on by the clock too.
  const poll = poller(() => refresh(), 2 * ROLLOUT_POLL_MS);
  async function refresh() {
    const items = await list.refresh();
    poll.again(!items || items.some((r) => r.status !== 'completed' && r.status !== 'canceled'));
  }

  loadProducts().then(refresh);
  return {
    refresh,
    unmount: () => {
      poll.stop();
      if (dialog.dialog.open) dialog.dialog.close();
    },
  };
}
