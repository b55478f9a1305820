// errors.js — an API error in words: the sentence for its code (from the
// language tables, keys "err.<Code>") followed by the server's own message.
import { t, has } from './i18n.js';
import { h } from './dom.js';

export function errorSentence(err) {
  const code = err && err.code;
  if (code && has(`err.${code}`)) return t(`err.${code}`);
  if (err && err.status === 0) return t('err.NetworkError');
  if (err && err.status == null) return String(err.message || err);
  return t('err.generic', { status: (err && err.status) || '?' });
}

// "sentence (server: message [Code])" as plain text.
// Errors the browser found itself (no status) have no server details.
function fromServer(err) {
  return !!err && err.status != null && !!(err.message || err.code);
}

export function errorText(err) {
  if (!fromServer(err)) return errorSentence(err);
  return `${errorSentence(err)} ${t('err.server')}: ${err.message || ''} [${err.code}]`;
}

// The same as an element for alert areas: the sentence, then the details.
export function errorNode(err) {
  return h(
    'span',
    { class: 'error-text' },
    h('strong', { class: 'error-sentence' }, errorSentence(err)),
    fromServer(err)
      ? h('span', { class: 'error-detail' }, `${t('err.server')}: ${err.message || ''}${err.code ? ` [${err.code}]` : ''}`)
      : null,
  );
}

// Shows an error (or clears the area when err is null) in a role=alert element.
export function showError(area, err) {
  area.replaceChildren(err ? errorNode(err) : '');
  area.hidden = !err;
}

// Awaits request (a promise): its answer, with area cleared; or, when it
// fails, undefined with the failure shown in area.
export async function loaded(area, request) {
  try {
    const answer = await request;
    showError(area, null);
    return answer;
  } catch (e) {
    showError(area, e);
    return undefined;
  }
}
