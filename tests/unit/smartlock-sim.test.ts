/**
 * The simulator's logic without a network: the credential list a lock decides from, and
 * the scenario driver, which must make the same choices for the same seed.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/core/clock.js';
import { CredentialStore } from '../../sim/smartlock/credentials.js';
import { makeResidents, Scenario, type ScenarioLock } from '../../sim/smartlock/scenario.js';
import { seededRandom, weighted } from '../../sim/smartlock/random.js';

const NOW = Date.UTC(2026, 10, 21, 12);

describe('CredentialStore', () => {
  it('decides like a lock: validity windows, wrong PIN, unknown card, revoked', () => {
    const s = new CredentialStore(3);
    s.set({ credentialId: 'card-1', kind: 'card', value: 'AABBCCDD' });
    s.set({ credentialId: 'pin-1', kind: 'pin', value: '482915', validFrom: new Date(NOW + 3600_000).toISOString() });
    s.set({ credentialId: 'card-old', kind: 'card', value: '11223344', validTo: new Date(NOW - 1).toISOString() });
    expect(s.check('card', 'AABBCCDD', NOW)).toEqual({ granted: true, credentialId: 'card-1' });
    expect(s.check('pin', '482915', NOW)).toEqual({ granted: false, reason: 'not_yet_valid' });
    expect(s.check('pin', '482915', NOW + 3600_000)).toMatchObject({ granted: true });
    expect(s.check('card', '11223344', NOW)).toEqual({ granted: false, reason: 'expired' });
    expect(s.check('pin', '000000', NOW)).toEqual({ granted: false, reason: 'wrong_pin' });
    expect(s.check('card', 'FFFFFFFF', NOW)).toEqual({ granted: false, reason: 'unknown' });
    expect(s.set({ credentialId: 'card-4', kind: 'card', value: '99999999' })).toBe(false); // full
    expect(s.revoke('card-1')).toBe(true);
    expect(s.revoke('card-1')).toBe(false);
    expect(s.check('card', 'AABBCCDD', NOW)).toEqual({ granted: false, reason: 'revoked' });
    s.set({ credentialId: 'card-1', kind: 'card', value: 'AABBCCDD' }); // a new tenancy
    expect(s.check('card', 'AABBCCDD', NOW)).toMatchObject({ granted: true });
  });
});

class FakeLock implements ScenarioLock {
  battery = 50;
  isForcedOffline = false;
  readonly did: string[] = [];
  constructor(readonly id: string) {}
  present(kind: string, value: string) {
    this.did.push(`${kind}:${value}`);
  }
  setBattery(level: number) {
    this.battery = level;
    this.did.push(`battery:${level}`);
  }
  goOffline() {
    this.isForcedOffline = true;
    this.did.push('offline');
  }
  goOnline() {
    this.isForcedOffline = false;
    this.did.push('online');
  }
}

function runScenario(seed: number, steps: number, weights = {}) {
  const clock = new ManualClock();
  const random = seededRandom(seed);
  const locks = ['flat-1', 'flat-2', 'flat-3'].map((id) => new FakeLock(id));
  const residents = new Map(locks.map((l) => [l.id, makeResidents(l.id, random, NOW)]));
  const scenario = new Scenario({ locks, residents, timers: clock, random, meanIntervalMs: 1000, weights, offlineForMs: 5000 });
  scenario.start();
  while (scenario.log.length < steps) clock.advance(100);
  scenario.stop();
  return { locks, residents, log: scenario.log, clock };
}

describe('Scenario', () => {
  it('is reproducible from its seed', () => {
    const a = runScenario(7, 200);
    const b = runScenario(7, 200);
    const c = runScenario(8, 200);
    expect(a.log).toEqual(b.log);
    expect(a.locks.map((l) => l.did)).toEqual(b.locks.map((l) => l.did));
    expect(a.log).not.toEqual(c.log);
  });

  it('residents use their own credentials; strangers and former tenants appear too', () => {
    const { locks, residents, log } = runScenario(3, 300, { offline: 0 });
    const actions = new Set(log.map((l) => l.action));
    for (const a of ['resident', 'wrongPin', 'stranger', 'formerTenant', 'battery']) expect(actions.has(a as never)).toBe(true);
    for (const lock of locks) {
      const mine = residents.get(lock.id)!;
      const former = mine.find((r) => r.validTo)!;
      expect(Date.parse(former.validTo!)).toBeLessThan(NOW);
      const presented = lock.did.filter((d) => !d.startsWith('battery'));
      expect(presented.some((d) => mine.some((r) => !r.validTo && d === `${r.kind}:${r.value}`))).toBe(true);
    }
  });

  it('unplugs a lock for offlineForMs and leaves it alone meanwhile', () => {
    const { locks, log, clock } = runScenario(11, 60, { resident: 1, offline: 50 });
    const offline = log.filter((l) => l.action === 'offline');
    expect(offline.length).toBeGreaterThan(0);
    clock.advance(5000);
    for (const l of locks) {
      expect(l.isForcedOffline).toBe(false);
      // Every unplug is followed by a plug-back before the next unplug of the same lock.
      const seq = l.did.filter((d) => d === 'offline' || d === 'online').join(',');
      expect(seq).not.toMatch(/offline,offline/);
    }
  });

  it('weighted choice follows the weights', () => {
    const random = seededRandom(1);
    const counts = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 10_000; i++) counts[weighted(random, { a: 1, b: 3, c: 0 })]++;
    expect(counts.c).toBe(0);
    expect(counts.b / counts.a).toBeGreaterThan(2.5);
    expect(counts.b / counts.a).toBeLessThan(3.5);
  });
});
