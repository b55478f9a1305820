// screens/task.js — one test task (推送升级): push and re-push, live
// per-device states with counts and a progress bar, failure codes and
// timeouts in words, the task's timeline (every message, download, fault
// and state change, in order) and the live log of its MQTT messages. Each
// poll reads the task without its devices (?devices=false: the counts come
// from kept aggregates) and one page of its devices (/devices), so that a
// task of 100,000 devices costs the same to watch as one of ten.
import { api, enc } from '../api.js';
import { h, fmtTime, renderIfChanged } from '../dom.js';
import { t } from '../i18n.js';
import { alertArea } from '../forms.js';
import { showError, loaded } from '../errors.js';
import { table, createPager } from '../table.js';
import { pageHeader, section, statusBadge, stateBadge, details, codeText } from '../layout.js';
import { messageLog } from '../msglog.js';
import { countsView } from '../progress.js';
import { timelineView } from '../timeline.js';

const STATES = ['succeeded', 'failed', 'timedOut', 'upToDate', 'pushed', 'offline', 'pending'];
const DONE = ['succeeded', 'failed', 'timedOut', 'upToDate'];
const progressView = (c) => countsView(c, { states: STATES, done: DONE, moving: ['pushed'] });

// The task's timeout: "30 s", none, or the server's default (--task-timeout).
function timeoutWords(seconds) {
  if (seconds == null) return t('tasks.timeoutDefault');
  return seconds ? t('rollouts.seconds', { n: seconds }) : t('tasks.noTimeout');
}

// Why a device is timed out, and what to do.
function timedOutWords(seconds) {
  return seconds ? t('tasks.timedOutAfter', { n: seconds }) : t('tasks.timedOutNote');
}

export function mount(main, [taskId]) {
  const path = `/tasks/${enc(taskId)}`;
  const head = h('div');
  const loadErr = alertArea();
  const subtitle = h('p', { class: 'subtitle' });
  const info = h('div');
  const pushBtn = h('button', { type: 'button', class: 'btn btn-primary btn-push', disabled: true }, t('tasks.push'));
  const pushResult = h('p', { class: 'push-result', role: 'status' });
  const pushErr = alertArea();
  const progress = h('div');
  const devices = h('div', { class: 'list' });
  const pager = createPager(() => refresh());
  const log = messageLog(`taskId=${enc(taskId)}`);
  const timeline = timelineView(path, { label: t('timeline.title'), showDevice: true });
  const legend = h(
    'dl',
    { class: 'legend' },
    [404, 405].map((code) => h('div', null, h('dt', null, codeText(code)), h('dd', null, t(`code.${code}.long`)))),
  );

  let pushing = false;
  pushBtn.addEventListener('click', async () => {
    if (pushing) return;
    pushing = true;
    pushBtn.disabled = true;
    showError(pushErr, null);
    try {
      const r = await api.post(`${path}/push`);
      const text = t('tasks.pushResult', { pushed: r.pushed, offline: r.offline, upToDate: r.upToDate }) + (r.notSent ? ` ${t('tasks.notSent', { n: r.notSent })}` : '');
      pushResult.textContent = text;
      await refresh();
    } catch (e) {
      showError(pushErr, e);
    } finally {
      pushing = false;
      pushBtn.disabled = false;
    }
  });

  main.append(
    head,
    subtitle,
    loadErr,
    section(t('tasks.pushTitle'), h('p', { class: 'hint' }, t('tasks.pushHint')), h('div', { class: 'form-actions' }, pushBtn), pushResult, pushErr, progress),
    section(t('tasks.devices'), devices, pager.el, legend),
    section(t('timeline.title'), timeline.el),
    section(t('msg.title'), log.el),
    info,
  );

  async function refresh() {
    const [task, page] = await loaded(loadErr, Promise.all([api.get(`${path}?devices=false`), api.get(`${path}/devices?${pager.query()}`)])) || [];
    if (!task || !page) return;
    pager.update(page.total);
    renderIfChanged(head, [task.appName, task.version], () =>
      pageHeader(t('tasks.titleOf', { app: task.appName, version: task.version }), [
        { href: '#/tasks', label: t('tasks.title') },
        { href: `#/apps/${enc(task.appId)}`, label: task.appName },
      ]),
    );
    renderIfChanged(subtitle, [task.groupId, task.groupName], () => [
      `${t('tasks.group')}: `,
      h('a', { href: `#/groups/${enc(task.groupId)}` }, task.groupName),
    ]);
    pushBtn.textContent = task.pushCount ? t('tasks.repush') : t('tasks.push');
    pushBtn.disabled = pushing;
    renderIfChanged(info, task, (k) =>
      section(
        t('tasks.info'),
        details([
          [t('tasks.task'), h('code', { class: 'mono' }, k.taskId)],
          [t('tasks.app'), h('a', { href: `#/apps/${enc(k.appId)}` }, `${k.appName} (${k.appId})`)],
          [t('versions.version'), h('code', { class: 'mono' }, k.version)],
          [t('tasks.group'), h('a', { href: `#/groups/${enc(k.groupId)}` }, k.groupName)],
          [t('common.createdAt'), fmtTime(k.createdAt)],
          [t('tasks.pushedAt'), fmtTime(k.pushedAt)],
          [t('tasks.pushCount'), String(k.pushCount)],
          [t('tasks.timeout'), h('span', { dataset: { field: 'timeout' } }, timeoutWords(k.timeoutSeconds))],
        ]),
      ),
    );
    renderIfChanged(progress, task.counts, progressView);
    renderIfChanged(devices, [page.items, task.timeoutSeconds], ([items]) =>
      table(
        [
          { label: 'DeviceName', class: 'mono', cell: (d) => h('a', { href: `#/products/${enc(d.productKey)}/devices/${enc(d.deviceName)}` }, d.deviceName) },
          { label: 'ProductKey', class: 'mono', cell: (d) => d.productKey },
          { label: t('devices.status'), cell: (d) => statusBadge(d.deviceStatus) },
          { label: t('tasks.state'), cell: (d) => stateBadge(d.state, d.code) },
          { label: t('rollouts.note'), cell: (d) => (d.state === 'timedOut' ? h('span', { class: 'note timeout-note' }, timedOutWords(task.timeoutSeconds)) : '—') },
          { label: t('tasks.updatedAt'), cell: (d) => fmtTime(d.updatedAt) },
        ],
        items,
        { empty: t('tasks.noDevices'), rowKey: (d) => `${d.productKey}/${d.deviceName}` },
      ),
    );
    await Promise.all([log.poll(), timeline.poll()]);
  }

  refresh();
  return { refresh, unmount: () => timeline.stop() };
}
