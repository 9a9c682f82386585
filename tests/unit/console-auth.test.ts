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
import { LoginLimiter } from '../../gateway/console/login-limiter.js';

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
  it('locks the username and the address after N failures, for the lockout period', () => {
    let now = 0;
    const l = new LoginLimiter(() => now, { maxFailures: 3, lockoutMs: 60_000 });
    expect(l.fail('anna', '10.0.0.1')).toBe(false);
    expect(l.fail('anna', '10.0.0.1')).toBe(false);
    expect(l.locked('anna', '10.0.0.9')).toBe(false);
    expect(l.fail('ANNA', '10.0.0.2')).toBe(true);
    expect(l.locked('anna', '10.0.0.9')).toBe(true);
    expect(l.locked('ivan', '10.0.0.1')).toBe(false);
    now += 60_000;
    expect(l.locked('anna', '10.0.0.9')).toBe(false);
    // After a lockout the count starts again from zero.
    expect(l.fail('anna', '10.0.0.3')).toBe(false);
  });

  it('forgives old failures and a success clears the username', () => {
    let now = 0;
    const l = new LoginLimiter(() => now, { maxFailures: 3, lockoutMs: 60_000 });
    l.fail('anna', 'a');
    l.fail('anna', 'b');
    now += 61_000;
    expect(l.fail('anna', 'c')).toBe(false);
    l.fail('anna', 'd');
    l.succeed('anna');
    expect(l.fail('anna', 'e')).toBe(false);
  });

  it('stays bounded', () => {
    const l = new LoginLimiter(() => 0, { maxFailures: 3, lockoutMs: 60_000, maxKeys: 100 });
    for (let i = 0; i < 1000; i++) l.fail(`u${i}`, `a${i}`);
    expect((l as unknown as { entries: Map<string, unknown> }).entries.size).toBeLessThanOrEqual(100);
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
    for (const p of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/x/../../package.json', '/.%2e/package.json', '/%2e%2e%5cpackage.json', '/login.html%00', '/%E0%A4%A', '/.hidden']) {
      expect(staticFile(dir, p), p).toBeUndefined();
    }
  });
});
