// api.js — the REST API of haas-emu (/api/v1): a fetch wrapper that turns
// {"code","message"} answers into ApiError, paging, and the uploads of app
// packages and firmware with progress (XMLHttpRequest, the file as the body). Every call carries
// the management token when there is one (auth.js).
import { getToken, unauthorized } from './auth.js';

const BASE = '/api/v1';

// The management token (auth.js), needed when haas-emu is reachable beyond
// loopback or was started with --api-token: sent as Authorization: Bearer
// on every call; a 401 answer opens the sign-in panel.
function authHeaders(headers, sent) {
  if (sent) headers.Authorization = `Bearer ${sent}`;
  return headers;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export const enc = encodeURIComponent;

// sent: the token the request carried (null for none).
function parse(status, text, statusText, sent) {
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (status >= 200 && status < 300) return data;
  if (status === 401) unauthorized(sent);
  if (data && typeof data.code === 'string') throw new ApiError(status, data.code, data.message || '');
  throw new ApiError(status, status ? `Http${status}` : 'NetworkError', (text || statusText || '').slice(0, 300));
}

async function request(method, path, body) {
  const sent = getToken();
  const init = { method, headers: authHeaders({ Accept: 'application/json' }, sent) };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(BASE + path, init);
  } catch (e) {
    throw new ApiError(0, 'NetworkError', e.message);
  }
  return parse(resp.status, await resp.text(), resp.statusText, sent);
}

// Does haas-emu accept token t? true, false (401), or throws ApiError
// (haas-emu does not answer, or another failure).
export async function checkToken(t) {
  let resp;
  try {
    resp = await fetch(`${BASE}/rev`, { headers: authHeaders({ Accept: 'application/json' }, t) });
  } catch (e) {
    throw new ApiError(0, 'NetworkError', e.message);
  }
  if (resp.status === 401) return false;
  if (resp.ok) return true;
  const text = await resp.text();
  return parse(resp.status, text, resp.statusText, t);
}

export const api = {
  get: (path) => request('GET', path),
  post: (path, body = {}) => request('POST', path, body),
  del: (path) => request('DELETE', path),
};

// Every item of a list, page by page (the API returns at most 500 at a time).
export async function getAll(path, max = 20000) {
  const sep = path.includes('?') ? '&' : '?';
  const items = [];
  for (let offset = 0; offset < max; offset += 500) {
    const page = await api.get(`${path}${sep}offset=${offset}&limit=500`);
    items.push(...page.items);
    if (page.items.length < 500 || items.length >= page.total) break;
  }
  return items;
}

// POSTs file as the request body to path (Content-Type type), with
// onProgress(sentBytes, totalBytes) as it goes (XMLHttpRequest: fetch has
// no upload progress). Resolves with the answer, rejects with ApiError.
export function uploadFile(path, file, type, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', BASE + path);
    xhr.setRequestHeader('Content-Type', type);
    xhr.setRequestHeader('Accept', 'application/json');
    const sent = getToken();
    if (sent) xhr.setRequestHeader('Authorization', `Bearer ${sent}`);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    });
    xhr.addEventListener('load', () => {
      try {
        resolve(parse(xhr.status, xhr.responseText, xhr.statusText, sent));
      } catch (e) {
        reject(e);
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'NetworkError', '')));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'Aborted', '')));
    xhr.send(file);
  });
}

// POST /apps/{appId}/versions?filename=F with the package as the body.
// Resolves with the stored version.
export function uploadVersion(appId, file, onProgress) {
  return uploadFile(`/apps/${enc(appId)}/versions?filename=${enc(file.name)}`, file, 'application/gzip', onProgress);
}

// POST /products/{pk}/firmwares?version=&module=&name=&signMethod=&srcVersions=
// with the firmware binary as the body. Resolves with the stored firmware.
export function uploadFirmware(productKey, file, { version, module, name, signMethod, srcVersions }, onProgress) {
  // encodeURIComponent, not URLSearchParams: a space must be %20, not '+'.
  const q = Object.entries({ version, module, name, signMethod, srcVersions: (srcVersions || []).join(',') })
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}=${enc(v)}`)
    .join('&');
  return uploadFile(`/products/${enc(productKey)}/firmwares?${q}`, file, 'application/octet-stream', onProgress);
}
