// api.js — the REST API of haas-emu (/api/v1): a fetch wrapper that turns
// {"code","message"} answers into ApiError, paging, and the package upload
// with progress (XMLHttpRequest, the file as the body).

const BASE = '/api/v1';

// The management token, needed when haas-emu is reachable beyond loopback
// (it prints it at start): taken once from ?token= in the address, then
// kept in localStorage; asked for when the server answers 401.
const TOKEN_KEY = 'haas-emu.token';

function token() {
  const fromUrl = new URLSearchParams(location.search).get('token');
  if (fromUrl) {
    localStorage.setItem(TOKEN_KEY, fromUrl);
    history.replaceState(null, '', location.pathname + location.hash);
  }
  return localStorage.getItem(TOKEN_KEY);
}

function authHeaders(headers) {
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  return headers;
}

let asked = false;
function askForToken() {
  if (asked) return;
  asked = true;
  const t = window.prompt('haas-emu needs its management token (printed at start) / 需要管理令牌（启动时打印）');
  if (t) {
    localStorage.setItem(TOKEN_KEY, t.trim());
    location.reload();
  }
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

function parse(status, text, statusText) {
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (status >= 200 && status < 300) return data;
  if (status === 401) askForToken();
  if (data && typeof data.code === 'string') throw new ApiError(status, data.code, data.message || '');
  throw new ApiError(status, status ? `Http${status}` : 'NetworkError', (text || statusText || '').slice(0, 300));
}

async function request(method, path, body) {
  const init = { method, headers: authHeaders({ Accept: 'application/json' }) };
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
  return parse(resp.status, await resp.text(), resp.statusText);
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

// POST /apps/{appId}/versions?filename=F with the file as the body.
// onProgress(sentBytes, totalBytes). Resolves with the stored version.
export function uploadVersion(appId, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${BASE}/apps/${enc(appId)}/versions?filename=${enc(file.name)}`);
    xhr.setRequestHeader('Content-Type', 'application/gzip');
    xhr.setRequestHeader('Accept', 'application/json');
    const t = token();
    if (t) xhr.setRequestHeader('Authorization', `Bearer ${t}`);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    });
    xhr.addEventListener('load', () => {
      try {
        resolve(parse(xhr.status, xhr.responseText, xhr.statusText));
      } catch (e) {
        reject(e);
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'NetworkError', '')));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'Aborted', '')));
    xhr.send(file);
  });
}
