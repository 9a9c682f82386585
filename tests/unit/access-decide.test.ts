import { describe, expect, it } from 'vitest';
import { decide, type DecideContext } from '../../gateway/access/decide.js';
import type { StoredCredential } from '../../gateway/access/credential-types.js';
import { accessConfig, creds, makeDecider, MON_10_BERLIN, SAT_NOON } from './access-fixtures.js';

const all = Object.values(creds);

describe('AccessDecider.decide: each reason code', () => {
  it('grants a known card on a door of its group, with the card masked', () => {
    const { decider } = makeDecider({ credentials: all });
    const d = decider.decide({ door: 'lobby', direction: 'in', card: creds.alice.card });
    expect(d).toEqual({ granted: true, reason: 'granted', credentialId: 'alice', credential: '****0718', method: 'card' });
  });

  it('accepts the card in any case (canonical uppercase hex)', () => {
    const { decider } = makeDecider({ credentials: all });
    expect(decider.decide({ door: 'lobby', direction: 'in', card: 'A1B2C3D4E5F60718' }).reason).toBe('granted');
  });

  it('grants a PIN-only credential by its PIN, masked as ****', () => {
    const { decider } = makeDecider({ credentials: all });
    expect(decider.decide({ door: 'lobby', direction: 'in', pin: creds.bob.pin })).toEqual({
      granted: true,
      reason: 'granted',
      credentialId: 'bob',
      credential: '****',
      method: 'pin',
    });
  });

  it('unknown: a card, a PIN, nothing, and something that is not hex', () => {
    const { decider } = makeDecider({ credentials: all });
    expect(decider.decide({ door: 'lobby', direction: 'in', card: '0011223344556677' })).toEqual({
      granted: false,
      reason: 'unknown',
      credential: '****6677',
      method: 'card',
    });
    expect(decider.decide({ door: 'lobby', direction: 'in', pin: '000000' })).toMatchObject({
      reason: 'unknown',
      credential: '****',
      method: 'pin',
    });
    expect(decider.decide({ door: 'lobby', direction: 'in' }).reason).toBe('unknown');
    expect(decider.decide({ door: 'lobby', direction: 'in', card: 'not-a-card' })).toMatchObject({ reason: 'unknown', credential: '****' });
  });

  it('revoked: a revoked card is reported as revoked, not unknown', () => {
    const { decider } = makeDecider({ credentials: all });
    decider.sync.applyDelta({ fromVersion: 1, toVersion: 2, changes: [{ op: 'revoke', id: 'alice' }] });
    expect(decider.decide({ door: 'lobby', direction: 'in', card: creds.alice.card })).toMatchObject({
      granted: false,
      reason: 'revoked',
      credentialId: 'alice',
    });
  });

  it('not_yet_valid and expired at the exact boundaries (validTo is exclusive)', () => {
    const lease = { ...creds.alice, validFrom: '2026-11-21T12:00:00Z', validTo: '2026-12-01T00:00:00+01:00' };
    const { decider } = makeDecider({ credentials: [lease] });
    const from = Date.parse(lease.validFrom);
    const to = Date.parse(lease.validTo);
    expect(decider.decide({ door: 'gate', direction: 'in', card: lease.card, now: from - 1 }).reason).toBe('not_yet_valid');
    expect(decider.decide({ door: 'lobby', direction: 'in', card: lease.card, now: from }).reason).toBe('granted');
    expect(decider.decide({ door: 'lobby', direction: 'in', card: lease.card, now: to - 1 }).reason).toBe('granted');
    expect(decider.decide({ door: 'lobby', direction: 'in', card: lease.card, now: to }).reason).toBe('expired');
  });

  it('wrong_door: outside its groups and extra doors, or a door this gateway does not control', () => {
    const { decider } = makeDecider({ credentials: all });
    expect(decider.decide({ door: 'gym', direction: 'in', card: creds.alice.card }).reason).toBe('wrong_door');
    expect(decider.decide({ door: 'elsewhere', direction: 'in', card: creds.alice.card }).reason).toBe('wrong_door');
    // carol has two groups: the union counts
    expect(decider.decide({ door: 'gym', direction: 'in', card: creds.carol.card, pin: creds.carol.pin }).reason).toBe('granted');
  });

  it('extra individual doors and schedules: dave may use the garage in office hours only', () => {
    const { decider } = makeDecider({ credentials: all });
    expect(decider.decide({ door: 'garage', direction: 'in', card: creds.dave.card, now: SAT_NOON }).reason).toBe('outside_schedule');
    expect(decider.decide({ door: 'garage', direction: 'in', card: creds.dave.card, now: MON_10_BERLIN }).reason).toBe('granted');
  });

  it('outside_schedule when the credential names a schedule the config does not have', () => {
    const { decider } = makeDecider({ credentials: [{ ...creds.alice, schedule: 'nope' }] });
    expect(decider.decide({ door: 'lobby', direction: 'in', card: creds.alice.card, now: MON_10_BERLIN }).reason).toBe('outside_schedule');
  });

  it('pin_required, wrong_pin, then granted for card+pin', () => {
    const { decider } = makeDecider({ credentials: all });
    expect(decider.decide({ door: 'lobby', direction: 'in', card: creds.carol.card })).toMatchObject({
      granted: false,
      reason: 'pin_required',
      credentialId: 'carol',
      method: 'card',
    });
    expect(decider.decide({ door: 'lobby', direction: 'in', card: creds.carol.card, pin: '1111' })).toMatchObject({
      reason: 'wrong_pin',
      method: 'card+pin',
    });
    expect(decider.decide({ door: 'lobby', direction: 'in', card: creds.carol.card, pin: creds.carol.pin })).toMatchObject({
      granted: true,
      reason: 'granted',
      credential: '****5678',
      method: 'card+pin',
    });
  });

  it('a card+pin PIN typed alone is not a PIN-only credential', () => {
    const { decider } = makeDecider({ credentials: all });
    expect(decider.decide({ door: 'lobby', direction: 'in', pin: creds.carol.pin }).reason).toBe('unknown');
  });

  it('pin_locked_out after pinMaxAttempts wrong PINs, even with the right PIN, until pinLockoutMs has passed', () => {
    const { decider, clock } = makeDecider({ credentials: all });
    const attempt = (pin: string) => decider.decide({ door: 'lobby', direction: 'in', card: creds.carol.card, pin }).reason;
    expect([attempt('1111'), attempt('2222'), attempt('3333')]).toEqual(['wrong_pin', 'wrong_pin', 'wrong_pin']);
    expect(attempt(creds.carol.pin)).toBe('pin_locked_out');
    clock.advance(59_999);
    expect(attempt(creds.carol.pin)).toBe('pin_locked_out');
    clock.advance(1);
    expect(attempt(creds.carol.pin)).toBe('granted');
  });

  it('a right PIN clears the wrong-PIN count', () => {
    const { decider } = makeDecider({ credentials: all });
    const attempt = (pin: string) => decider.decide({ door: 'lobby', direction: 'in', card: creds.carol.card, pin }).reason;
    attempt('1111');
    attempt('2222');
    expect(attempt(creds.carol.pin)).toBe('granted');
    expect([attempt('1111'), attempt('2222'), attempt(creds.carol.pin)]).toEqual(['wrong_pin', 'wrong_pin', 'granted']);
  });

  it('anti_passback (hard): a second entry without exit is refused; exit then entry works', () => {
    const { decider } = makeDecider({ credentials: all });
    const gateIn = () => decider.decide({ door: 'gate', direction: 'in', card: creds.alice.card });
    expect(gateIn().reason).toBe('granted');
    decider.commitPassage({ credentialId: 'alice', door: 'gate', direction: 'in' });
    expect(gateIn()).toMatchObject({ granted: false, reason: 'anti_passback', credentialId: 'alice' });
    expect(decider.decide({ door: 'gate', direction: 'out', card: creds.alice.card }).reason).toBe('granted');
    decider.commitPassage({ credentialId: 'alice', door: 'gate', direction: 'out' });
    expect(gateIn().reason).toBe('granted');
  });

  it('a grant that nobody used does not count as a passage', () => {
    const { decider } = makeDecider({ credentials: all });
    decider.decide({ door: 'gate', direction: 'in', card: creds.alice.card });
    expect(decider.decide({ door: 'gate', direction: 'in', card: creds.alice.card }).reason).toBe('granted');
  });

  it('anti-passback (soft): granted and reported', () => {
    const config = accessConfig({ antiPassback: [{ id: 'compound', doors: ['gate'], mode: 'soft' }] });
    const { decider } = makeDecider({ credentials: all, config });
    decider.commitPassage({ credentialId: 'alice', door: 'gate', direction: 'in' });
    expect(decider.decide({ door: 'gate', direction: 'in', card: creds.alice.card })).toEqual({
      granted: true,
      reason: 'granted',
      credentialId: 'alice',
      credential: '****0718',
      method: 'card',
      antiPassback: { area: 'compound', mode: 'soft', violation: true },
    });
  });

  it('never puts the clear card or PIN in a decision', () => {
    const { decider } = makeDecider({ credentials: all });
    const out = JSON.stringify([
      decider.decide({ door: 'lobby', direction: 'in', card: creds.carol.card, pin: creds.carol.pin }),
      decider.decide({ door: 'gym', direction: 'in', card: creds.carol.card, pin: '55555555' }),
      decider.decide({ door: 'lobby', direction: 'in', pin: creds.bob.pin }),
      decider.decide({ door: 'lobby', direction: 'in', card: '99887766554433221100' }),
    ]);
    for (const secret of [
      creds.carol.card,
      creds.carol.pin,
      creds.bob.pin,
      '55555555',
      '99887766554433221100',
      creds.carol.card.slice(0, 8),
    ]) {
      expect(out).not.toContain(secret);
    }
  });
});

describe('decide: order of checks', () => {
  const base: StoredCredential = { id: 'x', mode: 'card+pin', cardMask: '****ABCD', pinHash: Buffer.alloc(32), groups: ['g'], doors: [] };
  const ctx = (cred: StoredCredential | undefined, over: Partial<DecideContext> = {}): DecideContext => ({
    lookupCard: () => cred,
    lookupPin: () => undefined,
    checkPin: (_c, pin) => pin === '1234',
    doorGroups: new Map([['g', new Set(['d'])]]),
    doors: new Set(['d', 'other']),
    scheduleOpen: () => true,
    pinLockedOut: () => false,
    antiPassback: () => ({ ok: true }),
    ...over,
  });
  const req = { door: 'd', direction: 'in' as const, card: 'ABCD', pin: '1234', now: 1000 };
  const everythingWrong = ctx(
    { ...base, revokedAt: 1, validFrom: 5000, validTo: 500, schedule: 's' },
    {
      doors: new Set(['other']),
      scheduleOpen: () => false,
      pinLockedOut: () => true,
      checkPin: () => false,
      antiPassback: () => ({ ok: false, area: 'a', mode: 'hard' }),
    },
  );

  it('peels off one failing check at a time, in the documented order', () => {
    const seen: string[] = [];
    // Start from a context where everything fails, and fix the reason just reported each round.
    const cred: StoredCredential = { ...base, revokedAt: 1, validFrom: 5000, validTo: 500, schedule: 's' };
    let over: Partial<DecideContext> = {
      doors: new Set(['other']),
      scheduleOpen: () => false,
      pinLockedOut: () => true,
      checkPin: () => false,
      antiPassback: () => ({ ok: false, area: 'a', mode: 'hard' }),
    };
    let r: Partial<typeof req> = { pin: undefined };
    expect(decide({ ...req, card: undefined, pin: undefined }, everythingWrong).reason).toBe('unknown');
    seen.push('unknown');
    const fixes: Record<string, () => void> = {
      revoked: () => {
        delete cred.revokedAt;
      },
      not_yet_valid: () => {
        delete cred.validFrom;
      },
      expired: () => {
        delete cred.validTo;
      },
      wrong_door: () => {
        over = { ...over, doors: new Set(['d']) };
      },
      outside_schedule: () => {
        over = { ...over, scheduleOpen: () => true };
      },
      pin_required: () => {
        r = {};
      },
      pin_locked_out: () => {
        over = { ...over, pinLockedOut: () => false };
      },
      wrong_pin: () => {
        over = { ...over, checkPin: () => true };
      },
      anti_passback: () => {
        over = { ...over, antiPassback: () => ({ ok: true }) };
      },
    };
    for (let round = 0; round < 20; round++) {
      const d = decide({ ...req, ...r }, ctx(cred, over));
      seen.push(d.reason);
      if (d.granted) break;
      const fix = fixes[d.reason];
      expect(fix, `no fix for ${d.reason}`).toBeDefined();
      fix!();
    }
    expect(seen).toEqual([
      'unknown',
      'revoked',
      'not_yet_valid',
      'expired',
      'wrong_door',
      'outside_schedule',
      'pin_required',
      'pin_locked_out',
      'wrong_pin',
      'anti_passback',
      'granted',
    ]);
  });
});
