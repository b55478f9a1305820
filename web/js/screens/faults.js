// screens/faults.js — 测试工具 → 故障注入 (the test bench, issue 13): the
// emulator's clock (moved forward here when it is virtual), and the fault
// injection rules (/api/v1/faults): each with its action and numbers,
// scope, trigger, whether it is enabled, how often it fired and whether it
// can still fire; 添加规则 in a dialog that shows only the chosen action's
// numbers and says what the action does to a device; 停用 / 启用 / 删除.
import { api, enc, getAll } from '../api.js';
import { h, toast, renderIfChanged, fmtTime } from '../dom.js';
import { t } from '../i18n.js';
import { field, alertArea, submitting, setFieldError, selectOptions, radioGroup } from '../forms.js';
import { showError, loaded } from '../errors.js';
import { table } from '../table.js';
import { pageHeader, section } from '../layout.js';
import { confirmDelete } from '../paged_list.js';
import { clockControls, clockNowMs, localInputValue, utcOfLocal, onClock } from '../clock.js';
import { FAULT_ACTIONS, ACTION_NUMBERS, DISCONNECT_WHEN, actionName, actionText, scopeText, triggerText, liveState } from '../faults_text.js';
import { rolloutName } from './rollouts.js';

const TRIGGERS = ['always', 'times', 'probability', 'from'];
// Limits of the numbers (haas-emu checks them too).
const LIMITS = {
  status: [400, 599],
  ms: [0, 600000],
  bytesPerSecond: [1, 1e12],
  at: [0, 1e12],
  count: [1, 65536],
  bytes: [1, 1e12],
  logins: [1, 1000],
};

// The whole number in input within min..max, or NaN (shown at the input).
function intIn(input, [min, max]) {
  const text = input.value.trim();
  const n = Number(text);
  const ok = text !== '' && Number.isInteger(n) && n >= min && n <= max;
  setFieldError(input, ok ? '' : t('rollouts.intRange', { min, max }));
  return ok ? n : NaN;
}

// -- 添加规则 --
function faultDialog(onAdded) {
  const title = h('h2', { id: 'fault-dialog-title' }, t('fault.new'));
  const action = field({
    label: t('fault.action'),
    name: 'action',
    as: 'select',
    children: Object.entries(FAULT_ACTIONS).map(([channel, actions]) =>
      h('optgroup', { label: t(`fault.channel.${channel}`) }, Object.keys(actions).map((a) => h('option', { value: a }, actionName(a)))),
    ),
  });
  const explain = h('p', { class: 'alert alert-ok fault-explain', id: 'fault-explain', 'aria-live': 'polite' });
  action.input.setAttribute('aria-describedby', `${action.input.getAttribute('aria-describedby')} fault-explain`);
  // one field per number any action has; only the chosen action's shown
  const numbers = {};
  for (const name of Object.keys(LIMITS)) {
    numbers[name] = field({ label: t(`fault.num.${name}`), name, type: 'number', inputmode: 'numeric', min: LIMITS[name][0], hint: t(`fault.num.${name}.hint`) });
  }
  numbers.when = field({ label: t('fault.num.when'), name: 'when', as: 'select', children: DISCONNECT_WHEN.map((w) => h('option', { value: w }, t(`fault.when.${w}`))) });
  const product = field({ label: t('fault.scope.product'), name: 'productKey', as: 'select' });
  const device = field({ label: t('fault.scope.device'), name: 'deviceName', as: 'select' });
  const task = field({ label: t('fault.scope.task'), name: 'taskId', as: 'select', hint: t('fault.scope.taskHint') });
  const trigger = radioGroup({ legend: t('fault.trigger'), name: 'trigger', choices: TRIGGERS.map((k) => [k, t(`fault.trigger.${k}`)]), idPrefix: 'fault-trigger-' });
  const times = field({ label: t('fault.trigger.n'), name: 'times', type: 'number', min: 1, inputmode: 'numeric' });
  const probability = field({ label: t('fault.trigger.p'), name: 'probability', type: 'number', min: 0, max: 100, step: 'any', inputmode: 'decimal', hint: t('fault.trigger.pHint') });
  const from = field({ label: t('fault.trigger.fromTime'), name: 'from', type: 'datetime-local', step: 1, hint: t('fault.trigger.fromHint') });
  const enabledBox = h('input', { type: 'checkbox', id: 'fault-enabled', name: 'enabled', checked: true });
  const err = alertArea();
  const ok = h('button', { type: 'submit', class: 'btn btn-primary' }, t('fault.add'));
  const cancel = h('button', { type: 'button', class: 'btn', onclick: () => dialog.close() }, t('common.cancel'));
  const numberRow = h('div', { class: 'form-row' }, Object.values(numbers).map((f) => f.el));
  const form = h(
    'form',
    { class: 'form', novalidate: true },
    title,
    h('p', { class: 'hint' }, t('fault.newHint')),
    action.el,
    explain,
    numberRow,
    h('fieldset', { class: 'choices' }, h('legend', null, t('fault.scope')), h('p', { class: 'hint' }, t('fault.scopeHint')), h('div', { class: 'form-row' }, product.el, device.el, task.el)),
    trigger.el,
    h('div', { class: 'form-row' }, times.el, probability.el, from.el),
    h('div', { class: 'choice' }, enabledBox, h('label', { for: 'fault-enabled' }, t('fault.enabledNow'))),
    err,
    h('div', { class: 'form-actions' }, ok, cancel),
  );
  const dialog = h('dialog', { class: 'dialog dialog-wide', 'aria-labelledby': 'fault-dialog-title' }, form);

  function showAction() {
    const a = action.input.value;
    const wanted = new Set((ACTION_NUMBERS[a] || []).map(([name]) => name));
    for (const [name, f] of Object.entries(numbers)) {
      f.el.hidden = !wanted.has(name);
      setFieldError(f.input, '');
    }
    numberRow.hidden = wanted.size === 0;
    explain.textContent = t(`fault.help.${a}`);
  }
  function showTrigger() {
    const k = trigger.value();
    times.el.hidden = k !== 'times';
    probability.el.hidden = k !== 'probability';
    from.el.hidden = k !== 'from';
  }
  action.input.addEventListener('change', showAction);
  trigger.el.addEventListener('change', showTrigger);

  async function loadDevices() {
    const pk = product.input.value;
    device.input.disabled = !pk;
    if (!pk) {
      selectOptions(device.input, [], t('fault.scope.anyDevice'), () => '', () => '');
      return;
    }
    try {
      const devs = await getAll(`/products/${enc(pk)}/devices`, 2000);
      if (product.input.value !== pk) return;
      selectOptions(device.input, devs, t('fault.scope.anyDeviceOf'), (d) => d.deviceName, (d) => d.deviceName);
    } catch (e) {
      showError(err, e);
    }
  }
  product.input.addEventListener('change', loadDevices);

  async function open() {
    form.reset();
    showError(err, null);
    action.input.value = 'dropPush';
    for (const [name, f] of Object.entries(numbers)) {
      const spec = Object.values(ACTION_NUMBERS).flat().find(([n]) => n === name);
      f.input.value = spec ? String(spec[2]) : '';
    }
    for (const f of [times, probability, from]) setFieldError(f.input, '');
    trigger.set('always');
    times.input.value = '1';
    probability.input.value = '50';
    const now = clockNowMs();
    from.input.value = localInputValue(now == null ? Date.now() : now);
    enabledBox.checked = true;
    for (const s of [product, device, task]) s.input.replaceChildren(h('option', { value: '' }, t('common.loading')));
    showAction();
    showTrigger();
    dialog.showModal();
    action.input.focus();
    try {
      const [prods, tasks, rollouts] = await Promise.all([getAll('/products', 5000), getAll('/tasks', 2000), getAll('/rollouts', 2000)]);
      selectOptions(product.input, prods, t('fault.scope.anyProduct'), (p) => p.productKey, (p) => `${p.name} (${p.productKey})`);
      task.input.replaceChildren(
        h('option', { value: '' }, t('fault.scope.anyTask')),
        tasks.length ? h('optgroup', { label: t('tasks.title') }, tasks.map((k) => h('option', { value: k.taskId }, `${k.appName} ${k.version} · ${k.groupName} (${k.taskId})`))) : null,
        rollouts.length ? h('optgroup', { label: t('rollouts.title') }, rollouts.map((r) => h('option', { value: r.rolloutId }, `${rolloutName(r)} (${r.rolloutId})`))) : null,
      );
      await loadDevices();
    } catch (e) {
      showError(err, e);
    }
  }

  // The rule's JSON, or null when a field is wrong (shown there).
  function body() {
    const a = action.input.value;
    const rule = { action: a };
    let good = true;
    for (const [name, kind] of ACTION_NUMBERS[a] || []) {
      if (kind === 'when') rule.when = numbers.when.input.value;
      else {
        const n = intIn(numbers[name].input, LIMITS[name]);
        good = !Number.isNaN(n) && good;
        rule[name] = n;
      }
    }
    const scope = {};
    if (product.input.value) scope.productKey = product.input.value;
    if (product.input.value && device.input.value) scope.deviceName = device.input.value;
    if (task.input.value) scope.taskId = task.input.value;
    const needsDevice = a === 'refuseLogin' || (a === 'disconnect' && rule.when === 'download');
    good = setFieldError(device.input, needsDevice && !scope.deviceName ? t('fault.needsDevice') : '') && good;
    if (Object.keys(scope).length) rule.scope = scope;
    const k = trigger.value();
    if (k === 'always') rule.trigger = 'always';
    else if (k === 'times') {
      const n = intIn(times.input, [1, 1000000]);
      good = !Number.isNaN(n) && good;
      rule.trigger = { times: n };
    } else if (k === 'probability') {
      const text = probability.input.value.trim();
      const p = Number(text);
      const okP = text !== '' && Number.isFinite(p) && p >= 0 && p <= 100;
      good = setFieldError(probability.input, okP ? '' : t('fault.trigger.pInvalid')) && good;
      rule.trigger = { probability: p / 100 };
    } else {
      const iso = utcOfLocal(from.input.value);
      good = setFieldError(from.input, iso ? '' : t('rollouts.startAtInvalid')) && good;
      rule.trigger = { from: iso };
    }
    rule.enabled = enabledBox.checked;
    return good ? rule : null;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const rule = body();
    if (!rule) return;
    const made = await submitting(ok, err, () => api.post('/faults', rule));
    if (made) {
      dialog.close();
      toast(t('fault.added', { id: made.faultId, action: actionName(made.action) }));
      onAdded(made);
    }
  });

  return { dialog, open };
}

export function mount(main) {
  const loadErr = alertArea();
  const actErr = alertArea();
  const list = h('div', { class: 'list' });
  const clock = clockControls();
  const added = faultDialog(() => refresh());
  const addBtn = h('button', { type: 'button', class: 'btn btn-primary', dataset: { action: 'add-fault' } }, t('fault.new'));
  addBtn.addEventListener('click', () => added.open());
  let rules = [];
  let busy = false;

  async function toggle(rule) {
    if (busy) return;
    busy = true;
    showError(actErr, null);
    try {
      const r = await api.post(`/faults/${enc(rule.faultId)}/${rule.enabled ? 'disable' : 'enable'}`);
      toast(t(r.enabled ? 'fault.enabledToast' : 'fault.disabledToast', { id: r.faultId }));
      busy = false;
      await refresh();
    } catch (e) {
      showError(actErr, e);
    } finally {
      busy = false;
    }
  }

  const remove = (rule) => confirmDelete(t('fault.confirmDelete', { id: rule.faultId, action: actionName(rule.action) }), `/faults/${enc(rule.faultId)}`, actErr, () => refresh(), t('fault.deleted', { id: rule.faultId }));

  function draw() {
    const now = clockNowMs();
    renderIfChanged(list, [rules, rules.map((r) => liveState(r, now))], () =>
      table(
        [
          { label: t('fault.id'), class: 'mono', cell: (r) => r.faultId },
          { label: t('fault.action'), cell: (r) => h('span', { class: 'fault-action', dataset: { action: r.action } }, actionText(r)) },
          { label: t('fault.scope'), cell: (r) => h('span', { class: 'wrap' }, scopeText(r.scope)) },
          { label: t('fault.trigger'), cell: (r) => triggerText(r.trigger) },
          { label: t('fault.enabled'), cell: (r) => h('span', { class: `badge fault-${r.enabled ? 'on' : 'off'}`, dataset: { enabled: String(r.enabled) } }, t(r.enabled ? 'fault.on' : 'fault.off')) },
          { label: t('fault.fired'), class: 'num', cell: (r) => h('span', { dataset: { field: 'fired' } }, String(r.fired)) },
          {
            label: t('fault.live'),
            cell: (r) => {
              const s = liveState(r, now);
              return h('span', { class: `badge fault-live-${s}`, dataset: { live: s } }, t(`fault.live.${s}`, { time: r.trigger && r.trigger.from ? fmtTime(r.trigger.from) : '' }));
            },
          },
          {
            label: t('common.actions'),
            class: 'actions',
            cell: (r) => [
              h('button', { type: 'button', class: 'btn btn-small', dataset: { key: `toggle-${r.faultId}`, action: r.enabled ? 'disable' : 'enable' }, 'aria-label': t(r.enabled ? 'fault.disableOf' : 'fault.enableOf', { id: r.faultId }), onclick: () => toggle(r) }, t(r.enabled ? 'fault.disable' : 'fault.enable')),
              h('button', { type: 'button', class: 'btn btn-small btn-danger', dataset: { key: `del-${r.faultId}`, action: 'delete' }, 'aria-label': t('fault.deleteOf', { id: r.faultId }), onclick: () => remove(r) }, t('common.delete')),
            ],
          },
        ],
        rules,
        { empty: t('fault.none'), rowKey: (r) => r.faultId },
      ),
    );
  }

  main.append(
    pageHeader(t('fault.title'), [], [addBtn]),
    h('p', { class: 'intro' }, t('fault.intro')),
    section(t('clock.title'), clock.el),
    section(t('fault.list'), loadErr, actErr, list, h('p', { class: 'hint' }, t('fault.listHint'))),
    added.dialog,
  );

  clock.draw();
  // A rule waiting for its time turns live when the clock moves.
  const off = onClock(() => draw());

  async function refresh() {
    const page = await loaded(loadErr, api.get('/faults'));
    if (page) rules = page.items;
    draw();
  }

  refresh();
  return {
    refresh,
    unmount() {
      off();
      clock.stop();
      if (added.dialog.open) added.dialog.close();
    },
  };
}
