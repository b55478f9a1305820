// export.js — devices as text: the CSV download of a product's devices and
// the device triple as the lines the tutorial puts into main.py.

function cell(v) {
  const s = v == null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function devicesCsv(devices) {
  const head = ['ProductKey', 'DeviceName', 'DeviceSecret', 'Status', 'LastOnlineAt', 'IP', 'Apps'];
  const rows = devices.map((d) => [
    d.productKey,
    d.deviceName,
    d.deviceSecret,
    d.status,
    d.lastOnlineAt,
    d.ip,
    (d.apps || []).map((a) => `${a.appId}:${a.version}`).join(' '),
  ]);
  // The byte order mark lets spreadsheet programs read the file as UTF-8.
  return '\ufeff' + [head, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

// "HaaS设备三元组" block of the tutorial's main.py (section 3.3).
export function tripleSnippet(d) {
  return `ProductKey = "${d.productKey}"\nDeviceName  = "${d.deviceName}"\nDeviceSecret  = "${d.deviceSecret}"\n`;
}
