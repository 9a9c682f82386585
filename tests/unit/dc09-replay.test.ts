/**
 * The replay guard's rule (gateway/perimeter/dc09-replay.ts) on a real SQLite file: what is
 * a duplicate, what is stale, what survives a reopen, and the edges (unsynced high-water
 * marks in the future, the per-account cap).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Dc09ReplayGuard } from '../../gateway/perimeter/dc09-replay.js';
import { secretsFrom } from '../../config/load.js';
import { PerimeterConfig } from '../../config/perimeter-schema.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { createLoggerFactory } from '../../gateway/core/log.js';
import { createDc09 } from '../../gateway/perimeter/create-dc09.js';
import { FakeOutbox, FakeSink, SECRETS, panels } from './dc09-fixtures.js';
import { PassThrough } from 'node:stream';
import { migratedDb, scoped } from '../helpers/store.js';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
const MIN = 60_000;
const unsynced = { synced: false, now: T0 - 86_400_000, futureMs: 40_000 };

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

function db(): { file: string; open: () => Database.Database } {
  const dir = mkdtempSync(join(tmpdir(), 'gh-replay-'));
  dirs.push(dir);
  const file = join(dir, 'outbox.db');
  return { file, open: () => migratedDb(file) };
}

describe('DC-09 replay guard', () => {
  it('remembers digests and the high-water mark across a reopen of outbox.db', async () => {
    const { open } = db();
    const d1 = open();
    const g1 = new Dc09ReplayGuard({
      db: scoped(d1, 'dc09'),
      windowMs: 10 * MIN,
      onError: (e) => {
        throw e;
      },
    });
    g1.remember('C0DE', 'a', T0, '0001', unsynced);
    g1.remember('C0DE', 'b', T0 + 15 * MIN, '0002', unsynced);
    await g1.whenFlushed();
    d1.close();
    const g2 = new Dc09ReplayGuard({
      db: scoped(open(), 'dc09'),
      windowMs: 10 * MIN,
      onError: (e) => {
        throw e;
      },
    });
    expect(g2.mark('C0DE')).toEqual({ highWater: T0 + 15 * MIN, floor: T0 + 5 * MIN, seq: '0002' });
    expect(g2.check('C0DE', 'b', T0 + 15 * MIN, unsynced)).toBe('duplicate');
    // 'a' was forgotten when the floor passed it, and is refused as stale.
    expect(g2.check('C0DE', 'a', T0, unsynced)).toBe('stale');
    expect(g2.check('C0DE', 'c', T0 + 6 * MIN, unsynced)).toBe('new');
    expect(g2.check('BEEF', 'a', T0, unsynced)).toBe('new');
  });

  it('while synced, the timestamp window decides: a mark an unsynced period pushed into the future is pulled back', () => {
    const g = new Dc09ReplayGuard({ windowMs: 10 * MIN, onError: () => undefined });
    // Unsynced: a panel with a clock a year ahead set the mark.
    g.remember('C0DE', 'future', T0 + 365 * 86_400_000, '0001', unsynced);
    const synced = { synced: true, now: T0, futureMs: 40_000 };
    expect(g.check('C0DE', 'x', T0, synced)).toBe('new');
    g.remember('C0DE', 'x', T0, '0002', synced);
    expect(g.mark('C0DE')).toMatchObject({ highWater: T0 + 40_000, floor: T0 + 40_000 - 10 * MIN });
    // Unsynced again: the panel's real messages pass, what the floor left behind does not.
    expect(g.check('C0DE', 'y', T0 + 1000, unsynced)).toBe('new');
    expect(g.check('C0DE', 'old', T0 - 10 * MIN, unsynced)).toBe('stale');
    expect(g.check('C0DE', 'x', T0, unsynced)).toBe('duplicate');
  });

  it('bounded per account: forgetting a digest above the floor raises the floor over it', () => {
    const g = new Dc09ReplayGuard({ windowMs: 10 * MIN, maxPerAccount: 3, onError: () => undefined });
    for (let i = 0; i < 5; i++) g.remember('C0DE', `d${i}`, T0 + i * 1000, String(i + 1).padStart(4, '0'), unsynced);
    // d0 and d1 were dropped: replaying them must not be 'new'.
    expect(g.check('C0DE', 'd0', T0, unsynced)).toBe('stale');
    expect(g.check('C0DE', 'd1', T0 + 1000, unsynced)).toBe('stale');
    expect(g.check('C0DE', 'd4', T0 + 4000, unsynced)).toBe('duplicate');
    expect(g.mark('C0DE')!.floor).toBe(T0 + 1001);
  });

  it('a failed write rejects whenFlushed, so the receiver NAKs instead of ACKing an unremembered message', async () => {
    const { open } = db();
    const d = open();
    const errors: string[] = [];
    const g = new Dc09ReplayGuard({ db: scoped(d, 'dc09'), onError: (e) => errors.push(e.message) });
    d.pragma('query_only = ON');
    g.remember('C0DE', 'a', T0, '0001', unsynced);
    await expect(g.whenFlushed()).rejects.toThrow(/readonly/);
    expect(errors).toHaveLength(1);
    d.close();
  });

  it('an outbox.db the guard cannot write (read-only on a full disk) does not keep the receiver from starting', async () => {
    const { file } = db();
    // A database the migrations never reached (the disk was full at every start since the
    // upgrade), opened read-only: the guard's tables are not there.
    new Database(file).close();
    const ro = new Database(file, { readonly: true });
    expect(() => new Dc09ReplayGuard({ db: scoped(ro, 'dc09'), onError: () => undefined })).toThrow(/no such table: dc09_high_water/);
    const lines: string[] = [];
    const out = new PassThrough();
    out.on('data', (d: Buffer) => lines.push(d.toString()));
    const logs = createLoggerFactory({ level: 'error' }, { destination: out });
    const outbox = Object.assign(new FakeOutbox(), { scope: (owner: 'dc09') => scoped(ro, owner) });
    const clock = new ManualClock();
    const c = createDc09({
      secrets: secretsFrom(SECRETS),
      outbox,
      sink: new FakeSink(),
      clock,
      timers: clock,
      logs,
      config: { alarmPanels: panels(), perimeter: PerimeterConfig.parse({ dc09: {} }) },
    })!;
    const ports = await c.start();
    expect(ports.tcpPort).toBeGreaterThan(0);
    await c.stop();
    ro.close();
    expect(lines.join('')).toMatch(/kept in memory only/);
  });
});
