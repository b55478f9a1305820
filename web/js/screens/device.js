// screens/device.js — one device (设备详情): its triple (设备证书) with copy
// buttons, live status, last-seen time, reported versions and its messages.
import { api, enc } from '../api.js';
import { h, fmtTime, renderIfChanged } from '../dom.js';
import { t } from '../i18n.js';
import { alertArea } from '../forms.js';
import { loaded } from '../errors.js';
import { pageHeader, section, statusBadge, appsText, details } from '../layout.js';
import { messageLog } from '../msglog.js';
import { tripleBlock } from '../triple.js';
import { go } from '../router.js';
import { confirmDelete } from '../paged_list.js';

export function mount(main, [pk, dn]) {
  const path = `/products/${enc(pk)}/devices/${enc(dn)}`;
  const head = h('div');
  const loadErr = alertArea();
  const triple = h('div');
  const info = h('div');
  const log = messageLog(`productKey=${enc(pk)}&deviceName=${enc(dn)}`);
  let productName = pk;

  main.append(
    head,
    loadErr,
    section(t('device.certificate'), h('p', { class: 'hint' }, t('devices.tripleNote')), triple),
    section(t('device.info'), info),
    section(t('msg.title'), log.el),
  );

  const remove = () => confirmDelete(t('devices.confirmDelete', { name: dn }), path, loadErr, () => go(`#/products/${enc(pk)}`));

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
        { href: '#/products', label: t('products.title') },
        { href: `#/products/${enc(pk)}`, label: productName },
      ], [h('button', { type: 'button', class: 'btn btn-danger', onclick: remove }, t('devices.delete'))]),
    );
    renderIfChanged(triple, [d.productKey, d.deviceName, d.deviceSecret], () => tripleBlock(d));
    renderIfChanged(info, d, () =>
      details([
        [t('devices.status'), statusBadge(d.status)],
        [t('devices.lastOnline'), fmtTime(d.lastOnlineAt)],
        ['IP', d.ip || '—'],
        [t('devices.apps'), appsText(d.apps)],
        [t('device.firmware'), d.firmwareVersion || '—'],
        [t('device.deviceInfo'), d.deviceInfo ? h('code', { class: 'mono wrap' }, d.deviceInfo) : '—'],
        [t('common.createdAt'), fmtTime(d.createdAt)],
      ]),
    );
    await log.poll();
  }

  refresh();
  return { refresh };
}
