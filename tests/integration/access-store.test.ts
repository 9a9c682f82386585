/**
 * The credential store and its sync on a real SQLite file: chunked snapshots, deltas,
 * uniqueness, atomicity when an apply fails, reopen, and no clear card or PIN on disk.
 */
import type { Database as Db } from 'better-sqlite3';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Decider } from '../../gateway/access/access-service.js';
import type { AccessDecider } from '../../gateway/access/decider.js';
import type { Credential } from '../../gateway/access/credential-types.js';
import { GatehouseError, isGatehouseError } from '../../gateway/core/errors.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { creds, makeDecider, SAT_NOON } from '../unit/access-fixtures.js';
import { migratedDb } from '../helpers/store.js';

let dir: string;
let file: string;
const open: Db[] = [];

function openDb(): Db {
  const db = migratedDb(file);
  open.push(db);
  return db;
}

function thrown(fn: () => unknown): GatehouseError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatehouseError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

const chunk = (version: number, i: number, n: number, credentials: Credential[]) => ({ version, chunk: i, chunks: n, credentials });
const at = (d: AccessDecider, card: string, door = 'lobby') => d.decide({ door, direction: 'in', card }).reason;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gh-access-'));
  file = join(dir, 'outbox.db');
});
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('snapshot sync', () => {
  it('applies when every chunk is in, in any order, a duplicated chunk being harmless', () => {
    const { decider } = makeDecider({ db: openDb() });
    const parts = [[creds.alice], [creds.bob], [creds.carol, creds.dave]];
    expect(decider.sync.applySnapshotChunk(chunk(5, 2, 3, parts[2]!))).toEqual({ applied: false, version: 0, received: 1, of: 3 });
    expect(decider.sync.applySnapshotChunk(chunk(5, 0, 3, parts[0]!))).toEqual({ applied: false, version: 0, received: 2, of: 3 });
    expect(decider.sync.applySnapshotChunk(chunk(5, 0, 3, parts[0]!))).toEqual({ applied: false, version: 0, received: 2, of: 3 });
    expect(decider.syncState().staging).toEqual({ version: 5, received: 2, of: 3 });
    // nothing is usable before the last chunk
    expect(at(decider, creds.alice.card)).toBe('unknown');
    expect(decider.sync.applySnapshotChunk(chunk(5, 1, 3, parts[1]!))).toEqual({ applied: true, version: 5, received: 3, of: 3 });
    expect(at(decider, creds.alice.card)).toBe('granted');
    expect(decider.decide({ door: 'lobby', direction: 'in', pin: creds.bob.pin }).reason).toBe('granted');
    expect(decider.syncState()).toEqual({ version: 5, count: 4, appliedAt: SAT_NOON, staging: null });
    // a late re-send of any chunk of the applied version changes nothing
    expect(decider.sync.applySnapshotChunk(chunk(5, 1, 3, parts[1]!))).toEqual({
      applied: false,
      version: 5,
      received: 3,
      of: 3,
      stale: false,
    });
  });

  it('a newer snapshot abandons an older staging; older chunks arriving later are stale', () => {
    const { decider } = makeDecider({ db: openDb() });
    decider.sync.applySnapshotChunk(chunk(2, 0, 2, [creds.alice]));
    decider.sync.applySnapshotChunk(chunk(3, 0, 2, [creds.bob]));
    expect(decider.sync.applySnapshotChunk(chunk(2, 1, 2, [creds.carol]))).toMatchObject({ applied: false, version: 0, stale: true });
    expect(decider.sync.applySnapshotChunk(chunk(3, 1, 2, [creds.dave]))).toEqual({ applied: true, version: 3, received: 2, of: 2 });
    expect(at(decider, creds.alice.card)).toBe('unknown');
    expect(decider.store.count()).toBe(2);
    expect(openDb().prepare('SELECT COUNT(*) FROM access_staging').pluck().get() as number).toBe(0);
    // a snapshot older than the applied one is stale too
    expect(decider.sync.applySnapshotChunk(chunk(2, 0, 1, [creds.alice]))).toMatchObject({ applied: false, version: 3, stale: true });
  });

  it('refuses a chunk that disagrees on the number of chunks', () => {
    const { decider } = makeDecider({ db: openDb() });
    decider.sync.applySnapshotChunk(chunk(2, 0, 3, [creds.alice]));
    expect(thrown(() => decider.sync.applySnapshotChunk(chunk(2, 1, 2, [creds.bob]))).code).toBe('CMD_INVALID');
  });

  it('refuses an invalid payload with CMD_INVALID and without echoing it', () => {
    const { decider } = makeDecider({ db: openDb() });
    const err = thrown(() => decider.sync.applySnapshotChunk(chunk(1, 0, 1, [{ ...creds.carol, pin: '12x45678' } as Credential])));
    expect(err.code).toBe('CMD_INVALID');
    expect(err.message).toContain('credentials.0.pin');
    expect(JSON.stringify(err.toJSON())).not.toContain('12x45678');
    expect(JSON.stringify(err.toJSON())).not.toContain(creds.carol.card);
  });

  it('credentials missing from a new snapshot stay known as revoked', () => {
    const { decider } = makeDecider({ db: openDb(), credentials: [creds.alice, creds.bob] });
    decider.sync.applySnapshotChunk(chunk(2, 0, 1, [creds.bob]));
    expect(at(decider, creds.alice.card)).toBe('revoked');
    expect(decider.store.count()).toBe(1);
    // and come back when a later snapshot has them again
    decider.sync.applySnapshotChunk(chunk(3, 0, 1, [creds.alice, creds.bob]));
    expect(at(decider, creds.alice.card)).toBe('granted');
  });

  it('a card moved to another credential by a snapshot belongs to the new one', () => {
    const { decider } = makeDecider({ db: openDb(), credentials: [creds.alice] });
    decider.sync.applySnapshotChunk(chunk(2, 0, 1, [{ ...creds.alice, id: 'alice-2' }]));
    expect(decider.decide({ door: 'lobby', direction: 'in', card: creds.alice.card })).toMatchObject({
      reason: 'granted',
      credentialId: 'alice-2',
    });
  });
});

describe('delta sync', () => {
  it('applies on top of its version, and a re-sent or older delta is a success that changes nothing', () => {
    const { decider } = makeDecider({ db: openDb(), credentials: [creds.alice, creds.bob] });
    const delta = {
      fromVersion: 1,
      toVersion: 2,
      changes: [
        { op: 'revoke', id: 'alice' },
        { op: 'upsert', credential: creds.carol },
      ],
    };
    expect(decider.sync.applyDelta(delta)).toEqual({ applied: true, version: 2 });
    expect(decider.sync.applyDelta(delta)).toEqual({ applied: false, version: 2 });
    expect(decider.sync.applyDelta({ fromVersion: 0, toVersion: 1, changes: [] })).toEqual({ applied: false, version: 2 });
    expect(at(decider, creds.alice.card)).toBe('revoked');
    expect(decider.syncState()).toMatchObject({ version: 2, count: 2 });
  });

  it('a delta past a snapshot still being staged drops that staging', () => {
    const { decider } = makeDecider({ db: openDb(), credentials: [creds.alice] });
    decider.sync.applySnapshotChunk(chunk(2, 0, 2, [creds.bob]));
    expect(decider.syncState().staging).toEqual({ version: 2, received: 1, of: 2 });
    decider.sync.applyDelta({ fromVersion: 1, toVersion: 2, changes: [{ op: 'upsert', credential: creds.carol }] });
    expect(decider.syncState().staging).toBeNull();
    expect(decider.sync.applySnapshotChunk(chunk(2, 1, 2, [creds.dave]))).toMatchObject({ applied: false, version: 2 });
    expect(at(decider, creds.dave.card, 'garage')).toBe('unknown');
  });

  it('a gap is refused with ACCESS_VERSION_MISMATCH and the current version', () => {
    const { decider } = makeDecider({ db: openDb(), credentials: [creds.alice] });
    const err = thrown(() => decider.sync.applyDelta({ fromVersion: 3, toVersion: 4, changes: [{ op: 'revoke', id: 'alice' }] }));
    expect(err.code).toBe('ACCESS_VERSION_MISMATCH');
    expect(err.details).toEqual({ current: 1 });
    expect(at(decider, creds.alice.card)).toBe('granted');
  });

  it('upsert replaces a credential (old card forgotten) and re-activates a revoked one', () => {
    const { decider } = makeDecider({ db: openDb(), credentials: [creds.alice] });
    decider.sync.applyDelta({
      fromVersion: 1,
      toVersion: 2,
      changes: [{ op: 'upsert', credential: { ...creds.alice, card: '1111222233334444' } }],
    });
    expect(at(decider, creds.alice.card)).toBe('unknown');
    expect(at(decider, '1111222233334444')).toBe('granted');
    decider.sync.applyDelta({
      fromVersion: 2,
      toVersion: 3,
      changes: [
        { op: 'revoke', id: 'alice' },
        { op: 'revoke', id: 'nobody' },
      ],
    });
    expect(at(decider, '1111222233334444')).toBe('revoked');
    decider.sync.applyDelta({ fromVersion: 3, toVersion: 4, changes: [{ op: 'upsert', credential: creds.alice }] });
    expect(at(decider, creds.alice.card)).toBe('granted');
    expect(decider.store.count()).toBe(1);
  });

  it('a card still held by a revoked credential stays revoked when its new holder lets go of it', () => {
    const { decider } = makeDecider({ db: openDb(), credentials: [creds.alice] });
    // alice's card is revoked, then re-issued to alice-2, who later gets another card
    decider.sync.applyDelta({
      fromVersion: 1,
      toVersion: 2,
      changes: [
        { op: 'revoke', id: 'alice' },
        { op: 'upsert', credential: { ...creds.alice, id: 'alice-2' } },
      ],
    });
    expect(decider.decide({ door: 'lobby', direction: 'in', card: creds.alice.card })).toMatchObject({
      reason: 'granted',
      credentialId: 'alice-2',
    });
    decider.sync.applyDelta({
      fromVersion: 2,
      toVersion: 3,
      changes: [{ op: 'upsert', credential: { ...creds.alice, id: 'alice-2', card: '5555666677778888' } }],
    });
    expect(decider.decide({ door: 'lobby', direction: 'in', card: creds.alice.card })).toMatchObject({
      reason: 'revoked',
      credentialId: 'alice',
    });
  });

  it('a card can move from one credential to another within one delta', () => {
    const { decider } = makeDecider({ db: openDb(), credentials: [creds.alice, creds.dave] });
    const swapped = [
      { op: 'upsert', credential: { ...creds.alice, card: creds.dave.card } },
      { op: 'upsert', credential: { ...creds.dave, card: creds.alice.card } },
    ];
    expect(decider.sync.applyDelta({ fromVersion: 1, toVersion: 2, changes: swapped })).toEqual({ applied: true, version: 2 });
    expect(decider.decide({ door: 'lobby', direction: 'in', card: creds.dave.card })).toMatchObject({
      reason: 'granted',
      credentialId: 'alice',
    });
  });
});

describe('uniqueness', () => {
  const bobTwin = { ...creds.bob, id: 'bob-twin' };

  it('a snapshot that would give two credentials one PIN-only PIN is refused whole, across chunks', () => {
    const { decider } = makeDecider({ db: openDb(), credentials: [creds.alice] });
    decider.sync.applySnapshotChunk(chunk(2, 0, 2, [creds.bob, creds.carol]));
    const err = thrown(() => decider.sync.applySnapshotChunk(chunk(2, 1, 2, [bobTwin])));
    expect(err.code).toBe('ACCESS_DUPLICATE_CREDENTIAL');
    expect(err.details).toEqual({ kind: 'pin', ids: expect.arrayContaining(['bob', 'bob-twin']) });
    expect(JSON.stringify(err.toJSON())).not.toContain(creds.bob.pin);
    expect(decider.syncState()).toMatchObject({ version: 1, count: 1, staging: null });
    expect(at(decider, creds.alice.card)).toBe('granted');
    expect(decider.decide({ door: 'lobby', direction: 'in', pin: creds.bob.pin }).reason).toBe('unknown');
  });

  it('a delta that would duplicate a PIN-only PIN or a card is refused and changes nothing', () => {
    const { decider } = makeDecider({ db: openDb(), credentials: [creds.alice, creds.bob] });
    const pinDup = thrown(() =>
      decider.sync.applyDelta({
        fromVersion: 1,
        toVersion: 2,
        changes: [
          { op: 'revoke', id: 'alice' },
          { op: 'upsert', credential: bobTwin },
        ],
      }),
    );
    expect(pinDup.code).toBe('ACCESS_DUPLICATE_CREDENTIAL');
    expect(pinDup.details).toEqual({ kind: 'pin', ids: ['bob', 'bob-twin'] });
    const cardDup = thrown(() =>
      decider.sync.applyDelta({
        fromVersion: 1,
        toVersion: 2,
        changes: [{ op: 'upsert', credential: { ...creds.dave, card: creds.alice.card } }],
      }),
    );
    expect(cardDup.details).toEqual({ kind: 'card', ids: ['alice', 'dave'] });
    expect(decider.syncState()).toMatchObject({ version: 1, count: 2 });
    expect(at(decider, creds.alice.card)).toBe('granted');
    // once the old holder is revoked in the same delta, the PIN is free
    expect(
      decider.sync.applyDelta({
        fromVersion: 1,
        toVersion: 2,
        changes: [
          { op: 'revoke', id: 'bob' },
          { op: 'upsert', credential: bobTwin },
        ],
      }).applied,
    ).toBe(true);
    expect(decider.decide({ door: 'lobby', direction: 'in', pin: creds.bob.pin })).toMatchObject({
      reason: 'granted',
      credentialId: 'bob-twin',
    });
  });

  it('equal PINs on card+pin credentials are fine (the PIN hash is bound to the credential)', () => {
    const { decider } = makeDecider({
      db: openDb(),
      credentials: [creds.carol, { ...creds.carol, id: 'carol-2', card: '0000111122223333' }],
    });
    expect(decider.store.count()).toBe(2);
    expect(decider.decide({ door: 'lobby', direction: 'in', card: '0000111122223333', pin: creds.carol.pin }).reason).toBe('granted');
  });
});

describe('durability', () => {
  it('a failing apply leaves the previous version intact, in memory and after a reopen', () => {
    const db = openDb();
    const { decider } = makeDecider({ db, credentials: [creds.alice] });
    // A fault in the middle of the swap: the trigger aborts when the last credential is written.
    db.exec(
      "CREATE TRIGGER fail_boom BEFORE INSERT ON access_credentials WHEN NEW.id = 'boom' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END",
    );
    const boom = { ...creds.bob, id: 'boom', pin: '777777' };
    expect(() => decider.sync.applySnapshotChunk(chunk(2, 0, 1, [creds.carol, boom]))).toThrow(/disk on fire/);
    expect(() =>
      decider.sync.applyDelta({
        fromVersion: 1,
        toVersion: 2,
        changes: [
          { op: 'revoke', id: 'alice' },
          { op: 'upsert', credential: boom },
        ],
      }),
    ).toThrow(/disk on fire/);
    const check = (d: AccessDecider) => {
      expect(d.syncState()).toMatchObject({ version: 1, count: 1 });
      expect(at(d, creds.alice.card)).toBe('granted');
      expect(at(d, creds.carol.card)).toBe('unknown');
    };
    check(decider);
    db.close();
    check(makeDecider({ db: openDb() }).decider);
  });

  it('version, count, applied time and credentials survive a reopen', () => {
    const clock = new ManualClock(SAT_NOON);
    const { decider } = makeDecider({ db: openDb(), clock, credentials: [creds.alice, creds.bob, creds.carol] });
    clock.advance(5000);
    decider.sync.applyDelta({ fromVersion: 1, toVersion: 7, changes: [{ op: 'revoke', id: 'bob' }] });
    open[0]!.close();
    const again = makeDecider({ db: openDb() }).decider;
    expect(again.syncState()).toEqual({ version: 7, count: 2, appliedAt: SAT_NOON + 5000, staging: null });
    expect(again.decide({ door: 'lobby', direction: 'in', pin: creds.bob.pin }).reason).toBe('revoked');
    expect(again.decide({ door: 'lobby', direction: 'in', card: creds.carol.card, pin: creds.carol.pin }).reason).toBe('granted');
  });

  it('pruneRevoked forgets credentials revoked more than N days ago', () => {
    const clock = new ManualClock(SAT_NOON);
    const { decider } = makeDecider({ db: openDb(), clock, credentials: [creds.alice, creds.bob] });
    decider.sync.applyDelta({ fromVersion: 1, toVersion: 2, changes: [{ op: 'revoke', id: 'alice' }] });
    expect(decider.store.pruneRevoked(30, SAT_NOON + 29 * 86_400_000)).toBe(0);
    expect(decider.store.pruneRevoked(30, SAT_NOON + 31 * 86_400_000)).toBe(1);
    expect(at(decider, creds.alice.card)).toBe('unknown');
    expect(decider.store.count()).toBe(1);
  });

  it('no card number or PIN in clear anywhere in the database files (store, staging, WAL)', () => {
    const db = openDb();
    const { decider } = makeDecider({ db, credentials: Object.values(creds) });
    const staged = { id: 'staged', card: 'FACEB00C12345678', pin: '86420975', mode: 'card+pin' as const, groups: [] };
    const delta = { id: 'delta', pin: '31415926', mode: 'pin' as const, groups: [] };
    decider.sync.applyDelta({ fromVersion: 1, toVersion: 2, changes: [{ op: 'upsert', credential: delta }] });
    decider.sync.applySnapshotChunk(chunk(3, 0, 2, [staged]));
    const secrets = [
      creds.alice.card,
      creds.carol.card,
      creds.dave.card,
      staged.card,
      creds.bob.pin,
      creds.carol.pin,
      staged.pin,
      delta.pin,
    ];
    const scan = () => {
      const bytes = Buffer.concat([file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f)));
      // the scan does see what is stored: the mask of alice's card is there
      expect(bytes.includes('****0718')).toBe(true);
      for (const s of secrets) {
        const forms = [s, s.toLowerCase(), ...(/^\d+$/.test(s) ? [] : [Buffer.from(s, 'hex')])];
        for (const f of forms) expect(bytes.includes(f), `found ${typeof f === 'string' ? f : 'binary card'} in the database`).toBe(false);
      }
    };
    scan();
    db.close();
    scan();
  });

  it('implements the access service contract', () => {
    const { decider } = makeDecider();
    const asService: Decider = decider;
    expect(typeof asService.commitPassage).toBe('function');
  });
});

describe('coded errors', () => {
  it('are GatehouseErrors', () => {
    const { decider } = makeDecider();
    expect(
      isGatehouseError(
        thrown(() => decider.sync.applyDelta({ nope: 1 })),
        'CMD_INVALID',
      ),
    ).toBe(true);
  });
});
