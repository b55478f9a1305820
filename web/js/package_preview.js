// package_preview.js — what the browser can tell about an upgrade package
// before it is uploaded (创建版本's confirmation step), with no library:
// appName, appid and version from the file name; manifest.json read from
// the .tar.gz itself (DecompressionStream('gzip') and a walk over the tar
// headers, stopping at the manifest); the size, and the SHA-256
// (crypto.subtle, where the page is a secure context). Only a preview:
// haas-emu checks the package again and its verdict is the one that counts.

const MAX_TAR_READ = 256 * 1024 * 1024; // decompressed bytes walked at most
const MAX_MEMBERS = 10000;
const MAX_MANIFEST = 64 * 1024; // larger is refused by the server anyway (1536)
const MAX_NAME = 4096;

// "python9000-8800100099990000-0.0.2.tar.gz" → {appName, appId, version};
// null when the name is not three parts joined by "-" ending in .tar.gz.
export function parseFileName(name) {
  const m = /^(.+)\.tar\.gz$/.exec(name || '');
  if (!m) return null;
  const parts = m[1].split('-');
  if (parts.length !== 3) return null;
  const [appName, appId, version] = parts;
  return { appName, appId, version };
}

// Three numbers joined by dots, as the server's version_parse wants.
export function versionValid(v) {
  return typeof v === 'string' && /^[0-9]{1,9}\.[0-9]{1,9}\.[0-9]{1,9}$/.test(v);
}

// Decompressed bytes from a ReadableStreamDefaultReader, taken and skipped
// in any amounts without keeping what was skipped.
class Bytes {
  constructor(reader) {
    this.reader = reader;
    this.chunks = [];
    this.have = 0;
    this.read = 0;
  }

  // Reads until n bytes are buffered; false at the end of the stream.
  async fill(n) {
    while (this.have < n) {
      const { value, done } = await this.reader.read();
      if (done) return false;
      if (!value || !value.length) continue;
      this.read += value.length;
      if (this.read > MAX_TAR_READ) throw new PreviewError('TooLarge');
      this.chunks.push(value);
      this.have += value.length;
    }
    return true;
  }

  // The next n bytes (n at most what is buffered).
  take(n) {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0];
      const k = Math.min(n - at, c.length);
      out.set(c.subarray(0, k), at);
      at += k;
      this.drop(k);
    }
    return out;
  }

  drop(k) {
    const c = this.chunks[0];
    if (k === c.length) this.chunks.shift();
    else this.chunks[0] = c.subarray(k);
    this.have -= k;
  }

  async need(n) {
    if (!(await this.fill(n))) throw new PreviewError('Truncated');
    return this.take(n);
  }

  async skip(n) {
    while (n > 0) {
      if (!this.have && !(await this.fill(1))) throw new PreviewError('Truncated');
      const k = Math.min(n, this.chunks[0].length);
      this.drop(k);
      n -= k;
    }
  }
}

export class PreviewError extends Error {
  constructor(code) {
    super(code);
    this.code = code; // NotGzip, Truncated, BadHeader, TooLarge, NoManifest, ManifestInvalid
  }
}

const text = (bytes) => new TextDecoder('utf-8', { fatal: false }).decode(bytes);

function cstring(block, from, len) {
  const end = block.subarray(from, from + len).indexOf(0);
  return text(block.subarray(from, end < 0 ? from + len : from + end));
}

function octal(block, from, len) {
  const s = cstring(block, from, len).trim();
  if (!/^[0-7]*$/.test(s)) throw new PreviewError('BadHeader');
  return s ? parseInt(s, 8) : 0;
}

// The header's checksum: the bytes summed with the checksum field as spaces.
function checksumOk(block) {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : block[i];
  return sum === octal(block, 148, 8);
}

// "path" of a pax extended header's records ("len key=value\n"...).
function paxPath(bytes) {
  let at = 0;
  while (at < bytes.length) {
    const space = bytes.indexOf(32, at);
    if (space < 0) break;
    const len = parseInt(text(bytes.subarray(at, space)), 10);
    if (!(len > 0)) break;
    const rec = text(bytes.subarray(space + 1, at + len - 1));
    if (rec.startsWith('path=')) return rec.slice(5);
    at += len;
  }
  return null;
}

const padded = (size) => Math.ceil(size / 512) * 512;
const isManifest = (name) => name === 'manifest.json' || name === './manifest.json';

// Walks the tar in bytes to the first top-level manifest.json; its text.
async function findManifest(bytes) {
  let longName = null;
  for (let members = 0; members < MAX_MEMBERS; members++) {
    if (!(await bytes.fill(512))) throw new PreviewError(members ? 'NoManifest' : 'Truncated');
    const block = bytes.take(512);
    if (block.every((b) => b === 0)) throw new PreviewError('NoManifest');
    if (!checksumOk(block)) throw new PreviewError('BadHeader');
    const size = octal(block, 124, 12);
    const type = String.fromCharCode(block[156] || 48);
    const ustar = cstring(block, 257, 6) === 'ustar';
    const prefix = ustar ? cstring(block, 345, 155) : '';
    const name = longName || (prefix ? `${prefix}/${cstring(block, 0, 100)}` : cstring(block, 0, 100));
    longName = null;
    if (type === 'L' || type === 'x') {
      if (size > MAX_NAME * 4) throw new PreviewError('BadHeader');
      const data = (await bytes.need(padded(size))).subarray(0, size);
      longName = type === 'L' ? cstring(data, 0, size) : paxPath(data);
      continue;
    }
    if ((type === '0' || type === '7') && isManifest(name)) {
      if (size > MAX_MANIFEST) throw new PreviewError('ManifestInvalid');
      return (await bytes.need(padded(size))).subarray(0, size);
    }
    await bytes.skip(padded(size));
  }
  throw new PreviewError('NoManifest');
}

// {manifest} (the parsed object) or {error: code} for the package file.
export async function readManifest(file) {
  if (typeof DecompressionStream !== 'function') return { error: 'Unsupported' };
  const head = new Uint8Array(await file.slice(0, 2).arrayBuffer());
  if (head.length < 2 || head[0] !== 0x1f || head[1] !== 0x8b) return { error: 'NotGzip' };
  const reader = file.stream().pipeThrough(new DecompressionStream('gzip')).getReader();
  const bytes = new Bytes(reader);
  try {
    const raw = await findManifest(bytes);
    let manifest;
    try {
      manifest = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
    } catch {
      return { error: 'ManifestInvalid' };
    }
    if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) return { error: 'ManifestInvalid' };
    return { manifest };
  } catch (e) {
    // The gzip stream itself failing (bad data, cut short) is a TypeError.
    return { error: e instanceof PreviewError ? e.code : 'Truncated' };
  } finally {
    reader.cancel().catch(() => {});
  }
}

// Lower-case hex SHA-256 of the file, or null where crypto.subtle is missing
// (pages served over plain HTTP from another host are no secure context).
export async function sha256(file) {
  if (!(window.crypto && crypto.subtle)) return null;
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// What the upload of file to app (its appName, appId) would create, and
// what does not agree: {fileName, size, fromName, manifest, manifestError,
// sha256, problems: [{key, vars}]} (keys are i18n keys "preview.problem.*").
// existing: the versions the app has.
export async function previewPackage(file, app, existing = []) {
  const fromName = parseFileName(file.name);
  const [m, hash] = await Promise.all([
    file.size ? readManifest(file) : Promise.resolve({ error: 'Empty' }),
    sha256(file).catch(() => null),
  ]);
  const problems = [];
  const add = (key, vars = {}) => problems.push({ key, vars });
  if (!file.size) add('preview.problem.Empty');
  if (!fromName) {
    add('preview.problem.FileName');
  } else {
    if (fromName.appName !== app.appName) add('preview.problem.NameApp', { got: fromName.appName, want: app.appName });
    if (fromName.appId !== app.appId) add('preview.problem.NameAppId', { got: fromName.appId, want: app.appId });
    if (!versionValid(fromName.version)) add('preview.problem.NameVersion', { got: fromName.version });
    else if (existing.some((v) => v.version === fromName.version)) add('preview.problem.Exists', { version: fromName.version });
  }
  const manifest = m.manifest || null;
  if (m.error && m.error !== 'Empty') add(`preview.problem.${m.error}`);
  if (manifest) {
    const fields = [['appName', 'appName'], ['appid', 'appId'], ['version', 'version']];
    for (const [key, nameKey] of fields) {
      const value = manifest[key];
      if (typeof value !== 'string') add('preview.problem.ManifestField', { field: key });
      else if (fromName && value !== fromName[nameKey]) add('preview.problem.ManifestMismatch', { field: key, manifest: value, name: fromName[nameKey] });
    }
  }
  return { fileName: file.name, size: file.size, fromName, manifest, manifestError: m.error || null, sha256: hash, problems };
}
