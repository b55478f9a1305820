// signin.js — the sign-in panel shown instead of the screens when haas-emu
// wants its management token (it answered 401): where haas-emu printed the
// token, a field for it (checked against the server before it is kept),
// "remember in this browser", and what went wrong when it is refused.
import { checkToken } from './api.js';
import { saveToken, signedIn, tokenRefused } from './auth.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { field, alertArea, setFieldError } from './forms.js';
import { showError } from './errors.js';

const code = (text) => h('code', { class: 'mono' }, text);

// A translated sentence with {name} places filled by elements.
function rich(text, nodes) {
  return text.split(/(\{\w+\})/).map((part) => {
    const m = /^\{(\w+)\}$/.exec(part);
    return m && nodes[m[1]] ? nodes[m[1]] : part;
  });
}

// Fills panel (shown while the screens are hidden) with the form; a token
// haas-emu accepts is kept and signedIn() tells the console.
export function drawSignIn(panel) {
  const tokenField = field({
    label: t('auth.token'),
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    class: 'mono',
    hint: t('auth.tokenHint'),
  });
  const rememberId = 'signin-remember';
  const remember = h('input', { type: 'checkbox', id: rememberId, name: 'remember' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('auth.signIn'));
  const err = alertArea();
  const form = h(
    'form',
    { class: 'form', novalidate: true, 'aria-label': t('auth.signIn') },
    tokenField.el,
    h('div', { class: 'choice' }, remember, h('label', { for: rememberId }, t('auth.remember'))),
    h('div', { class: 'form-actions' }, submit),
    err,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const value = tokenField.input.value.trim();
    showError(err, null);
    if (!setFieldError(tokenField.input, value ? '' : t('auth.empty'))) {
      tokenField.input.focus();
      return;
    }
    submit.disabled = true;
    try {
      if (await checkToken(value)) {
        saveToken(value, remember.checked);
        signedIn();
        return;
      }
      setFieldError(tokenField.input, t('auth.wrong'));
      showError(err, { message: t('auth.wrongLong') });
      tokenField.input.select();
      tokenField.input.focus();
    } catch (e2) {
      showError(err, e2);
    } finally {
      submit.disabled = false;
    }
  });

  const titleId = 'signin-title';
  panel.setAttribute('aria-labelledby', titleId);
  panel.replaceChildren(
    h(
      'div',
      { class: 'card signin-card' },
      h('h1', { id: titleId, class: 'page-title' }, t('auth.title')),
      h('p', null, t('auth.why')),
      tokenRefused() ? h('p', { class: 'alert alert-warn', role: 'status' }, t('auth.savedRefused')) : null,
      h('h2', null, t('auth.whereTitle')),
      h(
        'ul',
        { class: 'signin-where' },
        h('li', null, rich(t('auth.wherePrinted'), { cmd: code('docker compose logs emulator | grep token') })),
        h('li', null, rich(t('auth.whereFlag'), { flag: code('--api-token'), env: code('HAAS_API_TOKEN') })),
        h('li', null, rich(t('auth.whereLink'), { link: code(`${location.origin}/?token=…`) })),
      ),
      form,
    ),
  );
  document.title = `${t('auth.title')} · ${t('app.brand')}`;
  tokenField.input.focus();
}
