// timeline.js — what happened in a task or to a device, in order
// (GET /api/v1/tasks/{id}/timeline, /products/{pk}/devices/{dn}/timeline):
// one line per event with its time by the emulator's clock and its kind in
// words — an MQTT message in or out (its kind, topic and summary), a
// download (status, range, bytes, duration, completed or cut), a fault
// that fired, a state change — each opening to its raw detail.
import { api } from './api.js';
import { h, fmtSize, fmtTime, renderIfChanged } from './dom.js';
import { t } from './i18n.js';
import { alertArea } from './forms.js';
import { loaded } from './errors.js';
import { stateBadge } from './layout.js';
import { summary, clock, pretty } from './msglog.js';
import { faultDidText } from './faults_text.js';
import { poller } from './live.js';

// The newest this many events are drawn (haas-emu keeps up to 16,384).
const SHOWN = 400;
// Downloads end without a live change: asked again this often while shown.
const POLL_MS = 3000;

function kindWords(kind) {
  const label = t(`kind.${kind}`);
  return label === `kind.${kind}` ? kind : label;
}

function payloadJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// The line of one event: [badge class, kind words, the description].
function describe(e, { showDevice }) {
  const d = e.detail && typeof e.detail === 'object' ? e.detail : {};
  const who = showDevice && e.deviceName ? h('span', { class: 'tl-device mono' }, e.deviceName) : null;
  if (e.kind === 'mqtt') {
    const dir = d.direction === 'in' ? 'in' : 'out';
    return [
      `tl-mqtt tl-${dir}`,
      [h('span', { class: 'msg-dir', title: t(`msg.${dir}Hint`) }, t(`msg.${dir}`)), ' ', h('span', { class: `badge kind-${d.kind}` }, kindWords(d.kind))],
      [who, h('span', { class: 'tl-summary' }, summary({ kind: d.kind, payload: d.payload })), h('code', { class: 'mono tl-topic' }, d.topic || '')],
    ];
  }
  if (e.kind === 'download') {
    const ok = d.status >= 200 && d.status < 300;
    return [
      `tl-download ${ok && d.completed ? '' : 'tl-bad'}`,
      h('span', { class: 'badge kind-download' }, t('timeline.download')),
      [
        who,
        h(
          'span',
          { class: 'tl-summary' },
          t('timeline.downloadText', {
            status: d.status ?? '?',
            range: d.range ? t('timeline.range', { range: d.range }) : t('timeline.wholeFile'),
            bytes: fmtSize(d.bytes),
            ms: d.durationMs ?? '?',
          }),
          ' ',
          h('strong', { class: d.completed ? 'tl-completed' : 'tl-cut', dataset: { completed: String(!!d.completed) } }, t(d.completed ? 'timeline.completed' : 'timeline.cut')),
        ),
        h('code', { class: 'mono tl-topic' }, d.object || ''),
      ],
    ];
  }
  if (e.kind === 'fault') {
    const f = payloadJson(d.payload) || {};
    return ['tl-fault', h('span', { class: 'badge kind-fault' }, t('kind.fault')), [who, h('span', { class: 'tl-summary', dataset: { faultId: f.faultId || '' } }, faultDidText(f))]];
  }
  if (e.kind === 'state') {
    const words = d.state === 'timedOut' ? t('timeline.timedOut') : d.state === 'pushed' ? t('timeline.pushed') : null;
    return [`tl-state tl-state-${d.state}`, h('span', { class: 'badge kind-state' }, t('timeline.state')), [who, stateBadge(d.state, d.code), words ? h('span', { class: 'tl-summary' }, words) : null]];
  }
  return ['', h('span', { class: 'badge' }, e.kind), [who]];
}

function entry(e, opts) {
  const [cls, kind, desc] = describe(e, opts);
  return h(
    'li',
    { class: `tl-event ${cls}`, dataset: { seq: e.seq, kind: e.kind } },
    h(
      'details',
      null,
      h('summary', null, h('time', { class: 'msg-time', datetime: e.at, title: fmtTime(e.at) }, clock(e.at)), kind, desc),
      h('pre', { class: 'msg-payload tl-raw' }, pretty(JSON.stringify(e.detail))),
    ),
  );
}

function view(r, opts) {
  const items = r.items || [];
  if (!items.length) return h('p', { class: 'muted' }, t('timeline.none'));
  const shown = items.slice(-SHOWN);
  return [
    h('p', { class: 'hint tl-count' }, shown.length < items.length ? t('timeline.someOf', { n: shown.length, total: items.length }) : t('timeline.count', { n: items.length })),
    h('ol', { class: 'timeline', 'aria-label': opts.label }, shown.map((e) => entry(e, opts))),
  ];
}

// path: '/tasks/ID' or '/products/PK/devices/DN'; showDevice: name the
// device on each line (a task's timeline). → {el, poll(), stop()}
export function timelineView(path, { label, showDevice = false }) {
  const err = alertArea();
  const body = h('div', { class: 'timeline-wrap' }, h('p', { class: 'muted' }, t('common.loading')));
  const el = h('div', null, h('p', { class: 'hint' }, t('timeline.hint')), err, body);
  const again = poller(() => poll(), POLL_MS);
  let stopped = false;

  async function poll() {
    const r = await loaded(err, api.get(`${path}/timeline`));
    if (stopped) return;
    // Lines opened stay open: redrawn only when an event came.
    if (r) renderIfChanged(body, [r.total, r.items.length ? r.items[r.items.length - 1].seq : 0], () => view(r, { label, showDevice }));
    again.again(true);
  }

  return {
    el,
    poll,
    stop() {
      stopped = true;
      again.stop();
    },
  };
}
