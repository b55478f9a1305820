// forms.js — labelled form fields with an error line each (aria-describedby),
// and the submit helper that disables the button while a request runs and
// shows a failure in the form's alert area.
import { h } from './dom.js';
import { showError } from './errors.js';

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
