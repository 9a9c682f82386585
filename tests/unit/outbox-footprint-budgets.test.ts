/**
 * How outbox.maxBytes is split between the WAL, the shm and the database pages
 * (gateway/outbox/footprint.ts). The on-disk behaviour is measured on a real file in
 * tests/integration/outbox-footprint.test.ts; this pins the arithmetic.
 */
import { describe, expect, it } from 'vitest';
import { budgets, FLOOR_BYTES, SHM_BYTES } from '../../gateway/outbox/footprint.js';

const MiB = 1024 * 1024;

describe('outbox footprint budgets', () => {
  it('splits the cap exactly: WAL + shm + database = maxBytes', () => {
    for (const cap of [FLOOR_BYTES, MiB, 64 * MiB, 256 * MiB]) {
      const b = budgets(cap, 4096);
      expect(b.total).toBe(cap);
      expect(b.wal + SHM_BYTES + b.db).toBe(cap);
      expect(b.db).toBeGreaterThan(cap / 2);
    }
  });

  it('gives a 1 MiB cap a WAL of an eighth, checkpointed at half of it', () => {
    const b = budgets(MiB, 4096);
    expect(b.walFrames).toBe(15);
    expect(b.wal).toBeLessThanOrEqual(MiB / 8);
  });

  it('keeps SQLite’s default checkpoint (1000 frames) for large caps: the default 256 MiB commits as before', () => {
    expect(budgets(256 * MiB, 4096).walFrames).toBe(1000);
  });

  it('holds caps below the floor at the floor (the schema allows 64 KiB; SQLite needs ~100 KiB for itself)', () => {
    expect(budgets(64 * 1024, 4096)).toEqual(budgets(FLOOR_BYTES, 4096));
    expect(budgets(64 * 1024, 4096).db).toBeGreaterThan(128 * 1024);
  });
});
