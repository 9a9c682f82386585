/**
 * The replay store on its own: ids claimed while the wall clock is not yet trustworthy
 * must not be purged early when NTP later steps the clock forward.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database as Db } from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../gateway/core/clock.js';
import { ReplayStore } from '../../gateway/commands/replay-store.js';
import { migratedDb, scoped } from '../helpers/store.js';

const HOUR = 3600_000;

describe('ReplayStore', () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-replay-'));
    db = migratedDb(join(dir, 'outbox.db'));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('claims an id once and reports when it was first seen', () => {
    const clock = new ManualClock();
    const store = new ReplayStore(scoped(db, 'commands'), clock, HOUR);
    expect(store.claim('a')).toEqual({ fresh: true });
    clock.advance(5000);
    expect(store.claim('a')).toEqual({ fresh: false, firstSeenAt: new Date(clock.now() - 5000).toISOString() });
    expect(store.size()).toBe(1);
  });

  it('purges ids after the window', () => {
    const clock = new ManualClock();
    const store = new ReplayStore(scoped(db, 'commands'), clock, HOUR);
    store.claim('a');
    clock.advance(HOUR - 1);
    expect(store.purge()).toBe(0);
    clock.advance(2);
    expect(store.purge()).toBe(1);
    expect(store.claim('a')).toEqual({ fresh: true });
  });

  it('keeps ids claimed on an unsynced clock for a full window after the clock syncs', () => {
    // Booted with a clock two days behind (fake-hwclock); NTP then steps it forward.
    const clock = new ManualClock(Date.UTC(2026, 10, 19, 12), 'unsynced');
    const store = new ReplayStore(scoped(db, 'commands'), clock, HOUR);
    store.claim('early');
    expect(store.purge()).toBe(0);
    const stepped = new ManualClock(Date.UTC(2026, 10, 21, 12), 'synced');
    const after = new ReplayStore(scoped(db, 'commands'), stepped, HOUR);
    // Stamped two days "ago", but the clock was wrong then: still refused.
    expect(after.claim('early').fresh).toBe(false);
    stepped.advance(HOUR - 1000);
    after.purge();
    expect(after.claim('early').fresh).toBe(false);
    stepped.advance(2000);
    after.purge();
    expect(after.claim('early').fresh).toBe(true);
  });

  it('survives reopening the database', () => {
    const clock = new ManualClock();
    new ReplayStore(scoped(db, 'commands'), clock, HOUR).claim('a');
    db.close();
    db = migratedDb(join(dir, 'outbox.db'));
    expect(new ReplayStore(scoped(db, 'commands'), clock, HOUR).claim('a').fresh).toBe(false);
  });
});
