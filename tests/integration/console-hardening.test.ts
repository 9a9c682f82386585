/**
 * The console's listener under attack from the LAN (issue 14.1, 14.2, 14.9), over real HTTPS
 * on loopback: concurrent login and setup bursts reach scrypt at most the allowed number of
 * times, half-open connections are capped per address and closed at the handshake deadline
 * (ManualClock), and TLS 1.2 accepts only ECDHE with AES-GCM/ChaCha20 (real openssl s_client).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { connect as netConnect, type Socket } from 'node:net';
import { ConsoleRig, PASSWORD } from '../helpers/console-rig.js';
import { waitFor } from '../helpers/wait.js';

let rig: ConsoleRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig?.remove();
  rig = undefined;
});

/** Counts the password checks (each one scrypt) the console runs. */
function countChecks(r: ConsoleRig): { checks: number; setups: number; running: number; peak: number } {
  const n = { checks: 0, setups: 0, running: 0, peak: 0 };
  const accounts = r.console.accounts;
  const check = accounts.check.bind(accounts);
  const setup = accounts.setup.bind(accounts);
  accounts.check = async (u, p) => {
    n.checks++;
    n.peak = Math.max(n.peak, ++n.running);
    try {
      return await check(u, p);
    } finally {
      n.running--;
    }
  };
  accounts.setup = (t, u, p) => (n.setups++, setup(t, u, p));
  return n;
}

const statuses = (replies: { status: number }[]): Record<number, number> => {
  const out: Record<number, number> = {};
  for (const r of replies) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
};

describe('console login throttling under a concurrent burst', () => {
  it('200 guesses sent at once: at most loginMaxFailures password checks per address, one per account at a time', async () => {
    rig = await new ConsoleRig(undefined, { maxConnectionsPerAddress: 1000, maxConnections: 1000 }).start();
    await rig.console.accounts.add('anna', 'guard', PASSWORD);
    const n = countChecks(rig);
    // 200 different usernames: the address budget (loginMaxFailures = 3) is spent before any hash ends.
    const guess = (username: string) => rig!.call('POST', '/api/login', { body: { username, password: 'wrong password guess' } });
    const many = await Promise.all(Array.from({ length: 200 }, (_, i) => guess(`user${i}`)));
    expect(n.checks).toBeLessThanOrEqual(3);
    // And at most loginConcurrentHashes (default 2) of them at once.
    expect(n.peak).toBeLessThanOrEqual(2);
    expect(statuses(many)).toEqual({ 401: n.checks, 429: 200 - n.checks });
    expect(many.find((r) => r.status === 429)!.headers['retry-after']).toMatch(/^\d+$/);
    rig.clock.advance(10 * 60_000 + 1);
    // 200 guesses at one account: one is checked at a time (the rest are refused while it runs),
    // and the address budget still caps the burst.
    n.checks = 0;
    n.peak = 0;
    const one = await Promise.all(Array.from({ length: 200 }, () => guess('anna')));
    expect(n.peak).toBe(1);
    expect(n.checks).toBeLessThanOrEqual(3);
    expect(statuses(one)).toEqual({ 401: n.checks, 429: 200 - n.checks });
    await rig.settle();
    // The refusals are audited once (per address and reason per minute), not 199 times.
    const refused = rig.systemEvents('console.login').filter((e) => e.data.reason === 'delayed' || e.data.reason === 'locked-out');
    expect(refused.length).toBeLessThanOrEqual(3);
    // Not a lock: once the burst is over and the delay has passed the guard gets in.
    rig.clock.advance(10 * 60_000 + 1);
    expect((await rig.call('POST', '/api/login', { body: { username: 'anna', password: PASSWORD } })).status).toBe(200);
  });

  it('200 unauthenticated /api/setup requests with wrong tokens cost no scrypt at all', async () => {
    rig = await new ConsoleRig(undefined, { maxConnectionsPerAddress: 1000, maxConnections: 1000 }).start();
    const n = countChecks(rig);
    const cpu = process.cpuUsage();
    const setup = (i: number) =>
      rig!.call('POST', '/api/setup', { body: { token: `guess-${i}-${'x'.repeat(20)}`, username: 'mallory', password: PASSWORD } });
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => setup(i)));
    const used = process.cpuUsage(cpu);
    expect(n.setups).toBe(0);
    const s = statuses(replies);
    expect((s[401] ?? 0) + (s[429] ?? 0)).toBe(200);
    expect(s[401]).toBeLessThanOrEqual(3);
    // 200 scrypt hashes would be ~10-20 s of CPU; 200 TLS handshakes and lookups are well under 5 s.
    expect((used.user + used.system) / 1e6).toBeLessThan(5);
  });
});

describe('console login failures inside the check', () => {
  it('a password check that throws does not leave the account waiting for ever', async () => {
    rig = await new ConsoleRig().start();
    await rig.console.accounts.add('anna', 'guard', PASSWORD);
    const accounts = rig.console.accounts;
    const check = accounts.check.bind(accounts);
    accounts.check = async () => {
      accounts.check = check;
      throw new Error('disk I/O error');
    };
    expect((await rig.call('POST', '/api/login', { body: { username: 'anna', password: PASSWORD } })).status).toBe(500);
    expect((await rig.call('POST', '/api/login', { body: { username: 'anna', password: PASSWORD } })).status).toBe(200);
  });
});

describe('console listener limits', () => {
  it('caps half-open connections per address and closes them at the handshake deadline', async () => {
    rig = await new ConsoleRig(undefined, { maxConnectionsPerAddress: 4, handshakeTimeoutMs: 5000 }).start();
    const port = Number(new URL(rig.url).port);
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const s = netConnect({ host: '127.0.0.1', port }, () => resolve(s));
        s.on('error', () => undefined);
        s.once('error', reject);
      });
    const closed = new Set<Socket>();
    const slow = await Promise.all(Array.from({ length: 4 }, open));
    for (const s of slow) s.on('close', () => closed.add(s));
    await waitFor(() => rig!.console.connections().open === 4, 'four half-open connections accepted');
    const fifth = await open();
    await waitFor(() => fifth.destroyed || fifth.readableEnded, 'the fifth connection from the same address closed by the server');
    expect(rig.console.connections().refused).toBe(1);
    expect(closed.size).toBe(0);
    // No TLS ClientHello within handshakeTimeoutMs: the slowloris sockets are closed.
    rig.clock.advance(5000);
    await waitFor(() => closed.size === 4, 'the half-open connections closed at the deadline');
    expect(rig.console.connections()).toMatchObject({ open: 0, timedOut: 4 });
    expect((await rig.call('GET', '/login.html')).status).toBe(200);
  });
});

describe('console TLS', () => {
  /** openssl s_client in a child process (asynchronously: the server runs in this very event loop). */
  const handshake = (port: number, args: string[]): Promise<{ ok: boolean; out: string }> =>
    new Promise((resolve, reject) => {
      const argv = ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...args];
      const child = spawn('openssl', argv, { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c) => (out += String(c)));
      child.stderr.on('data', (c) => (out += String(c)));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('error', (err) => reject(new Error(`openssl s_client could not run (is openssl installed?): ${err.message}`)));
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ ok: code === 0 && /Cipher is (?!\(NONE\))/.test(out), out });
      });
      child.stdin.end();
    });

  it('TLS 1.2 accepts ECDHE with AES-GCM or ChaCha20 only; TLS 1.3 still works', async () => {
    rig = await new ConsoleRig().start();
    const port = Number(new URL(rig.url).port);
    for (const cipher of ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305']) {
      expect((await handshake(port, ['-tls1_2', '-cipher', cipher])).ok, cipher).toBe(true);
    }
    const refused = ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA', 'ECDHE-ECDSA-AES128-SHA256'];
    refused.push('ECDHE-ECDSA-ARIA128-GCM-SHA256', 'ECDHE-ECDSA-AES128-CCM8', 'ECDHE-ECDSA-AES128-CCM');
    for (const cipher of refused) {
      const r = await handshake(port, ['-tls1_2', '-cipher', cipher]);
      expect(r.ok, `${cipher} must be refused:\n${r.out}`).toBe(false);
    }
    expect((await handshake(port, ['-tls1_3'])).ok).toBe(true);
    expect((await handshake(port, ['-tls1_1'])).ok).toBe(false);
  });
});
