/**
 * The pure rules behind the embedded broker's login defences: throttling per address and
 * per username on a hand-driven clock, the session caps that keep room for devices, and
 * the operator ACL (no command subscriptions, no command wills).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/core/clock.js';
import { AuthThrottle } from '../../gateway/broker/auth-throttle.js';
import { capacityRefusal, type ClientInfo } from '../../gateway/broker/login.js';
import { authorizeSubscribe, authorizeWill, type Account } from '../../gateway/broker/acl.js';

const LIMITS = { freeFailures: 3, baseDelayMs: 250, maxDelayMs: 4000, forgetAfterMs: 60_000 };
const ROOT = 'gatehouse/v1/c/g';

function fail(t: AuthThrottle, address: string, user: string | undefined): number {
  const v = t.begin(address, user);
  if (v.refused) return -1;
  v.finish('failed');
  return v.delayMs;
}

describe('AuthThrottle', () => {
  it('doubles the delay per address after the free failures, then refuses the address until it is forgotten', () => {
    const clock = new ManualClock();
    const t = new AuthThrottle(LIMITS, clock);
    // Different usernames each time: only the address counter grows.
    const delays = Array.from({ length: 10 }, (_, i) => fail(t, '10.0.0.9', `u${i}`));
    expect(delays).toEqual([0, 0, 0, 250, 500, 1000, 2000, 4000, -1, -1]);
    expect(t.begin('10.0.0.8', 'u0')).toMatchObject({ refused: false, delayMs: 0 }); // another host is not affected
    clock.advance(60_000);
    expect(t.begin('10.0.0.9', 'u0')).toMatchObject({ refused: false, delayMs: 0 });
  });

  it('caps the delay of a username but never refuses it, and a right password clears it', () => {
    const t = new AuthThrottle(LIMITS, new ManualClock());
    const delays = Array.from({ length: 10 }, (_, i) => fail(t, `10.0.1.${i}`, 'flat-1'));
    expect(delays).toEqual([0, 0, 0, 250, 500, 1000, 2000, 4000, 4000, 4000]);
    const ok = t.begin('10.0.9.9', 'flat-1');
    expect(ok).toMatchObject({ refused: false, delayMs: 4000 });
    if (!ok.refused) ok.finish('ok');
    expect(t.begin('10.0.9.8', 'flat-1')).toMatchObject({ delayMs: 0 });
  });

  it('counts attempts in flight, so a parallel burst gets no more free tries than a sequence', () => {
    const t = new AuthThrottle(LIMITS, new ManualClock());
    const burst = Array.from({ length: 6 }, () => t.begin('10.0.0.5', 'flat-2'));
    expect(burst.map((v) => (v.refused ? -1 : v.delayMs))).toEqual([0, 0, 0, 250, 500, 1000]);
  });

  it('an abandoned attempt (closed before its check) is not a failure', () => {
    const t = new AuthThrottle({ ...LIMITS, freeFailures: 0 }, new ManualClock());
    const v = t.begin('10.0.0.6', 'flat-3');
    if (!v.refused) v.finish('abandoned');
    expect(t.failuresOf('10.0.0.6')).toBe(0);
  });
});

describe('capacityRefusal', () => {
  const session = (username: string, role: Account['role']): ClientInfo => ({ account: { username, role } });
  const config = { maxConnections: 4, maxSessionsPerOperator: 2 };

  it("never refuses a device, the gateway or an operator's first session; keeps room for every account not connected", () => {
    const live = [session('ops', 'operator'), session('lock-1', 'device')];
    const accounts = { devices: 3, operators: 2 };
    expect(capacityRefusal({ username: 'lock-2', role: 'device' }, live, accounts, { ...config, maxConnections: 1 })).toBeUndefined();
    expect(capacityRefusal({ username: 'gw', role: 'gateway' }, live, accounts, { ...config, maxConnections: 1 })).toBeUndefined();
    expect(capacityRefusal({ username: 'bms', role: 'operator' }, live, accounts, { ...config, maxConnections: 1 })).toBeUndefined();
    // A second session of ops: 2 sessions + room for lock-2, lock-3 and bms = 5 > 4.
    expect(capacityRefusal({ username: 'ops', role: 'operator' }, live, accounts, config)).toMatch(
      /room kept for 3 configured devices and operators/,
    );
    expect(capacityRefusal({ username: 'ops', role: 'operator' }, live, accounts, { ...config, maxConnections: 6 })).toBeUndefined();
    const two = [...live, session('ops', 'operator')];
    expect(capacityRefusal({ username: 'ops', role: 'operator' }, two, accounts, { ...config, maxConnections: 100 })).toMatch(
      /already has 2 sessions/,
    );
  });
});

describe('operator ACL', () => {
  const op: Account = { username: 'bms', role: 'operator' };
  const limits = { maxPayloadBytes: 1024, maxTopicDepth: 10 };

  it('refuses subscriptions to commands and answers, allows the rest of the root', () => {
    for (const f of [`${ROOT}/cmd`, `${ROOT}/cmd/#`, `${ROOT}/cmd/+`, `${ROOT}/cmd/+/res`, `${ROOT}/cmd/lock.open/res`]) {
      expect(authorizeSubscribe(op, f, ROOT, limits).ok, f).toBe(false);
    }
    for (const f of [`${ROOT}/#`, `${ROOT}/evt/#`, `${ROOT}/state/+`]) expect(authorizeSubscribe(op, f, ROOT, limits).ok, f).toBe(true);
  });

  it('refuses a last will on a command topic, for every role', () => {
    const will = { topic: `${ROOT}/cmd/lock.open`, payloadBytes: 20, retain: false };
    expect(authorizeWill(op, will, ROOT, limits)).toEqual({ ok: false, reason: 'a last will may not be a command' });
    expect(authorizeWill({ username: 'gw', role: 'gateway' }, will, ROOT, limits).ok).toBe(false);
    expect(authorizeWill({ username: 'gw', role: 'gateway' }, { ...will, topic: `${ROOT}/status` }, ROOT, limits).ok).toBe(true);
  });
});
