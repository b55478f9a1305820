// screens/ota_job.js — one firmware upgrade job (升级批次): what it sends to
// whom, live counts and the bar of finished devices, a live per-device table
// (online status, state, a progress bar while downloading, the failure code
// in words, the version it came from, when it was pushed and last changed)
// and 取消升级.
import { api, enc } from '../api.js';
import { h, fmtTime, renderIfChanged, toast, confirmAction } from '../dom.js';
import { t } from '../i18n.js';
import { alertArea } from '../forms.js';
import { showError, loaded } from '../errors.js';
import { table } from '../table.js';
import { pageHeader, section, statusBadge, stateBadge, details, codeText, failureWords } from '../layout.js';
import { countsView, deviceProgress } from '../progress.js';
import { jobStatusBadge, targetText, versionsText } from './ota.js';

const STATES = ['succeeded', 'failed', 'timedOut', 'canceled', 'downloading', 'pushed', 'queued'];
const DONE = ['succeeded', 'failed', 'timedOut', 'canceled'];
const CODES = [-1, -2, -3, -4];
const progressView = (c) => countsView(c, { states: STATES, done: DONE, moving: ['downloading', 'pushed'] });
const progressCell = (d) => deviceProgress(d.progress, t('ota.progressOf', { name: d.deviceName }));

const SUPERSEDED = /^superseded by job (\S+)/;

// Why a device did not succeed: a failure's code in words and the device's
// description; a timeout; a cancel by a newer job for the device (haas-emu's
// plain "job canceled" needs no words: the state says it).
function reasonCell(d) {
  if (d.state === 'timedOut') return h('span', { class: 'fail-reason' }, t('ota.timedOutReason'));
  const newer = d.state === 'canceled' && SUPERSEDED.exec(d.reason || '');
  if (newer) return h('span', null, t('ota.superseded'), ' ', h('a', { class: 'mono', href: `#/ota/jobs/${enc(newer[1])}` }, newer[1]));
  if (d.state !== 'failed' || (d.code == null && !d.reason)) return '—';
  return failureWords(d.code, d.reason);
}

function infoView(j) {
  const productHref = `#/ota?productKey=${enc(j.productKey)}`;
  const target =
    j.targetType === 'group' && j.groupId
      ? [targetText(j), ': ', h('a', { href: `#/groups/${enc(j.groupId)}` }, j.groupName || j.groupId)]
      : targetText(j);
  return section(
    t('ota.jobInfo'),
    details([
      [t('ota.job'), h('code', { class: 'mono' }, j.jobId)],
      [t('ota.jobStatus'), jobStatusBadge(j.status)],
      ['ProductKey', h('a', { class: 'mono', href: productHref }, j.productKey)],
      [t('ota.firmware'), [j.firmwareName, ' ', h('code', { class: 'mono' }, `(${j.firmwareId})`)]],
      [t('ota.version'), h('code', { class: 'mono' }, j.version)],
      [t('ota.module'), h('code', { class: 'mono' }, j.moduleName)],
      [t('ota.target'), target],
      j.targetType !== 'devices' ? [t('ota.srcVersionsCol'), versionsText(j.srcVersions) || t('ota.anyVersion')] : null,
      [t('ota.timeoutMinutes'), j.timeoutMinutes ? t('ota.minutes', { n: j.timeoutMinutes }) : t('ota.noTimeout')],
      [t('common.createdAt'), fmtTime(j.createdAt)],
      j.endedAt ? [t('ota.endedAt'), fmtTime(j.endedAt)] : null,
    ]),
  );
}

export function mount(main, [jobId]) {
  const path = `/ota/jobs/${enc(jobId)}`;
  const head = h('div');
  const loadErr = alertArea();
  const cancelErr = alertArea();
  const info = h('div');
  const progress = h('div');
  const devices = h('div', { class: 'list' });
  const legend = h(
    'dl',
    { class: 'legend' },
    CODES.map((code) => h('div', null, h('dt', null, codeText(code)), h('dd', null, t(`code.${code}.long`)))),
  );
  const cancelBtn = h('button', { type: 'button', class: 'btn btn-danger', disabled: true, dataset: { action: 'cancel' } }, t('ota.cancel'));
  let job = null;
  let cancelling = false;
  // The job names its firmware and group by id: their names asked once.
  let firmwareName = null;
  let groupName = null;

  cancelBtn.addEventListener('click', async () => {
    if (cancelling || !confirmAction(t('ota.confirmCancel'))) return;
    cancelling = true;
    cancelBtn.disabled = true;
    showError(cancelErr, null);
    try {
      await api.post(`${path}/cancel`);
      toast(t('ota.canceledToast'));
      await refresh();
    } catch (e) {
      showError(cancelErr, e);
    } finally {
      cancelling = false;
      cancelBtn.disabled = !job || job.status !== 'inProgress';
    }
  });

  main.append(
    head,
    loadErr,
    section(t('ota.progressTitle'), h('p', { class: 'hint' }, t('ota.cancelHint')), h('div', { class: 'form-actions' }, cancelBtn), cancelErr, progress),
    section(t('ota.devices'), devices, legend),
    info,
  );

  async function refresh() {
    const j = await loaded(loadErr, api.get(path));
    if (!j) return;
    job = j;
    if (firmwareName == null) {
      firmwareName = await api.get(`/firmwares/${enc(j.firmwareId)}`).then((f) => f.name, () => j.firmwareId);
    }
    if (groupName == null && j.targetType === 'group' && j.groupId) {
      groupName = await api.get(`/groups/${enc(j.groupId)}`).then((g) => g.name, () => j.groupId);
    }
    j.firmwareName = firmwareName;
    j.groupName = groupName;
    renderIfChanged(head, [firmwareName, j.version, j.productKey], () =>
      pageHeader(t('ota.jobTitle', { name: firmwareName, version: j.version }), [
        { href: `#/ota?productKey=${enc(j.productKey)}`, label: t('ota.title') },
      ]),
    );
    cancelBtn.disabled = cancelling || j.status !== 'inProgress';
    renderIfChanged(info, j, infoView);
    renderIfChanged(progress, j.counts, progressView);
    renderIfChanged(devices, j.devices || [], (items) =>
      table(
        [
          { label: 'DeviceName', class: 'mono', cell: (d) => h('a', { href: `#/products/${enc(d.productKey)}/devices/${enc(d.deviceName)}` }, d.deviceName) },
          { label: t('devices.status'), cell: (d) => statusBadge(d.deviceStatus) },
          // The code is in words in the failure column.
          { label: t('tasks.state'), cell: (d) => stateBadge(d.state, null) },
          { label: t('ota.progress'), cell: progressCell },
          { label: t('ota.reason'), cell: reasonCell },
          { label: t('ota.fromVersion'), class: 'mono', cell: (d) => d.fromVersion || '—' },
          { label: t('tasks.pushedAt'), cell: (d) => fmtTime(d.pushedAt) },
          { label: t('ota.updatedAt'), cell: (d) => fmtTime(d.updatedAt) },
        ],
        items,
        { empty: t('ota.noJobDevices'), rowKey: (d) => `${d.productKey}/${d.deviceName}` },
      ),
    );
  }

  refresh();
  return { refresh };
}
