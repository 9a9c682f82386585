/**
 * Snapshot fetching against a local HTTP server that plays different cameras: which
 * authentication answers which challenge (never Basic over Digest), wrong credentials, size
 * and format limits, and the timeout on injected timers (no real waiting).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchSnapshot, parseChallenges } from '../../drivers/onvif/snapshot.js';
import { ManualClock, realTimers } from '../../gateway/core/clock.js';
import { waitFor } from '../helpers/wait.js';

const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(100, 1), Buffer.from([0xff, 0xd9])]);
const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('fetchSnapshot', () => {
  let server: Server;
  let base: string;
  let handler: Handler;
  const seen: (string | undefined)[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      handler(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const opts = (over: Partial<Parameters<typeof fetchSnapshot>[1]> = {}) => ({
    username: 'admin',
    password: 'secret',
    maxBytes: 64 * 1024,
    timeoutMs: 3000,
    timers: realTimers,
    ...over,
  });

  /** A camera offering the given challenges; accepts a correct Digest (MD5 or SHA-256) or Basic answer. */
  const camera =
    (challenges: string[]): Handler =>
    (req, res) => {
      const a = req.headers.authorization ?? '';
      if (
        a.startsWith('Basic ') &&
        challenges.some((c) => c.startsWith('Basic')) &&
        Buffer.from(a.slice(6), 'base64').toString() === 'admin:secret'
      )
        return void res.writeHead(200, { 'Content-Type': 'image/jpeg' }).end(JPEG);
      if (a.startsWith('Digest ')) {
        const p = Object.fromEntries([...a.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)].map((m) => [m[1], m[2] ?? m[3]]));
        const h = p.algorithm === 'SHA-256' ? sha256 : md5;
        const expected = h(`${h(`admin:cam:secret`)}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${h(`GET:${p.uri}`)}`);
        if (p.response === expected) return void res.writeHead(200, { 'Content-Type': 'image/jpeg' }).end(JPEG);
      }
      res.writeHead(401, [...challenges.map((c) => ['WWW-Authenticate', c] as [string, string])]).end();
    };

  it('answers a Digest challenge (MD5, qop=auth) and never sends Basic when Digest is offered', async () => {
    handler = camera(['Basic realm="cam"', 'Digest realm="cam", qop="auth", nonce="n1", algorithm=MD5']);
    seen.length = 0;
    expect(await fetchSnapshot(`${base}/snap.jpg?p=1`, opts())).toEqual(JPEG);
    expect(seen[0]).toBeUndefined();
    expect(seen[1]).toMatch(/^Digest username="admin", realm="cam", nonce="n1", uri="\/snap.jpg\?p=1", algorithm=MD5, qop=auth/);
    expect(seen.some((s) => s?.startsWith('Basic'))).toBe(false);
  });

  it('prefers SHA-256 when the camera offers both algorithms', async () => {
    handler = camera([
      'Digest realm="cam", qop="auth", nonce="n2", algorithm=MD5',
      'Digest realm="cam", qop="auth", nonce="n3", algorithm=SHA-256',
    ]);
    seen.length = 0;
    expect(await fetchSnapshot(`${base}/snap.jpg`, opts())).toEqual(JPEG);
    expect(seen[1]).toMatch(/algorithm=SHA-256/);
  });

  it('uses Basic only when it is all the camera asks for', async () => {
    handler = camera(['Basic realm="cam"']);
    seen.length = 0;
    expect(await fetchSnapshot(`${base}/snap.jpg`, opts())).toEqual(JPEG);
    expect(seen[1]).toMatch(/^Basic /);
  });

  it('wrong password → DEVICE_AUTH_FAILED; unknown scheme → DEVICE_AUTH_FAILED', async () => {
    handler = camera(['Digest realm="cam", qop="auth", nonce="n4"']);
    await expect(fetchSnapshot(`${base}/snap.jpg`, opts({ password: 'nope' }))).rejects.toMatchObject({ code: 'DEVICE_AUTH_FAILED' });
    handler = camera(['Negotiate abc']);
    await expect(fetchSnapshot(`${base}/snap.jpg`, opts())).rejects.toMatchObject({ code: 'DEVICE_AUTH_FAILED' });
  });

  it('too large (declared or streamed) → MEDIA_TOO_LARGE; not a JPEG → MEDIA_INVALID; other status → DEVICE_REFUSED', async () => {
    handler = (_q, res) => res.writeHead(200, { 'Content-Length': String(10_000_000) }).end();
    await expect(fetchSnapshot(`${base}/a`, opts())).rejects.toMatchObject({ code: 'MEDIA_TOO_LARGE' });
    handler = (_q, res) => {
      res.writeHead(200, { 'Content-Type': 'image/jpeg' });
      res.on('error', () => undefined);
      for (let i = 0; i < 100; i++) res.write(Buffer.alloc(16 * 1024, 0xff));
      res.end();
    };
    await expect(fetchSnapshot(`${base}/b`, opts())).rejects.toMatchObject({ code: 'MEDIA_TOO_LARGE', details: { limit: 64 * 1024 } });
    handler = (_q, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>login</html>');
    await expect(fetchSnapshot(`${base}/c`, opts())).rejects.toMatchObject({ code: 'MEDIA_INVALID' });
    handler = (_q, res) => res.writeHead(404).end();
    await expect(fetchSnapshot(`${base}/d`, opts())).rejects.toMatchObject({ code: 'DEVICE_REFUSED', details: { status: 404 } });
    await expect(fetchSnapshot('https://127.0.0.1/x', opts())).rejects.toMatchObject({ code: 'DEVICE_PROTOCOL' });
  });

  it('a camera that never answers → CMD_TIMEOUT when the injected timer fires', async () => {
    const clock = new ManualClock();
    let arrived = false;
    handler = () => {
      arrived = true; // and never answer
    };
    const p = fetchSnapshot(`${base}/slow`, opts({ timers: clock, timeoutMs: 3000 }));
    await waitFor(() => arrived, 'request at the camera');
    clock.advance(2999);
    clock.advance(1);
    await expect(p).rejects.toMatchObject({ code: 'CMD_TIMEOUT' });
  });

  it('an unreachable camera → DEVICE_OFFLINE', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    await new Promise<void>((r) => s.close(() => r()));
    await expect(fetchSnapshot(`http://127.0.0.1:${port}/x`, opts())).rejects.toMatchObject({ code: 'DEVICE_OFFLINE' });
  });

  it('parses several challenges in one header', () => {
    expect(parseChallenges(['WWW-Authenticate', 'Basic realm="a", Digest realm="b", nonce="x, y", qop="auth,auth-int"'])).toEqual([
      { scheme: 'basic', params: { realm: 'a' } },
      { scheme: 'digest', params: { realm: 'b', nonce: 'x, y', qop: 'auth,auth-int' } },
    ]);
  });
});
