// forms.js — labelled form fields with an error line each (aria-describedby),
// the submit helper that disables the button while a request runs and
// shows a failure in the form's alert area, an upload's progress bar,
// devices to tick, radio buttons, and a select's options.
import { h, fmtSize } from './dom.js';
import { t } from './i18n.js';
import { showError } from './errors.js';
import { statusBadge } from './layout.js';

let seq = 0;

// field({label, name, type, hint, ...input attributes}) → {el, input}
export function field({ label, hint, as = 'input', children, ...attrs }) {
  const id = `f${++seq}-${attrs.name || 'x'}`;
  const errId = `${id}-err`;
  const hintId = hint ? `${id}-hint` : null;
  const input = h(as, { id, 'aria-describedby': [hintId, errId].filter(Boolean).join(' '), ...attrs }, children || null);
  const el = h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    input,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: errId, hidden: true }),
  );
  return { el, input };
}

export function setFieldError(input, message) {
  const err = document.getElementById(`${input.id}-err`);
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
  if (err) {
    err.textContent = message || '';
    err.hidden = !message;
  }
  return !message;
}

export function alertArea() {
  return h('div', { class: 'alert alert-error', role: 'alert', hidden: true });
}

// Runs action() for a submit: button disabled meanwhile; errors go to area.
export async function submitting(button, area, action) {
  button.disabled = true;
  showError(area, null);
  try {
    return await action();
  } catch (e) {
    showError(area, e);
    return undefined;
  } finally {
    button.disabled = false;
  }
}

// An upload's progress bar (label: its accessible name): el, and
// start() / update(sent, total) / finish() / hide().
export function uploadProgress(label) {
  const bar = h('progress', { max: 100, value: 0, 'aria-label': label });
  const text = h('span', { class: 'progress-text' });
  const el = h('div', { class: 'upload-progress', hidden: true }, bar, text);
  const set = (pct, words) => {
    bar.value = pct;
    text.textContent = words;
  };
  return {
    el,
    start() {
      el.hidden = false;
      set(0, '0%');
    },
    update(sent, total) {
      const pct = total ? Math.round((sent / total) * 100) : 100;
      set(pct, `${pct}% (${fmtSize(sent)} / ${fmtSize(total)})`);
    },
    finish: () => set(100, '100%'),
    hide() {
      el.hidden = true;
    },
  };
}

// Checkboxes of devices (value: deviceName, id: idPrefix + deviceName), each
// with its status, after a "select all" button; or the empty text.
export function deviceCheckboxes(devices, emptyText, idPrefix = 'pick-') {
  if (!devices.length) return [h('p', { class: 'muted' }, emptyText)];
  const list = h(
    'div',
    { class: 'choice-list' },
    devices.map((d) => {
      const id = `${idPrefix}${d.deviceName}`;
      return h('div', { class: 'choice' }, h('input', { type: 'checkbox', id, value: d.deviceName, name: 'device' }), h('label', { for: id }, d.deviceName, ' ', statusBadge(d.status)));
    }),
  );
  const all = h('button', {
    type: 'button',
    class: 'btn btn-small',
    onclick: () => list.querySelectorAll('input[type=checkbox]').forEach((c) => {
      c.checked = true;
    }),
  }, t('groups.selectAll'));
  return [all, list];
}

// The deviceNames ticked inside container.
export function tickedDevices(container) {
  return [...container.querySelectorAll('input[type=checkbox]:checked')].map((c) => c.value);
}

// Fills select with a placeholder option (value "") and one option per item
// (value(item), label(item)); the value chosen before stays when still there.
export function selectOptions(select, items, placeholder, value, label) {
  const keep = select.value;
  select.replaceChildren(h('option', { value: '' }, placeholder), ...items.map((i) => h('option', { value: value(i) }, label(i))));
  if (items.some((i) => value(i) === keep)) select.value = keep;
}

// Radio buttons in a fieldset: legend, the inputs' name, choices
// [[value, label]], each input's id idPrefix + value.
// → {el, value() (the first choice's when none is checked), set(value)}
export function radioGroup({ legend, name, choices, idPrefix }) {
  const el = h(
    'fieldset',
    { class: 'choices' },
    h('legend', null, legend),
    h(
      'div',
      { class: 'choice-list' },
      choices.map(([value, label]) => {
        const id = `${idPrefix}${value}`;
        return h('div', { class: 'choice' }, h('input', { type: 'radio', id, name, value }), h('label', { for: id }, label));
      }),
    ),
  );
  const inputs = () => [...el.querySelectorAll('input[type=radio]')];
  return {
    el,
    value: () => (inputs().find((i) => i.checked) || inputs()[0]).value,
    set(value) {
      for (const i of inputs()) i.checked = i.value === value;
    },
  };
}
