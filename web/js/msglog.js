// msglog.js — a live log of the MQTT messages haas-emu sent and received
// (GET /api/v1/messages?…&after=), newest first, each with a one-line
// summary and its topic and payload on demand.
import { api } from './api.js';
import { h } from './dom.js';
import { t, locale } from './i18n.js';
import { codeText } from './layout.js';
import { faultDidText } from './faults_text.js';

const KEEP = 500;

function json(text) {
  try {
    return typeof text === 'string' ? JSON.parse(text) : text;
  } catch {
    return null;
  }
}

// A message's one-line summary (m: {kind, payload}); the timeline uses it too.
export function summary(m) {
  const body = json(m.payload) || {};
  const params = json(body.params) || {};
  if (m.kind === 'push') {
    const app = (params.app || [])[0] || {};
    return t('msg.pushSummary', { version: app.version || '?', size: app.size ?? '?' });
  }
  if (m.kind === 'result') {
    const ext = json(params.ext) || {};
    return t('msg.resultSummary', { code: codeText(params.argInt), version: ext.appNewVersion || '?' });
  }
  if (m.kind === 'query') {
    const apps = (params.app || []).map((a) => a.version).join(', ') || '—';
    return t('msg.querySummary', { versions: apps });
  }
  if (m.kind === 'status') return body.status ? t(`status.${body.status}`) : '';
  if (m.kind === 'refused') return t('msg.refusedSummary', { code: body.code || '?' });
  if (m.kind === 'fault') return faultDidText(body);
  return '';
}

// "08:00:31.250": a time to the millisecond, in the browser's time zone.
export function clock(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  const ms = String(d.getMilliseconds()).padStart(3, '0');
  return `${d.toLocaleTimeString(locale(), { hour12: false })}.${ms}`;
}

// A payload as indented JSON (params too), or as it is.
export function pretty(payload) {
  const v = json(payload);
  if (v == null) return payload;
  if (v.params && typeof v.params === 'string') v.params = json(v.params) ?? v.params;
  return JSON.stringify(v, null, 2);
}

function entry(m) {
  const kindLabel = t(`kind.${m.kind}`);
  return h(
    'li',
    { class: `msg msg-${m.kind} msg-${m.direction}`, dataset: { seq: m.seq, kind: m.kind } },
    h(
      'details',
      null,
      h(
        'summary',
        null,
        h('time', { class: 'msg-time', datetime: m.time }, clock(m.time)),
        h('span', { class: 'msg-dir', title: t(`msg.${m.direction}Hint`) }, t(`msg.${m.direction}`)),
        h('span', { class: `badge kind-${m.kind}` }, kindLabel === `kind.${m.kind}` ? m.kind : kindLabel),
        h('span', { class: 'msg-device mono' }, m.deviceName),
        h('span', { class: 'msg-summary' }, summary(m)),
      ),
      h('p', { class: 'msg-topic mono' }, m.topic),
      h('pre', { class: 'msg-payload' }, pretty(m.payload) + (m.truncated ? `\n${t('msg.truncated')}` : '')),
    ),
  );
}

// query: e.g. "taskId=task-1" or "productKey=a&deviceName=b".
export function messageLog(query) {
  const list = h('ol', { class: 'msglog', role: 'log', 'aria-label': t('msg.title') });
  const empty = h('p', { class: 'muted' }, t('msg.none'));
  const el = h('div', { class: 'msglog-wrap' }, empty, list);
  let after = 0;
  let running = null;
  let again = false;

  async function fetchNew() {
    for (let i = 0; i < 20; i++) {
      const r = await api.get(`/messages?${query}&after=${after}&limit=500`);
      if (r.next < after) {
        // haas-emu restarted: its ring of messages starts again from 1.
        after = 0;
        list.replaceChildren();
        continue;
      }
      after = r.next;
      for (const m of r.items) list.prepend(entry(m));
      if (r.items.length < 500) break;
    }
    while (list.children.length > KEEP) list.lastElementChild.remove();
    empty.hidden = list.children.length > 0;
  }

  async function poll() {
    if (running) {
      again = true;
      return running;
    }
    do {
      again = false;
      running = fetchNew().catch(() => {});
      await running;
    } while (again);
    running = null;
  }

  return { el, poll };
}
