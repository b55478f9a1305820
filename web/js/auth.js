// auth.js — the management token haas-emu asks for when it is reachable
// beyond loopback or was started with --api-token. It is kept for this tab
// (sessionStorage) or, when the user asks, in this browser (localStorage);
// a ?token= in the address is taken once (for this tab) and removed from
// it. A 401 answer marks the console as signed out, and the listeners (the
// sign-in panel, the live poller) hear of it.

const KEY = 'haas-emu.token';
const listeners = new Set();
let needed = false;
let refused = false; // the token we sent was refused (wrong, or replaced)

function store(kind) {
  try {
    return kind === 'local' ? window.localStorage : window.sessionStorage;
  } catch {
    return null; // storage disabled
  }
}

function read(kind) {
  const s = store(kind);
  try {
    return s ? s.getItem(KEY) : null;
  } catch {
    return null;
  }
}

function write(kind, value) {
  const s = store(kind);
  try {
    if (s && value) s.setItem(KEY, value);
    else if (s) s.removeItem(KEY);
  } catch {
    /* not kept: asked for again next time */
  }
}

let memory = null; // when neither storage works

function takeFromAddress() {
  const params = new URLSearchParams(location.search);
  const given = params.get('token');
  if (!given) return;
  saveToken(given.trim(), false);
  params.delete('token');
  const rest = params.toString();
  history.replaceState(null, '', location.pathname + (rest ? `?${rest}` : '') + location.hash);
}

export function getToken() {
  takeFromAddress();
  return read('session') || read('local') || memory;
}

// remember: keep it in this browser (localStorage), else only in this tab.
export function saveToken(value, remember) {
  forgetToken();
  memory = value;
  write(remember ? 'local' : 'session', value);
}

export function forgetToken() {
  memory = null;
  write('session', null);
  write('local', null);
}

export function hasToken() {
  return !!getToken();
}

export function authNeeded() {
  return needed;
}

// The token we had was refused (shown on the panel as "saved token refused").
export function tokenRefused() {
  return refused;
}

export function onAuthChange(fn) {
  listeners.add(fn);
}

function notify() {
  for (const fn of listeners) fn(needed);
}

// The server answered 401 to a request that carried sent (or no token).
export function unauthorized(sent) {
  if (sent && sent === getToken()) forgetToken();
  if (sent) refused = true;
  if (needed) return;
  needed = true;
  notify();
}

// A token was accepted: the console may talk to the API again.
export function signedIn() {
  needed = false;
  refused = false;
  notify();
}
