// screens/rollout.js — one staged rollout (分批发布), live: its status and,
// when paused, why (prominently); 暂停 / 继续 / 取消发布 as its status
// allows; the counts and bar of finished devices; the batches as a
// timeline (waiting, running, done: size, succeeded, failed, open, a bar
// each); the per-device table (batch, state, pushes, download bar, the
// failure code in words, timeouts and retries in words) where a device's
// 历史 button opens its state history as a small timeline; and what the
// rollout sends to whom.
import { api, enc } from '../api.js';
import { h, fmtTime, renderIfChanged, toast, confirmAction } from '../dom.js';
import { t } from '../i18n.js';
import { field, alertArea, selectOptions } from '../forms.js';
import { showError, loaded } from '../errors.js';
import { table } from '../table.js';
import { pageHeader, section, statusBadge, stateBadge, details, codeText, failureWords } from '../layout.js';
import { countsView, deviceProgress } from '../progress.js';
import { poller } from '../live.js';
import { versionsText } from './ota.js';
import { rolloutName, rolloutStatusBadge, pauseReasonText, payloadText, ROLLOUT_POLL_MS } from './rollouts.js';

const STATES = ['succeeded', 'failed', 'timedOut', 'canceled', 'installing', 'downloading', 'pushed', 'queued', 'waiting'];
const DONE = ['succeeded', 'failed', 'timedOut', 'canceled'];
const CODES = { firmware: [-1, -2, -3, -4], app: [404, 405] };
const ENDED = ['completed', 'canceled'];
const progressView = (c) => countsView(c, { states: STATES, done: DONE, moving: ['installing', 'downloading', 'pushed'] });

// A failed or timed-out device is pushed again after the retry interval
// while its pushes do not exceed maxRetries + 1.
const retryPending = (r, d) => (d.state === 'failed' || d.state === 'timedOut') && d.attempts <= r.maxRetries;

// What happened to a device beyond its state: the failure in words, a
// timeout, the retry to come (once resumed, while paused) or none left, a
// queued device that is offline or waits for its retry.
function noteCell(r, d) {
  const parts = [];
  if (d.state === 'failed' && (d.code != null || d.reason)) parts.push(failureWords(d.code, d.reason));
  if (d.state === 'timedOut') parts.push(h('span', { class: 'fail-reason' }, r.timeoutSeconds ? t('rollouts.timedOutAfter', { n: r.timeoutSeconds }) : t('ota.timedOutReason')));
  if (retryPending(r, d) && r.status === 'paused') parts.push(h('span', { class: 'retry-note' }, t('rollouts.retryAfterResume', { n: d.attempts, max: r.maxRetries })));
  else if (retryPending(r, d)) parts.push(h('span', { class: 'retry-note' }, d.retryAt ? t('rollouts.retryAt', { time: fmtTime(d.retryAt), n: d.attempts, max: r.maxRetries }) : t('rollouts.retrySoon', { n: d.attempts, max: r.maxRetries })));
  else if ((d.state === 'failed' || d.state === 'timedOut') && r.maxRetries > 0) parts.push(h('span', { class: 'retry-note' }, t('rollouts.noRetriesLeft', { max: r.maxRetries })));
  if (d.state === 'queued' && d.attempts > 0) parts.push(h('span', { class: 'retry-note' }, t('rollouts.retryQueued', { n: d.attempts, max: r.maxRetries })));
  if (d.state === 'queued' && d.deviceStatus !== 'online') parts.push(h('span', { class: 'muted' }, t('rollouts.waitsOnline')));
  if (d.state === 'waiting') parts.push(h('span', { class: 'muted' }, t('rollouts.waitsBatch', { n: d.batch })));
  if (!parts.length) return '—';
  return h('span', { class: 'note' }, parts.map((p, i) => [i ? ' · ' : null, p]));
}

// A history event's detail in the user's language (haas-emu writes it in
// English: "batch 1 started", "attempt 2", "retry 1", "no result within 30
// s", "rollout canceled", a failure's reason); any other as it is.
const DETAILS = [
  [/^batch (\d+) started$/, (m) => t('rollouts.ev.batchStarted', { n: m[1] })],
  [/^attempt (\d+)$/, (m) => t('rollouts.ev.attempt', { n: m[1] })],
  [/^retry (\d+)$/, (m) => t('rollouts.ev.retry', { n: m[1] })],
  [/^no result within (\d+) s$/, (m) => t('rollouts.timedOutAfter', { n: m[1] })],
  [/^rollout canceled$/, () => t('rollouts.ev.canceled')],
  [/^firmware\/get$/, () => t('rollouts.ev.firmwareGet')],
];
function eventDetail(e) {
  if (e.state === 'failed' && e.code != null) return failureWords(e.code, e.detail);
  for (const [re, words] of DETAILS) {
    const m = re.exec(e.detail || '');
    if (m) return words(m);
  }
  return e.detail || null;
}

// One device's history: an ordered list, the newest last.
function historyView(dev) {
  return [
    details([
      [t('rollouts.batch'), t('rollouts.batchN', { n: dev.batch })],
      [t('tasks.state'), stateBadge(dev.state, null)],
      [t('rollouts.attempts'), String(dev.attempts)],
      [t('ota.fromVersion'), dev.fromVersion || '—'],
    ]),
    dev.history.length
      ? h(
          'ol',
          { class: 'history', 'aria-label': t('rollouts.historyOf', { name: dev.deviceName }) },
          dev.history.map((e) =>
            h(
              'li',
              { class: `history-event ev-${e.state}`, dataset: { state: e.state } },
              h('time', { class: 'history-time', datetime: e.at }, fmtTime(e.at)),
              stateBadge(e.state, null),
              h('span', { class: 'history-detail' }, eventDetail(e)),
            ),
          ),
        )
      : h('p', { class: 'muted' }, t('rollouts.noHistory')),
  ];
}

// A batch of the timeline: number, status (a batch still waiting when the
// rollout ended never ran), counts and its bar.
function batchBlock(r, b) {
  const pct = (n) => (b.size ? `${(n / b.size) * 100}%` : '0');
  const status = b.status === 'waiting' && ENDED.includes(r.status) ? 'skipped' : b.status;
  const finished = b.succeeded + b.failed;
  return h(
    'li',
    { class: `batch batch-${b.status}`, dataset: { batch: b.batch, batchStatus: b.status }, 'aria-current': b.batch === r.currentBatch && b.status === 'running' ? 'step' : null },
    h('div', { class: 'batch-head' }, h('strong', { class: 'batch-title' }, t('rollouts.batchN', { n: b.batch })), h('span', { class: `badge bstatus-${status}` }, t(`rollouts.batchStatus.${status}`))),
    h('p', { class: 'batch-size' }, t('rollouts.batchSize', { given: r.batches[b.batch - 1] || '', n: b.size })),
    h(
      'ul',
      { class: 'batch-counts' },
      [['succeeded', b.succeeded], ['failed', b.failed], ['open', b.open]].map(([k, n]) => h('li', { class: `bcount bcount-${k}` }, h('span', { class: 'bcount-n', dataset: { count: k } }, String(n)), ' ', t(`rollouts.count.${k}`))),
    ),
    h(
      'div',
      { class: 'bar', role: 'progressbar', 'aria-label': t('rollouts.batchProgress', { n: b.batch }), 'aria-valuemin': 0, 'aria-valuemax': b.size, 'aria-valuenow': finished, 'aria-valuetext': `${finished}/${b.size}` },
      h('span', { class: 'bar-seg seg-succeeded', style: `width:${pct(b.succeeded)}` }),
      h('span', { class: 'bar-seg seg-failed', style: `width:${pct(b.failed)}` }),
    ),
  );
}

function targetWords(r, groupName) {
  if (r.targetType === 'group' && r.groupId) return [t('rollouts.target.group'), ': ', h('a', { href: `#/groups/${enc(r.groupId)}` }, groupName || r.groupId)];
  return t(`rollouts.target.${r.targetType}`);
}

function infoView(r, groupName, payloadName) {
  const seconds = (n) => (n ? t('rollouts.seconds', { n }) : t('ota.noTimeout'));
  return section(
    t('rollouts.info'),
    details([
      [t('rollouts.id'), h('code', { class: 'mono' }, r.rolloutId)],
      [t('rollouts.kind'), t(`rollouts.kind.${r.kind}`)],
      ['ProductKey', h('a', { class: 'mono', href: `#/products/${enc(r.productKey)}` }, r.productKey)],
      r.kind === 'firmware'
        ? [t('rollouts.firmware'), [h('a', { href: `#/ota?productKey=${enc(r.productKey)}` }, payloadName || r.firmwareId), ' ', h('code', { class: 'mono' }, `(${payloadText(r)})`)]]
        : [t('rollouts.app'), [h('a', { href: `#/apps/${enc(r.appId)}` }, payloadName || r.appId), ' ', h('code', { class: 'mono' }, `(${payloadText(r)})`)]],
      [t('rollouts.target'), targetWords(r, groupName)],
      [t('ota.srcVersionsCol'), versionsText(r.srcVersions) || t('ota.anyVersion')],
      [t('rollouts.dynamicCol'), r.dynamic ? t('rollouts.yes') : t('rollouts.no')],
      [t('rollouts.batches'), r.batches.join(', ')],
      [t('rollouts.thresholds'), t('rollouts.thresholdsText', { success: r.successPercent, error: r.errorPercent })],
      [t('rollouts.startAtCol'), fmtTime(r.startAt)],
      [t('rollouts.rateCol'), r.ratePerMinute ? t('rollouts.perMinute', { n: r.ratePerMinute }) : t('rollouts.noLimit')],
      [t('rollouts.timeoutCol'), seconds(r.timeoutSeconds)],
      [t('rollouts.retriesCol'), r.maxRetries ? t('rollouts.retriesText', { n: r.maxRetries, s: r.retrySeconds }) : t('rollouts.noRetries')],
      [t('common.createdAt'), fmtTime(r.createdAt)],
      r.endedAt ? [t('ota.endedAt'), fmtTime(r.endedAt)] : null,
    ]),
  );
}

export function mount(main, [rolloutId]) {
  const path = `/rollouts/${enc(rolloutId)}`;
  const head = h('div');
  const loadErr = alertArea();
  const banner = h('div', { class: 'alert alert-warn pause-banner', role: 'status', hidden: true });
  const statusLine = h('p', { class: 'rollout-status' });
  const actErr = alertArea();
  const progress = h('div');
  const timeline = h('div');
  const devices = h('div', { class: 'list' });
  const legend = h('div');
  const info = h('div');
  let rollout = null;
  let busy = false;
  // The rollout names its group and firmware or app by id: their names asked once.
  let groupName = null;
  let payloadName = null;
  let gone = false;
  const poll = poller(() => refresh(), ROLLOUT_POLL_MS);

  // -- 暂停 / 继续 / 取消发布 --
  const buttons = {
    pause: h('button', { type: 'button', class: 'btn', disabled: true, dataset: { action: 'pause' } }, t('rollouts.pause')),
    resume: h('button', { type: 'button', class: 'btn btn-primary', disabled: true, dataset: { action: 'resume' } }, t('rollouts.resume')),
    cancel: h('button', { type: 'button', class: 'btn btn-danger', disabled: true, dataset: { action: 'cancel' } }, t('rollouts.cancel')),
  };
  const allowed = {
    pause: (s) => s === 'running' || s === 'scheduled',
    resume: (s) => s === 'paused',
    cancel: (s) => !ENDED.includes(s),
  };
  const setButtons = () => {
    for (const [k, b] of Object.entries(buttons)) b.disabled = busy || !rollout || !allowed[k](rollout.status);
  };
  for (const [k, b] of Object.entries(buttons)) {
    b.addEventListener('click', async () => {
      if (busy || (k === 'cancel' && !confirmAction(t('rollouts.confirmCancel')))) return;
      busy = true;
      setButtons();
      showError(actErr, null);
      try {
        await api.post(`${path}/${k}`);
        toast(t(`rollouts.${k}Done`));
        busy = false;
        await refresh();
      } catch (e) {
        showError(actErr, e);
      } finally {
        busy = false;
        setButtons();
      }
    });
  }

  // -- a device's history, in a dialog that follows it live --
  const historyTitle = h('h2', { id: 'history-dialog-title' });
  const historyBody = h('div', { class: 'history-body' });
  const historyErr = alertArea();
  const historyClose = h('button', { type: 'button', class: 'btn', onclick: () => historyDialog.close() }, t('rollouts.close'));
  const historyDialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'history-dialog-title' }, historyTitle, historyErr, historyBody, h('div', { class: 'form-actions' }, historyClose));
  let shown = null; // {productKey, deviceName} in the dialog
  let opener = ''; // the data-key of the button that opened it
  historyDialog.addEventListener('close', () => {
    shown = null;
    const again = opener && devices.querySelector(`[data-key="${CSS.escape(opener)}"]`);
    if (again) again.focus();
  });

  async function loadHistory() {
    if (!shown) return;
    const { productKey, deviceName } = shown;
    const dev = await loaded(historyErr, api.get(`${path}/devices/${enc(productKey)}/${enc(deviceName)}`));
    if (dev && shown && shown.deviceName === deviceName && shown.productKey === productKey) renderIfChanged(historyBody, dev, historyView);
  }

  async function openHistory(d, button) {
    shown = { productKey: d.productKey, deviceName: d.deviceName };
    opener = button.dataset.key;
    historyTitle.textContent = t('rollouts.historyTitle', { name: d.deviceName });
    showError(historyErr, null);
    renderIfChanged(historyBody, null, () => h('p', { class: 'muted' }, t('common.loading')));
    historyDialog.showModal();
    historyClose.focus();
    await loadHistory();
  }

  // The device table's filters: a batch, a state (with its count).
  const batchFilter = field({ label: t('rollouts.filterBatch'), name: 'batch', as: 'select' });
  const stateFilter = field({ label: t('rollouts.filterState'), name: 'state', as: 'select' });
  const shownCount = h('p', { class: 'hint', role: 'status' });
  for (const f of [batchFilter, stateFilter]) f.input.addEventListener('change', () => rollout && drawDevices(rollout));

  main.append(
    head,
    loadErr,
    banner,
    section(t('rollouts.progressTitle'), statusLine, h('p', { class: 'hint' }, t('rollouts.actionsHint')), h('div', { class: 'form-actions' }, buttons.pause, buttons.resume, buttons.cancel), actErr, progress),
    section(t('rollouts.batchesTitle'), timeline),
    section(t('rollouts.devices'), h('div', { class: 'toolbar' }, batchFilter.el, stateFilter.el), shownCount, devices, legend),
    info,
    historyDialog,
  );

  function drawDevices(r) {
    const all = r.devices || [];
    selectOptions(batchFilter.input, r.batchList || [], t('rollouts.allBatches'), (b) => String(b.batch), (b) => t('rollouts.batchN', { n: b.batch }));
    selectOptions(stateFilter.input, STATES.filter((st) => r.counts[st]), t('rollouts.allStates'), (st) => st, (st) => `${t(`state.${st}`)} (${r.counts[st]})`);
    const batch = Number(batchFilter.input.value) || 0;
    const state = stateFilter.input.value;
    const rows = all.filter((d) => (!batch || d.batch === batch) && (!state || d.state === state));
    shownCount.textContent = rows.length === all.length ? '' : t('rollouts.shown', { n: rows.length, total: all.length });
    renderIfChanged(devices, [rows, r.maxRetries, r.timeoutSeconds, r.status], () =>
      table(
        [
          { label: 'DeviceName', class: 'mono', cell: (d) => h('a', { href: `#/products/${enc(d.productKey)}/devices/${enc(d.deviceName)}` }, d.deviceName) },
          { label: t('rollouts.batch'), class: 'num', cell: (d) => h('span', { dataset: { field: 'batch' } }, String(d.batch)) },
          { label: t('devices.status'), cell: (d) => statusBadge(d.deviceStatus) },
          { label: t('tasks.state'), cell: (d) => stateBadge(d.state, null) },
          { label: t('rollouts.attempts'), class: 'num', cell: (d) => h('span', { dataset: { field: 'attempts' } }, String(d.attempts)) },
          { label: t('ota.progress'), cell: (d) => deviceProgress(d.progress, t('ota.progressOf', { name: d.deviceName })) },
          { label: t('rollouts.note'), cell: (d) => noteCell(r, d) },
          { label: t('ota.fromVersion'), class: 'mono', cell: (d) => d.fromVersion || '—' },
          { label: t('ota.updatedAt'), cell: (d) => fmtTime(d.updatedAt) },
          {
            label: t('common.actions'),
            class: 'actions',
            cell: (d) => {
              const b = h('button', { type: 'button', class: 'btn btn-small', dataset: { key: `history-${d.productKey}/${d.deviceName}`, action: 'history' }, 'aria-label': t('rollouts.historyOf', { name: d.deviceName }) }, t('rollouts.history'));
              b.addEventListener('click', () => openHistory(d, b));
              return b;
            },
          },
        ],
        rows,
        { empty: all.length ? t('rollouts.noneShown') : t('rollouts.noDevices'), rowKey: (d) => `${d.productKey}/${d.deviceName}` },
      ),
    );
  }

  async function refresh() {
    const r = await loaded(loadErr, api.get(path));
    if (gone) return;
    if (!r) {
      poll.again(rollout && !ENDED.includes(rollout.status));
      return;
    }
    rollout = r;
    if (groupName == null && r.targetType === 'group' && r.groupId) {
      groupName = await api.get(`/groups/${enc(r.groupId)}`).then((g) => g.name, () => r.groupId);
    }
    if (payloadName == null) {
      payloadName =
        r.kind === 'firmware'
          ? await api.get(`/firmwares/${enc(r.firmwareId)}`).then((f) => f.name, () => r.firmwareId)
          : await api.get(`/apps/${enc(r.appId)}`).then((a) => a.appName, () => r.appId);
    }
    renderIfChanged(head, [rolloutName(r)], () => pageHeader(t('rollouts.titleOf', { name: rolloutName(r) }), [{ href: '#/rollouts', label: t('rollouts.title') }]));
    renderIfChanged(banner, [r.status, r.pauseReason], () => (r.status === 'paused' ? [h('strong', null, t('rollouts.pausedBanner')), ' ', h('span', { class: 'pause-reason' }, pauseReasonText(r.pauseReason) || '—'), h('p', { class: 'hint' }, t(r.pauseReason === 'paused by hand' ? 'rollouts.pausedHandHint' : 'rollouts.pausedHint'))] : []));
    banner.hidden = r.status !== 'paused';
    renderIfChanged(statusLine, [r.status, r.currentBatch, r.batches.length, r.startAt], () => [
      rolloutStatusBadge(r.status),
      ' ',
      r.status === 'scheduled'
        ? t('rollouts.startsAt', { time: fmtTime(r.startAt) })
        : r.currentBatch
          ? t('rollouts.currentBatch', { n: r.currentBatch, count: r.batches.length })
          : t('rollouts.notStarted'),
    ]);
    setButtons();
    renderIfChanged(progress, r.counts, progressView);
    renderIfChanged(timeline, [r.batchList, r.currentBatch, r.batches, r.status], () => h('ol', { class: 'batch-timeline', 'aria-label': t('rollouts.batchesTitle') }, (r.batchList || []).map((b) => batchBlock(r, b))));
    drawDevices(r);
    renderIfChanged(legend, r.kind, (kind) => h('dl', { class: 'legend' }, (CODES[kind] || []).map((code) => h('div', null, h('dt', null, codeText(code)), h('dd', null, t(`code.${code}.long`))))));
    renderIfChanged(info, [r, groupName, payloadName], () => infoView(r, groupName, payloadName));
    await loadHistory();
    poll.again(!ENDED.includes(r.status));
  }

  refresh();
  return {
    refresh,
    unmount() {
      gone = true;
      poll.stop();
      if (historyDialog.open) historyDialog.close();
    },
  };
}
