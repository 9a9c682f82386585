/**
 * The console server over real HTTPS on loopback and a real outbox.db: setup token, login,
 * lockout, sessions, CSRF, roles, WebSockets (live feed and video, refused unless
 * authenticated and same-origin), static files, headers and the self-signed certificate.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { ConsoleRig, PASSWORD } from '../helpers/console-rig.js';
import { untyped } from '../helpers/untyped-event.js';

/** The token of the setup link the console wrote to its data dir. */
const setupToken = (rig: ConsoleRig): string =>
  /#([A-Za-z0-9_-]+)$/.exec(readFileSync(join(rig.dir, 'console-setup-link.txt'), 'utf8').trim())![1]!;

const wsOpen = (url: string, headers: Record<string, string>): Promise<{ ws?: WebSocket; status?: number }> =>
  new Promise((resolve) => {
    const ws = new WebSocket(url, { headers, rejectUnauthorized: false });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
    ws.once('error', () => resolve({ status: -1 }));
  });

describe('console server (HTTPS)', () => {
  let rig: ConsoleRig;

  beforeAll(async () => {
    rig = await new ConsoleRig().start();
  });
  afterAll(async () => {
    await rig.stop();
    rig.remove();
  });

  it('writes a one-time setup link to a 0600 file and prints only its path; the token works once', async () => {
    expect(rig.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const linkFile = join(rig.dir, 'console-setup-link.txt');
    const token = setupToken(rig);
    expect(statSync(linkFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(linkFile, 'utf8')).toBe(`${rig.url}/setup.html#${token}\n`);
    // The printed line (the journal, under systemd) names the file, never the token.
    expect(rig.printed).toEqual([expect.stringContaining(linkFile)]);
    expect(rig.printed.join('\n')).not.toContain(token);
    // Only a hash is stored.
    expect(readFileSync(join(rig.dir, 'outbox.db')).includes(token)).toBe(false);
    const wrong = await rig.call('POST', '/api/setup', { body: { token: 'x'.repeat(32), username: 'root', password: PASSWORD } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('CONSOLE_SETUP_INVALID');
    const weak = await rig.call('POST', '/api/setup', { body: { token, username: 'root', password: 'short' } });
    expect(weak.body.error.code).toBe('CONSOLE_PASSWORD_WEAK');
    const ok = await rig.call('POST', '/api/setup', { body: { token, username: 'root', password: PASSWORD } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ user: 'root', role: 'admin' });
    const again = await rig.call('POST', '/api/setup', { body: { token, username: 'root2', password: PASSWORD } });
    expect(again.status).toBe(401);
    expect(existsSync(linkFile)).toBe(false);
    await rig.settle();
    expect(rig.systemEvents('console.user')).toEqual([
      expect.objectContaining({ data: { action: 'created', user: 'root', role: 'admin', by: 'setup' } }),
    ]);
  });

  it('an administrator creates users; a guard cannot reach /api/users', async () => {
    const admin = await rig.login('root');
    for (const [username, role] of [
      ['anna', 'guard'],
      ['ivan', 'installer'],
    ]) {
      const r = await rig.call('POST', '/api/users', {
        body: { username, role, password: PASSWORD },
        cookie: admin.cookie,
        csrf: admin.csrf,
      });
      expect(r.status).toBe(201);
    }
    const list = await rig.call('GET', '/api/users', { cookie: admin.cookie });
    expect(list.body.users.map((u: { username: string }) => u.username)).toEqual(['anna', 'ivan', 'root']);
    expect(JSON.stringify(list.body)).not.toMatch(/scrypt|hash/);
    const guard = await rig.login('anna');
    expect((await rig.call('GET', '/api/users', { cookie: guard.cookie })).status).toBe(403);
    expect(
      (
        await rig.call('POST', '/api/users', {
          body: { username: 'x', role: 'admin', password: PASSWORD },
          cookie: guard.cookie,
          csrf: guard.csrf,
        })
      ).status,
    ).toBe(403);
    expect((await rig.call('GET', '/api/status', { cookie: guard.cookie })).status).toBe(403);
    const installer = await rig.login('ivan');
    expect((await rig.call('GET', '/api/status', { cookie: installer.cookie })).body).toEqual({ version: 'test' });
  });

  it('stores scrypt hashes with their parameters and no plaintext password', async () => {
    const row = rig.outbox.scope('console').prepare("SELECT password_hash FROM console_users WHERE username = 'anna'").get() as {
      password_hash: string;
    };
    expect(row.password_hash).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    rig.outbox.checkpoint();
    for (const f of ['outbox.db', 'outbox.db-wal']) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(join(rig.dir, f));
      } catch {
        continue;
      }
      expect(bytes.includes(PASSWORD)).toBe(false);
    }
  });

  it('answers a wrong password and an unknown user identically; sets a strict cookie on success', async () => {
    const wrong = await rig.call('POST', '/api/login', { body: { username: 'root', password: 'not the password at all' } });
    const unknown = await rig.call('POST', '/api/login', { body: { username: 'nobody', password: 'not the password at all' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const { reply } = await rig.login('root');
    const cookie = String(reply.headers['set-cookie']);
    expect(cookie).toMatch(/^gh_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Secure');
    expect(cookie).toContain('Path=/');
    await rig.settle();
    const events = rig.systemEvents('console.login');
    expect(events.some((e) => e.data.user === 'nobody' && e.data.reason === 'unknown-user' && e.data.ok === false)).toBe(true);
    expect(events.some((e) => e.data.user === 'root' && e.data.reason === 'wrong-password')).toBe(true);
    expect(JSON.stringify(events)).not.toContain('not the password');
  });

  it('locks a username out after N failures, even for the right password, until the lockout ends', async () => {
    // The earlier test's two failures from this address are forgiven after one lockout period.
    rig.clock.advance(10 * 60_000 + 1);
    for (let i = 0; i < 3; i++)
      expect((await rig.call('POST', '/api/login', { body: { username: 'ivan', password: `wrong password ${i}` } })).status).toBe(401);
    const locked = await rig.call('POST', '/api/login', { body: { username: 'ivan', password: PASSWORD } });
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('CONSOLE_LOCKED_OUT');
    // The address is locked too (3 failures from 127.0.0.1), so another user waits as well.
    expect((await rig.call('POST', '/api/login', { body: { username: 'anna', password: PASSWORD } })).status).toBe(429);
    rig.clock.advance(10 * 60_000 + 1);
    expect((await rig.call('POST', '/api/login', { body: { username: 'ivan', password: PASSWORD } })).status).toBe(200);
    await rig.settle();
    expect(rig.systemEvents('console.login').some((e) => e.data.user === 'ivan' && e.data.reason === 'locked-out')).toBe(true);
  });

  it('ends sessions on idle, on the absolute limit and on logout', async () => {
    const a = await rig.login('anna');
    expect((await rig.call('GET', '/api/session', { cookie: a.cookie })).body).toEqual({ user: 'anna', role: 'guard', csrf: a.csrf });
    rig.clock.advance(30 * 60_000);
    expect((await rig.call('GET', '/api/session', { cookie: a.cookie })).status).toBe(401);

    const b = await rig.login('anna');
    // Active every 20 minutes: never idle, but the 2-hour absolute limit still ends it.
    for (let i = 0; i < 5; i++) {
      rig.clock.advance(20 * 60_000);
      expect((await rig.call('GET', '/api/session', { cookie: b.cookie })).status).toBe(200);
    }
    rig.clock.advance(20 * 60_000);
    expect((await rig.call('GET', '/api/session', { cookie: b.cookie })).status).toBe(401);

    const c = await rig.login('anna');
    expect((await rig.call('POST', '/api/logout', { cookie: c.cookie, csrf: c.csrf })).status).toBe(200);
    expect((await rig.call('GET', '/api/session', { cookie: c.cookie })).status).toBe(401);
  });

  it('refuses state changes without the CSRF token or from a foreign origin', async () => {
    const a = await rig.login('anna');
    const none = await rig.call('POST', '/api/commands/alarm.list', { body: { args: {} }, cookie: a.cookie });
    expect(none.status).toBe(403);
    expect(none.body.error.code).toBe('CONSOLE_CSRF');
    expect(
      (await rig.call('POST', '/api/commands/alarm.list', { body: { args: {} }, cookie: a.cookie, csrf: 'x'.repeat(43) })).status,
    ).toBe(403);
    expect(
      (
        await rig.call('POST', '/api/commands/alarm.list', {
          body: { args: {} },
          cookie: a.cookie,
          csrf: a.csrf,
          origin: 'https://evil.example',
        })
      ).status,
    ).toBe(403);
    expect(
      (await rig.call('POST', '/api/commands/alarm.list', { body: { args: {} }, cookie: a.cookie, csrf: a.csrf, origin: null })).status,
    ).toBe(403);
    expect(
      (await rig.call('POST', '/api/login', { body: { username: 'anna', password: PASSWORD }, origin: 'https://evil.example' })).status,
    ).toBe(403);
    const ok = await rig.call('POST', '/api/commands/alarm.list', { body: { args: {} }, cookie: a.cookie, csrf: a.csrf });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ ok: true, result: { open: 0 } });
  });

  it('answers 401 to every API without a session', async () => {
    for (const path of [
      '/api/session',
      '/api/states',
      '/api/alarms',
      '/api/events',
      '/api/status',
      '/api/users',
      '/api/media/01JD3M6R9Q8Z4X7V2N5T0B1C3V',
    ]) {
      expect((await rig.call('GET', path)).status, path).toBe(401);
    }
    expect((await rig.call('POST', '/api/commands/alarm.list', { body: {} })).status).toBe(401);
  });

  it('lets a guard acknowledge an alarm but not run an admin-only command', async () => {
    const a = await rig.login('anna');
    const alarm = rig.alarms.manager.raise({ kind: 'door.forced', source: { device: 'lobby' }, priority: 'high' });
    const list = await rig.call('GET', '/api/alarms', { cookie: a.cookie });
    expect(list.body.alarms.map((x: { id: string }) => x.id)).toEqual([alarm.id]);
    const ack = await rig.call('POST', '/api/commands/alarm.acknowledge', {
      body: { args: { alarmId: alarm.id } },
      cookie: a.cookie,
      csrf: a.csrf,
    });
    expect(ack.status).toBe(200);
    expect(ack.body.result.alarm.acknowledged.by).toBe('anna');
    const again = await rig.call('POST', '/api/commands/alarm.acknowledge', {
      body: { args: { alarmId: alarm.id } },
      cookie: a.cookie,
      csrf: a.csrf,
    });
    expect([again.status, again.body.error.code]).toEqual([409, 'ALARM_ACKNOWLEDGED']);
    const bad = await rig.call('POST', '/api/commands/alarm.acknowledge', {
      body: { args: { alarmId: 'nope' } },
      cookie: a.cookie,
      csrf: a.csrf,
    });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'CMD_INVALID']);
    const forbidden = await rig.call('POST', '/api/commands/test.admin_only', { body: { args: {} }, cookie: a.cookie, csrf: a.csrf });
    expect([forbidden.status, forbidden.body.error.code]).toEqual([403, 'CMD_FORBIDDEN']);
    const admin = await rig.login('root');
    expect(
      (await rig.call('POST', '/api/commands/test.admin_only', { body: { args: {} }, cookie: admin.cookie, csrf: admin.csrf })).status,
    ).toBe(200);
    await rig.settle();
    const audits = rig.systemEvents('command.executed').filter((e) => e.data.caller.via === 'console');
    expect(audits.some((e) => e.data.command === 'alarm.acknowledge' && e.data.caller.principal === 'anna' && e.data.ok)).toBe(true);
  });

  it('refuses unauthenticated and cross-site WebSockets; the camera hub only ever sees authenticated viewers', async () => {
    const wsUrl = rig.url.replace('https', 'wss');
    expect((await wsOpen(`${wsUrl}/api/live`, { Origin: rig.url })).status).toBe(401);
    expect((await wsOpen(`${wsUrl}/api/video/gate-cam`, { Origin: rig.url })).status).toBe(401);
    expect((await wsOpen(`${wsUrl}/api/video/gate-cam`, { Origin: rig.url, Cookie: 'gh_session=forged' })).status).toBe(401);
    const a = await rig.login('anna');
    expect((await wsOpen(`${wsUrl}/api/live`, { Origin: 'https://evil.example', Cookie: a.cookie })).status).toBe(403);
    expect((await wsOpen(`${wsUrl}/api/video/gate-cam`, { Origin: 'https://evil.example', Cookie: a.cookie })).status).toBe(403);
    expect((await wsOpen(`${wsUrl}/api/video/gate-cam`, { Cookie: a.cookie })).status).toBe(403);
    expect(rig.hubCalls).toEqual([]);
    await wsOpen(`${wsUrl}/api/video/gate-cam`, { Origin: rig.url, Cookie: a.cookie });
    expect(rig.hubCalls).toEqual([{ camera: 'gate-cam', principal: { id: 'anna', role: 'guard' } }]);
  });

  it('pushes an event recorded after the live client connected, and keeps it for /api/events', async () => {
    const a = await rig.login('anna');
    const { ws } = await wsOpen(`${rig.url.replace('https', 'wss')}/api/live`, { Origin: rig.url, Cookie: a.cookie });
    expect(ws).toBeDefined();
    const got = new Promise<any>((resolve) => {
      ws!.on('message', (m) => {
        const msg = JSON.parse(String(m));
        if (msg.type === 'event' && msg.envelope.type === 'access.granted') resolve(msg);
      });
    });
    await rig.outbox.record(untyped({ class: 'access', type: 'access.granted', source: { device: 'gate-1' }, data: { door: 'gate-1' } }));
    const msg = await got;
    expect(msg.class).toBe('access');
    ws!.close();
    const events = await rig.call('GET', '/api/events?class=access&limit=5', { cookie: a.cookie });
    expect(events.body.events[0]).toMatchObject({ type: 'access.granted', seq: msg.envelope.seq });
  });

  it('serves media to a guard, retained states, and disabling a user ends its sessions', async () => {
    const id = '01JD3M6R9Q8Z4X7V2N5T0B1C3V';
    rig.media.set(id, Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
    const a = await rig.login('anna');
    const jpeg = await rig.call('GET', `/api/media/${id}`, { cookie: a.cookie });
    expect([jpeg.status, jpeg.headers['content-type'], jpeg.raw.length]).toEqual([200, 'image/jpeg', 4]);
    expect((await rig.call('GET', '/api/media/01JD3M6R9Q8Z4X7V2N5T0B1C3W', { cookie: a.cookie })).status).toBe(404);
    await rig.outbox.setState('lock-1', { online: true });
    const states = await rig.call('GET', '/api/states', { cookie: a.cookie });
    expect(states.body.states).toContainEqual({ device: 'lock-1', state: expect.objectContaining({ online: true }) });
    const admin = await rig.login('root');
    expect((await rig.call('POST', '/api/users/anna/disable', { cookie: admin.cookie, csrf: admin.csrf })).status).toBe(200);
    expect((await rig.call('GET', '/api/session', { cookie: a.cookie })).status).toBe(401);
    expect((await rig.call('POST', '/api/login', { body: { username: 'anna', password: PASSWORD } })).status).toBe(401);
  });

  it('sends security headers, no-store on the API, and refuses path traversal', async () => {
    const page = await rig.call('GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const api = await rig.call('GET', '/api/session');
    expect(api.headers['cache-control']).toBe('no-store');
    expect(api.headers['content-security-policy']).toContain("default-src 'self'");
    for (const path of [
      '/../package.json',
      '/%2e%2e/package.json',
      '/..%2f..%2fpackage.json',
      '/%2e%2e%2f%2e%2e%2fpackage.json',
      '/.%2e/.%2e/package.json',
      '/login.html%00.js',
    ]) {
      const r = await rawGet(rig, path);
      expect(r, path).not.toContain('"name": "gatehouse"');
      expect(r.split(' ')[1], path).toMatch(/^40[04]$/);
    }
    expect((await rig.call('GET', '/login.html')).status).toBe(200);
  });

  it('caps request bodies', async () => {
    const r = await rig.call('POST', '/api/login', { body: JSON.stringify({ username: 'a', password: 'x'.repeat(100_000) }) });
    expect(r.status).toBe(400);
  });

  it('answers 400, not 500, to a malformed %-encoding in an API path', async () => {
    const admin = await rig.login('root');
    for (const path of ['/api/users/%ZZ/disable', '/api/users/%E0%A4%A/password', '/api/commands/%']) {
      const r = await rig.call('POST', path, { body: { password: PASSWORD }, cookie: admin.cookie, csrf: admin.csrf });
      expect([r.status, r.body.error?.code], path).toEqual([400, 'CONSOLE_REQUEST_INVALID']);
    }
  });

  it('refuses to disable the last enabled administrator', async () => {
    const admin = await rig.login('root');
    const last = await rig.call('POST', '/api/users/root/disable', { cookie: admin.cookie, csrf: admin.csrf });
    expect([last.status, last.body.error.code]).toEqual([409, 'CONSOLE_LAST_ADMIN']);
    expect((await rig.call('GET', '/api/session', { cookie: admin.cookie })).status).toBe(200);
    expect(
      (
        await rig.call('POST', '/api/users', {
          body: { username: 'boss', role: 'admin', password: PASSWORD },
          cookie: admin.cookie,
          csrf: admin.csrf,
        })
      ).status,
    ).toBe(201);
    expect((await rig.call('POST', '/api/users/root/disable', { cookie: admin.cookie, csrf: admin.csrf })).status).toBe(200);
    const boss = await rig.login('boss');
    expect((await rig.call('POST', '/api/users/boss/disable', { cookie: boss.cookie, csrf: boss.csrf })).body.error.code).toBe(
      'CONSOLE_LAST_ADMIN',
    );
  });
});

/** A GET with the path sent exactly as written (an HTTP client would normalise the dots). */
function rawGet(rig: ConsoleRig, path: string): Promise<string> {
  const u = new URL(rig.url);
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false }, () =>
      s.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n\r\n`),
    );
    let out = '';
    s.on('data', (c) => (out += String(c)));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

describe('console certificate and setup token expiry', () => {
  let rig: ConsoleRig | undefined;
  afterEach(async () => {
    await rig?.stop();
    rig?.remove();
  });

  it('generates the self-signed certificate once (key 0600) and reuses it', async () => {
    rig = await new ConsoleRig().start();
    const cert = readFileSync(join(rig.dir, 'console-cert.pem'), 'utf8');
    expect(cert).toContain('BEGIN CERTIFICATE');
    expect(statSync(join(rig.dir, 'console-key.pem')).mode & 0o777).toBe(0o600);
    await rig.stop();
    const again = await new ConsoleRig(rig.dir).start();
    rig = again;
    expect(readFileSync(join(rig.dir, 'console-cert.pem'), 'utf8')).toBe(cert);
    expect((await rig.call('GET', '/login.html')).status).toBe(200);
  });

  it('a setup token expires after 24 hours', async () => {
    rig = await new ConsoleRig().start();
    const token = setupToken(rig);
    rig.clock.advance(24 * 3600_000 + 1);
    expect((await rig.call('POST', '/api/setup', { body: { token, username: 'root', password: PASSWORD } })).status).toBe(401);
  });

  it('without TLS the cookie is not Secure', async () => {
    rig = await new ConsoleRig(undefined, { tls: { enabled: false } }).start();
    expect(rig.url).toMatch(/^http:\/\//);
    await rig.console.accounts.add('root', 'admin', PASSWORD);
    const { reply } = await rig.login('root');
    expect(String(reply.headers['set-cookie'])).not.toContain('Secure');
  });

  it('a missing openssl is a coded error', async () => {
    const r = new ConsoleRig();
    const { createConsole } = await import('../../gateway/console/console-server.js');
    const { ConsoleConfig } = await import('../../config/camera-schema.js');
    const { Outbox } = await import('../../gateway/outbox/outbox.js');
    const outbox = new Outbox({ file: join(r.dir, 'outbox.db'), clock: r.clock, config: { checkpointIntervalMs: 0 } });
    const c = createConsole({
      config: { console: ConsoleConfig.parse({ port: 0 }) },
      dataDir: r.dir,
      outbox,
      router: { execute: async () => ({ id: null, ok: false, ts: '', error: { code: 'INTERNAL', message: '' } }) },
      alarms: { list: () => [], on: () => undefined as never, off: () => undefined as never },
      status: () => ({}),
      clock: r.clock,
      timers: r.clock,
      logs: (await import('../helpers/console-rig.js')).logs,
      openssl: '/nonexistent/openssl',
    });
    await expect(c.start()).rejects.toMatchObject({ code: 'CONSOLE_OPENSSL_MISSING' });
    outbox.close();
    r.remove();
  });
});
