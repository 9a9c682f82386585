/**
 * The console's building blocks without a server: password hashing, the login limiter's
 * counting and expiry, the same-origin rule and the static path resolution.
 */
import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { resolve } from 'node:path';
import { hashPassword, verifyPassword } from '../../gateway/console/accounts.js';
import { defaultPublicDir, staticFile } from '../../gateway/console/console-server.js';
import { sameOrigin } from '../../gateway/console/http-util.js';
import { HashGate, LoginLimiter, type LoginTicket, type LoginVerdict } from '../../gateway/console/login-limiter.js';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('console password hashes', () => {
  it('are salted scrypt with their parameters, and verify only the right password', async () => {
    const a = await hashPassword('a long enough password');
    const b = await hashPassword('a long enough password');
    expect(a).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('a long enough password', a)).toBe(true);
    expect(await verifyPassword('a long enough passworD', a)).toBe(false);
    expect(await verifyPassword('x', 'plain-text')).toBe(false);
    expect(await verifyPassword('x', '$scrypt$ln=30,r=8,p=1$AAAA$AAAA')).toBe(false);
  });
});

describe('login limiter', () => {
  const limits = { maxFailures: 3, lockoutMs: 60_000, accountDelayMaxMs: 30_000 };
  const admitted = (v: LoginVerdict): LoginTicket => {
    if (!v.ok) throw new Error(`refused: ${v.reason}`);
    return v.ticket;
  };

  it('counts an attempt before it is judged: a burst from one address gets maxFailures tries, then waits the lockout', () => {
    let now = 0;
    const l = new LoginLimiter(() => now, limits);
    // Three different accounts, none settled yet (their hashes are still running).
    const tickets = ['a', 'b', 'c'].map((u) => admitted(l.begin(u, '10.0.0.1')));
    expect(l.begin('d', '10.0.0.1')).toEqual({ ok: false, reason: 'address-throttled', retryAfterMs: 60_000 });
    expect(tickets.map((t) => t.fail())).toEqual([false, false, true]);
    expect(l.begin('e', '10.0.0.2').ok).toBe(true);
    now += 60_000;
    expect(l.begin('d', '10.0.0.1').ok).toBe(true);
  });

  it('lets one attempt per account be judged at a time, from any address', () => {
    const l = new LoginLimiter(() => 0, limits);
    const first = admitted(l.begin('anna', '10.0.0.1'));
    expect(l.begin('ANNA', '10.0.0.2')).toMatchObject({ ok: false, reason: 'account-delayed' });
    first.fail();
    expect(l.begin('anna', '10.0.0.2').ok).toBe(true);
  });

  it('delays an account after a few failures, doubling up to the maximum, but never locks it', () => {
    let now = 0;
    const l = new LoginLimiter(() => now, limits);
    let addr = 0;
    const failFromNewAddress = () => admitted(l.begin('anna', `10.0.1.${addr++}`)).fail();
    for (let i = 0; i < 3; i++) failFromNewAddress();
    // The third failure starts a 1 s delay, then 2 s, 4 s, ... capped at 30 s.
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const v = l.begin('anna', `10.0.1.${addr++}`);
      expect(v.ok).toBe(false);
      delays.push((v as { retryAfterMs: number }).retryAfterMs);
      now += delays.at(-1)!;
      failFromNewAddress();
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('an attacker cannot lock a guard out: the address the guard signed in from skips the account delay', () => {
    let now = 0;
    const l = new LoginLimiter(() => now, limits);
    admitted(l.begin('anna', 'tablet')).succeed();
    for (let i = 0; i < 200; i++) {
      const v = l.begin('anna', `10.9.${i >> 8}.${i & 255}`);
      if (v.ok) v.ticket.fail();
      now += 100;
    }
    expect(l.begin('anna', '10.9.9.9')).toMatchObject({ ok: false, reason: 'account-delayed' });
    // Even with an attacker's attempt in flight right now.
    const inFlight = l.begin('anna', '10.9.9.9');
    const guard = l.begin('anna', 'tablet');
    expect(guard.ok).toBe(true);
    admitted(guard).succeed();
    expect(inFlight.ok).toBe(false);
  });

  it('a success or an attempt never judged gives its count back', () => {
    const l = new LoginLimiter(() => 0, limits);
    for (let i = 0; i < 10; i++) admitted(l.begin(`u${i}`, 'nat')).succeed();
    for (let i = 0; i < 10; i++) admitted(l.begin(`v${i}`, 'nat')).release();
    expect(l.begin('w', 'nat').ok).toBe(true);
  });

  it('stays bounded', () => {
    const l = new LoginLimiter(() => 0, { ...limits, maxKeys: 100 });
    for (let i = 0; i < 1000; i++) admitted(l.begin(`u${i}`, `a${i}`)).fail();
    const size = l.size();
    expect(Math.max(size.addresses, size.accounts, size.trusted)).toBeLessThanOrEqual(100);
  });
});

describe('hash gate', () => {
  it('runs at most N at once, queues M more and refuses the rest without running them', async () => {
    const gate = new HashGate(2, 3);
    let running = 0;
    let ran = 0;
    const releases: (() => void)[] = [];
    const job = () =>
      new Promise<number>((resolve) => {
        running++;
        ran++;
        releases.push(() => {
          running--;
          resolve(1);
        });
      });
    const results = Array.from({ length: 10 }, () => gate.run(job));
    await new Promise((r) => setImmediate(r));
    expect([running, ran]).toEqual([2, 2]);
    const settled = await Promise.race([Promise.all(results.slice(5)), new Promise((r) => setTimeout(() => r('pending'), 50))]);
    expect(settled).toEqual([undefined, undefined, undefined, undefined, undefined]);
    while (releases.length) {
      releases.shift()!();
      await new Promise((r) => setImmediate(r));
      expect(running).toBeLessThanOrEqual(2);
    }
    expect((await Promise.all(results.slice(0, 5))).map((r) => r?.value)).toEqual([1, 1, 1, 1, 1]);
    expect([ran, gate.peak]).toEqual([5, 2]);
  });
});

describe('same origin', () => {
  it('wants Origin (or Referer) equal to scheme://Host', () => {
    expect(sameOrigin(req({ host: 'gw:8443', origin: 'https://gw:8443' }), true)).toBe(true);
    expect(sameOrigin(req({ host: 'gw:8443', origin: 'http://gw:8443' }), true)).toBe(false);
    expect(sameOrigin(req({ host: 'gw:8443', origin: 'https://evil:8443' }), true)).toBe(false);
    expect(sameOrigin(req({ host: 'gw:8443', origin: 'null' }), true)).toBe(false);
    expect(sameOrigin(req({ host: 'gw:8443', referer: 'https://gw:8443/index.html' }), true)).toBe(true);
    expect(sameOrigin(req({ host: 'gw:8443', referer: 'https://gw:8443.evil/x' }), true)).toBe(false);
    expect(sameOrigin(req({ host: 'gw:8443' }), true)).toBe(false);
  });
});

describe('static files', () => {
  const dir = defaultPublicDir();
  it('serves the pages and nothing outside the public dir', () => {
    expect(staticFile(dir, '/')).toBe(resolve(dir, 'index.html'));
    expect(staticFile(dir, '/login.html')).toBe(resolve(dir, 'login.html'));
    for (const p of [
      '/../package.json',
      '/%2e%2e/package.json',
      '/..%2fpackage.json',
      '/x/../../package.json',
      '/.%2e/package.json',
      '/%2e%2e%5cpackage.json',
      '/login.html%00',
      '/%E0%A4%A',
      '/.hidden',
    ]) {
      expect(staticFile(dir, p), p).toBeUndefined();
    }
  });
});
