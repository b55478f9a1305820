// screens/device.js — one device (设备详情): its triple (设备证书) with copy
// buttons, why the MQTT broker last refused its login (when it did), live
// status, last-seen time, reported app versions and firmware versions per
// OTA module, where a device connects (host, ports, the local CA
// certificate), its timeline (messages, downloads, faults, state changes
// in order) and its messages.
import { api, enc } from '../api.js';
import { h, fmtTime, renderIfChanged, copyButton } from '../dom.js';
import { t, has } from '../i18n.js';
import { alertArea } from '../forms.js';
import { loaded } from '../errors.js';
import { pageHeader, section, statusBadge, appsText, modulesText, details } from '../layout.js';
import { messageLog } from '../msglog.js';
import { timelineView } from '../timeline.js';
import { tripleBlock } from '../triple.js';
import { go } from '../router.js';
import { confirmDelete } from '../paged_list.js';

// The refusal's cause in the user's language; the server's words otherwise.
function refusalSentence(r) {
  return r.code && has(`refusal.${r.code}`) ? t(`refusal.${r.code}`) : r.reason || r.code || '—';
}

// True when the device logged in successfully after it was refused.
function refusedBeforeLogin(d) {
  const online = d.lastOnlineAt ? Date.parse(d.lastOnlineAt) : NaN;
  return Number.isFinite(online) && Number.isFinite(d.lastRefusal.time) && online > d.lastRefusal.time;
}

const mono = (text) => h('code', { class: 'mono' }, text);

// The alert-style block: what was refused, why, when, from where, as whom.
function refusalBlock(d) {
  const r = d.lastRefusal;
  const earlier = refusedBeforeLogin(d);
  return [
    h('p', { class: 'refusal-title' }, h('strong', null, t('refusal.title')), earlier ? ` ${t('refusal.earlier')}` : null),
    h('p', { class: 'refusal-reason', dataset: { code: r.code || '' } }, refusalSentence(r)),
    r.reason ? h('p', { class: 'error-detail' }, `${t('err.server')}: ${r.reason}${r.code ? ` [${r.code}]` : ''}`) : null,
    details([
      [t('refusal.time'), fmtTime(r.time)],
      [t('refusal.clientIp'), r.clientIp ? mono(r.clientIp) : '—'],
      [t('refusal.clientId'), r.clientId ? h('code', { class: 'mono wrap', dataset: { field: 'clientId' } }, r.clientId) : '—'],
    ]),
  ];
}

// The info table's line for the refusal.
function refusalSummary(d) {
  const r = d.lastRefusal;
  const earlier = refusedBeforeLogin(d) ? ` ${t('refusal.earlier')}` : '';
  return `${fmtTime(r.time)}: ${refusalSentence(r)}${earlier}`;
}

// Where a device connects: this host (as the browser reached it) and the
// ports of GET /api/v1, with the local CA certificate for TLS.
function connectBlock(service) {
  const ep = (service && service.endpoints) || {};
  const host = location.hostname;
  const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i.test(host);
  const withCopy = (text, what) => h('span', { class: 'triple-value' }, mono(text), ' ', copyButton(text, 'common.copy', what));
  const rows = [];
  if (ep.mqttPort != null) {
    rows.push([t('connect.host'), withCopy(host, t('connect.host'))]);
    rows.push([t('connect.mqttPort'), mono(String(ep.mqttPort))]);
  } else if (ep.externalBroker) {
    rows.push([t('connect.externalBroker'), withCopy(ep.externalBroker, t('connect.externalBroker'))]);
  }
  if (ep.mqttsPort != null) rows.push([t('connect.mqttsPort'), mono(String(ep.mqttsPort))]);
  if (ep.httpsPort != null) rows.push([t('connect.httpsPort'), mono(String(ep.httpsPort))]);
  return [
    h('p', { class: 'hint' }, t('connect.hint')),
    loopback && ep.mqttPort != null ? h('p', { class: 'hint' }, t('connect.loopback')) : null,
    details(rows),
    ep.caPem
      ? h(
          'div',
          { class: 'form-actions connect-ca' },
          h('a', { class: 'btn', href: ep.caPem, download: 'haas-emu-ca.pem' }, t('connect.downloadCa')),
          h('span', { class: 'hint' }, t('connect.caHint')),
        )
      : null,
  ];
}

export function mount(main, [pk, dn]) {
  const path = `/products/${enc(pk)}/devices/${enc(dn)}`;
  const head = h('div');
  const loadErr = alertArea();
  const delErr = alertArea(); // loaded() clears loadErr at every refresh
  const refusal = h('div', { class: 'alert alert-warn refusal', role: 'alert', hidden: true });
  const triple = h('div');
  const info = h('div');
  const connectErr = alertArea();
  const connect = h('div');
  const log = messageLog(`productKey=${enc(pk)}&deviceName=${enc(dn)}`);
  const timeline = timelineView(path, { label: t('timeline.title') });
  let productName = pk;
  let service = null; // GET /api/v1, asked once per page (again only if it failed)

  main.append(
    head,
    loadErr,
    delErr,
    refusal,
    section(t('device.certificate'), h('p', { class: 'hint' }, t('devices.tripleNote')), triple),
    section(t('device.info'), info),
    section(t('connect.title'), connectErr, connect),
    section(t('timeline.title'), timeline.el),
    section(t('msg.title'), log.el),
  );

  const remove = () => confirmDelete(t('devices.confirmDelete', { name: dn }), path, delErr, () => go(`#/products/${enc(pk)}`));

  async function refresh() {
    const both = await loaded(
      loadErr,
      Promise.all([
        api.get(path),
        productName === pk ? api.get(`/products/${enc(pk)}`).then((p) => { productName = p.name; }) : null,
      ]),
    );
    if (!both) return;
    const [d] = both;
    renderIfChanged(head, productName, () =>
      pageHeader(dn, [
        { href: '#/devices', label: t('devices.title') },
        { href: `#/products/${enc(pk)}`, label: productName },
      ], [h('button', { type: 'button', class: 'btn btn-danger', onclick: remove }, t('devices.delete'))]),
    );
    renderIfChanged(refusal, [d.lastRefusal, d.lastOnlineAt], () => (d.lastRefusal ? refusalBlock(d) : []));
    refusal.hidden = !d.lastRefusal;
    renderIfChanged(triple, [d.productKey, d.deviceName, d.deviceSecret], () => tripleBlock(d));
    renderIfChanged(info, d, () =>
      details([
        [t('devices.status'), statusBadge(d.status)],
        [t('devices.lastOnline'), fmtTime(d.lastOnlineAt)],
        d.lastRefusal ? [t('refusal.row'), h('span', { class: 'refusal-summary' }, refusalSummary(d))] : null,
        ['IP', d.ip || '—'],
        [t('devices.apps'), appsText(d.apps)],
        [t('device.firmware'), d.firmwareVersion || '—'],
        [t('device.modules'), h('span', { class: 'mono', dataset: { field: 'modules' } }, modulesText(d.modules))],
        [t('device.deviceInfo'), d.deviceInfo ? h('code', { class: 'mono wrap' }, d.deviceInfo) : '—'],
        [t('common.createdAt'), fmtTime(d.createdAt)],
      ]),
    );
    if (!service) {
      service = await loaded(connectErr, api.get(''));
      if (service) renderIfChanged(connect, service.endpoints, () => connectBlock(service));
    }
    await Promise.all([log.poll(), timeline.poll()]);
  }

  refresh();
  return { refresh, unmount: () => timeline.stop() };
}
