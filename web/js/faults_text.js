// faults_text.js — fault injection rules (docs/protocol.md section 14) in
// words, shared by the test bench, the message log and the timelines: the
// actions (by channel) with their numbers, a rule's scope and trigger,
// and what a firing did (haas-emu says it in English: "dropped the push").
import { t } from './i18n.js';
import { fmtTime } from './dom.js';

// The actions by channel, each with its numbers: [name, kind, default].
export const FAULT_ACTIONS = {
  download: {
    httpStatus: [['status', 'int', 503]],
    delay: [['ms', 'int', 1000]],
    bandwidth: [['bytesPerSecond', 'int', 1024]],
    truncate: [['at', 'int', 0]],
    corrupt: [['at', 'int', 0], ['count', 'int', 1]],
    stall: [['at', 'int', 0], ['ms', 'int', 20000]],
    wrongLength: [['bytes', 'int', 100]],
    refuseRange: [],
  },
  mqtt: {
    dropPush: [],
    delayPush: [['ms', 'int', 1000]],
    duplicatePush: [],
    wrongMd5: [],
    wrongSize: [],
    disconnect: [['when', 'when', 'push']],
    refuseLogin: [['logins', 'int', 1]],
    dropResult: [],
    restartBroker: [],
  },
};

// name → [number specs]
export const ACTION_NUMBERS = Object.assign({}, FAULT_ACTIONS.download, FAULT_ACTIONS.mqtt);
export const DISCONNECT_WHEN = ['connect', 'push', 'download'];

// The words for an action (its name as given when unknown).
export function actionName(action) {
  const key = `fault.action.${action}`;
  const words = t(key);
  return words === key ? action : words;
}

// "截断 · at = 1000" — the action and its numbers.
export function actionText(rule) {
  const nums = (ACTION_NUMBERS[rule.action] || [])
    .filter(([name]) => rule[name] != null)
    .map(([name, kind]) => (kind === 'when' ? t(`fault.when.${rule[name]}`) : `${t(`fault.num.${name}`)} ${rule[name]}`));
  return [actionName(rule.action), ...nums].join(' · ');
}

// Every device / product pk / device pk/dn, and the task when named.
export function scopeText(scope) {
  const s = scope || {};
  const parts = [];
  if (s.deviceName) parts.push(t('fault.scope.deviceIs', { pk: s.productKey || '?', dn: s.deviceName }));
  else if (s.productKey) parts.push(t('fault.scope.productIs', { pk: s.productKey }));
  if (s.taskId) parts.push(t('fault.scope.taskIs', { id: s.taskId }));
  return parts.length ? parts.join(' · ') : t('fault.scope.everything');
}

// always / the next N times / with probability p / from a time on
export function triggerText(trigger) {
  if (!trigger || trigger === 'always') return t('fault.trigger.alwaysText');
  if (trigger.times != null) return t('fault.trigger.timesText', { n: trigger.times });
  if (trigger.probability != null) return t('fault.trigger.probabilityText', { p: Math.round(trigger.probability * 10000) / 100 });
  if (trigger.from != null) return t('fault.trigger.fromText', { time: fmtTime(trigger.from) });
  return JSON.stringify(trigger);
}

// Will the rule still fire? 'disabled', 'usedUp' (its N times fired),
// 'waiting' (its time not come by nowMs, the emulator's clock), 'never'
// (probability 0) or 'live'.
export function liveState(rule, nowMs) {
  if (!rule.enabled) return 'disabled';
  const tr = rule.trigger;
  if (tr && typeof tr === 'object') {
    if (tr.times != null && rule.fired >= tr.times) return 'usedUp';
    if (tr.from != null && nowMs != null && Date.parse(tr.from) > nowMs) return 'waiting';
    if (tr.probability === 0) return 'never';
  }
  return 'live';
}

const DID = {
  'answered with an error status': 'httpStatus',
  'delayed the first byte': 'delay',
  'capped the bandwidth': 'bandwidth',
  'cut the body and closed the connection': 'truncate',
  'corrupted bytes': 'corrupt',
  'stalled the body': 'stall',
  'announced a wrong Content-Length': 'wrongLength',
  'refused the Range': 'refuseRange',
  'disconnected the device mid-download': 'disconnectDownload',
  'dropped the push': 'dropPush',
  'sent the push twice': 'duplicatePush',
  'sent a wrong MD5': 'wrongMd5',
  'sent a wrong size': 'wrongSize',
  'delayed the push': 'delayPush',
  'disconnected the device after the push': 'disconnectPush',
  'disconnected the device at its connect': 'disconnectConnect',
  "dropped the device's result": 'dropResult',
  'refused a login': 'refuseLogin',
  'restarted the broker': 'restartBroker',
};

// A firing ({faultId, action, did}) in words: "规则 f1（丢弃推送）：推送没有发出".
export function faultDidText(f) {
  if (!f || typeof f !== 'object') return '';
  const key = DID[f.did];
  const did = key ? t(`fault.did.${key}`) : f.did || '';
  return t('fault.firedText', { id: f.faultId || '?', action: actionName(f.action || ''), did });
}
