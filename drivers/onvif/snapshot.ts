/**
 * Fetches a camera snapshot (a JPEG over HTTP) with the camera's credentials.
 *
 * Authentication: the first request goes without credentials. A 401 with a Digest
 * challenge is answered with Digest (RFC 7616: MD5 or SHA-256, qop=auth); Basic is sent
 * only when Basic is all the camera offers, never when it also offers Digest, since Basic
 * puts the password on the wire. A second 401 means the credentials are wrong.
 *
 * Limits: the answer must arrive within `timeoutMs` and be at most `maxBytes` (checked on
 * Content-Length and again while streaming, so a lying camera cannot fill memory), and it
 * must start like a JPEG.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import type { Timers } from '../../gateway/core/clock.js';
import { GatehouseError } from '../../gateway/core/errors.js';

export interface SnapshotOptions {
  username: string;
  password: string;
  maxBytes: number;
  timeoutMs: number;
  timers: Timers;
}

interface Challenge {
  scheme: 'digest' | 'basic';
  params: Record<string, string>;
}

/** Every challenge of every WWW-Authenticate header (a camera may send one per algorithm). */
export function parseChallenges(rawHeaders: string[]): Challenge[] {
  const out: Challenge[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== 'www-authenticate') continue;
    const value = rawHeaders[i + 1]!;
    // Split before each scheme name that starts a new challenge within one header.
    for (const part of value.split(/,?\s*(?=\b(?:Digest|Basic)\s)/i)) {
      const m = /^\s*(Digest|Basic)\s+(.*)$/is.exec(part);
      if (!m) continue;
      const params: Record<string, string> = {};
      for (const p of m[2]!.matchAll(/([a-zA-Z0-9-]+)\s*=\s*(?:"([^"]*)"|([^\s,]+))/g)) params[p[1]!.toLowerCase()] = p[2] ?? p[3] ?? '';
      out.push({ scheme: m[1]!.toLowerCase() as 'digest' | 'basic', params });
    }
  }
  return out;
}

function digestHeader(c: Record<string, string>, method: string, uri: string, username: string, password: string): string | undefined {
  const algorithm = (c.algorithm ?? 'MD5').toUpperCase();
  const hashName = algorithm === 'MD5' ? 'md5' : algorithm === 'SHA-256' ? 'sha256' : undefined;
  const qops = (c.qop ?? '').split(',').map((q) => q.trim());
  if (!hashName || !c.nonce || c.realm === undefined || !qops.includes('auth')) return undefined;
  const h = (s: string) => createHash(hashName).update(s).digest('hex');
  const cnonce = randomBytes(8).toString('hex');
  const nc = '00000001';
  const response = h(`${h(`${username}:${c.realm}:${password}`)}:${c.nonce}:${nc}:${cnonce}:auth:${h(`${method}:${uri}`)}`);
  const q = (s: string) => s.replace(/["\\]/g, '\\$&');
  return (
    `Digest username="${q(username)}", realm="${q(c.realm)}", nonce="${q(c.nonce)}", uri="${q(uri)}", algorithm=${algorithm}, ` +
    `qop=auth, nc=${nc}, cnonce="${cnonce}", response="${response}"` +
    (c.opaque !== undefined ? `, opaque="${q(c.opaque)}"` : '')
  );
}

/** Picks how to answer: Digest (SHA-256 preferred) if offered at all, else Basic, else nothing. */
function authorization(challenges: Challenge[], uri: string, opts: SnapshotOptions): string | undefined {
  const digests = challenges.filter((c) => c.scheme === 'digest');
  if (digests.length) {
    const ordered = [...digests].sort(
      (a, b) =>
        Number((b.params.algorithm ?? '').toUpperCase() === 'SHA-256') - Number((a.params.algorithm ?? '').toUpperCase() === 'SHA-256'),
    );
    for (const d of ordered) {
      const header = digestHeader(d.params, 'GET', uri, opts.username, opts.password);
      if (header) return header;
    }
    return undefined;
  }
  if (challenges.some((c) => c.scheme === 'basic')) return `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
  return undefined;
}

/** GETs `url`, answering the camera's challenge, and returns the JPEG bytes. */
export async function fetchSnapshot(url: string, opts: SnapshotOptions): Promise<Buffer> {
  const u = new URL(url);
  if (u.protocol !== 'http:') throw new GatehouseError('DEVICE_PROTOCOL', `snapshot URL scheme ${u.protocol} is not supported (http only)`);
  const path = `${u.pathname}${u.search}`;
  let aborted = false;
  const live = new Set<{ destroy(err?: Error): void }>();
  const timer = opts.timers.setTimeout(() => {
    aborted = true;
    for (const r of live) r.destroy(new GatehouseError('CMD_TIMEOUT', `snapshot did not arrive within ${opts.timeoutMs} ms`));
  }, opts.timeoutMs);
  try {
    const first = await get(u, path, undefined, opts, live);
    if (first.status !== 401) return check(first);
    const auth = authorization(parseChallenges(first.rawHeaders), path, opts);
    if (!auth) throw new GatehouseError('DEVICE_AUTH_FAILED', 'the camera asked for an authentication scheme we do not speak');
    if (aborted) throw new GatehouseError('CMD_TIMEOUT', `snapshot did not arrive within ${opts.timeoutMs} ms`);
    const second = await get(u, path, auth, opts, live);
    if (second.status === 401) throw new GatehouseError('DEVICE_AUTH_FAILED', 'the camera refused the credentials for its snapshot');
    return check(second);
  } finally {
    timer.cancel();
  }
}

function check(r: { status: number; body: Buffer }): Buffer {
  if (r.status !== 200) throw new GatehouseError('DEVICE_REFUSED', `snapshot: HTTP ${r.status}`, { status: r.status });
  if (r.body.length < 4 || r.body[0] !== 0xff || r.body[1] !== 0xd8)
    throw new GatehouseError('MEDIA_INVALID', 'the camera snapshot is not a JPEG');
  return r.body;
}

function get(
  u: URL,
  path: string,
  auth: string | undefined,
  opts: SnapshotOptions,
  live: Set<{ destroy(err?: Error): void }>,
): Promise<{ status: number; rawHeaders: string[]; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: u.hostname,
      port: u.port || 80,
      path,
      method: 'GET',
      agent: false,
      headers: { Accept: 'image/jpeg', ...(auth ? { Authorization: auth } : {}) },
    });
    live.add(req);
    const done = () => live.delete(req);
    req.on('error', (err) => {
      done();
      reject(
        err instanceof GatehouseError
          ? err
          : new GatehouseError('DEVICE_OFFLINE', `snapshot: camera unreachable (${(err as NodeJS.ErrnoException).code ?? err.message})`),
      );
    });
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const declared = Number(res.headers['content-length']);
      const tooLarge = () => new GatehouseError('MEDIA_TOO_LARGE', `snapshot larger than ${opts.maxBytes} bytes`, { limit: opts.maxBytes });
      if (status === 200 && Number.isFinite(declared) && declared > opts.maxBytes) return void req.destroy(tooLarge());
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        // A 401 page is drained only to 64 KiB; a picture up to the configured cap.
        if (size > (status === 200 ? opts.maxBytes : 64 * 1024))
          return void req.destroy(status === 200 ? tooLarge() : new GatehouseError('DEVICE_PROTOCOL', 'oversized error page'));
        if (status === 200) chunks.push(c);
      });
      res.on('end', () => {
        done();
        resolve({ status, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) });
      });
      res.on('error', () => undefined);
    });
    req.end();
  });
}
