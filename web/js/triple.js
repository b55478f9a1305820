// triple.js — the device triple (设备证书: ProductKey, DeviceName,
// DeviceSecret), each with a copy button, and the main.py lines to copy.
import { h, copyButton } from './dom.js';
import { details } from './layout.js';
import { tripleSnippet } from './export.js';

function tripleRows(d) {
  return [
    ['ProductKey', d.productKey],
    ['DeviceName', d.deviceName],
    ['DeviceSecret', d.deviceSecret],
  ].map(([k, v]) => [k, h('span', { class: 'triple-value' }, h('code', { class: 'mono', dataset: { field: k } }, v), ' ', copyButton(v, 'common.copy', k))]);
}

export function tripleBlock(d) {
  return h(
    'div',
    { class: 'triple' },
    details(tripleRows(d)),
    h('div', { class: 'form-actions' }, copyButton(tripleSnippet(d), 'devices.copyTriple')),
  );
}
