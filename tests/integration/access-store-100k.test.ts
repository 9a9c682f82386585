/**
 * A compound-sized credential set: 100,000 credentials sent as 64 KB snapshot chunks on a
 * real file, a reopen that loads the index, and decisions from it.
 */
import type Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/core/clock.js';
import { AccessDecider } from '../../gateway/access/decider.js';
import { BENCH_CONFIG, BENCH_DOORS, COMMAND_MAX_BYTES, benchCard, chunkSnapshot, syntheticCredentials } from '../bench/access-decide.js';
import { migratedDb, scoped } from '../helpers/store.js';

const N = 100_000;
const dir = mkdtempSync(join(tmpdir(), 'gh-access-100k-'));
const file = join(dir, 'outbox.db');
const hashKey = Buffer.alloc(32, 3);
const clock = new ManualClock(Date.UTC(2026, 10, 23, 4, 0, 0));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function open(): { db: Database.Database; decider: AccessDecider } {
  const db = migratedDb(file);
  return { db, decider: new AccessDecider({ db: scoped(db, 'access'), hashKey, config: BENCH_CONFIG, doors: BENCH_DOORS, clock }) };
}

describe('100,000 credentials', () => {
  const credentials = syntheticCredentials(N);
  const commands = chunkSnapshot(1, credentials).map((c) => JSON.stringify(c));

  it('are applied from 64 KB chunks, shuffled', () => {
    expect(commands.every((c) => Buffer.byteLength(c) <= COMMAND_MAX_BYTES)).toBe(true);
    expect(commands.length).toBeGreaterThan(100);
    const order = commands.map((_, i) => i).sort((a, b) => ((a * 7919) % 101) - ((b * 7919) % 101));
    const { db, decider } = open();
    let last;
    for (const i of order) last = decider.sync.applySnapshotChunk(JSON.parse(commands[i]!));
    expect(last).toEqual({ applied: true, version: 1, received: commands.length, of: commands.length });
    expect(decider.store.count()).toBe(N);
    db.close();
  });

  it('are there after a reopen, and decide from memory', () => {
    const { db, decider } = open();
    expect(decider.syncState()).toMatchObject({ version: 1, count: N, staging: null });
    expect(decider.decide({ door: 'lobby', direction: 'in', card: benchCard(12_345) })).toMatchObject({
      granted: true,
      credentialId: 'res-12345',
    });
    expect(decider.decide({ door: 'gym', direction: 'in', card: benchCard(12_346) }).reason).toBe('wrong_door'); // residents only
    expect(decider.decide({ door: 'lobby', direction: 'in', card: 'FFFFFFFFFFFFFFFF' }).reason).toBe('unknown');
    expect(decider.decide({ door: 'lobby', direction: 'in', pin: String(10_000_000 + 99_998) })).toMatchObject({
      granted: true,
      credentialId: 'res-99998',
    });
    expect(decider.decide({ door: 'lobby', direction: 'in', card: benchCard(99_999) }).reason).toBe('pin_required');
    // a decision must not touch the disk: it still answers with the database closed
    db.close();
    expect(decider.decide({ door: 'lobby', direction: 'in', card: benchCard(54_321) }).granted).toBe(true);
  });
});
