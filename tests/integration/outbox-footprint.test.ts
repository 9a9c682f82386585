/**
 * outbox.maxBytes caps the outbox's files on disk (outbox.db + -wal + -shm), not the bytes
 * of its rows: a real SQLite file on a ManualClock, hours of a compound's traffic with the
 * uplink down, and the three files measured with stat after every simulated hour.
 * Before the cap counted pages, a 1 MiB cap of row bytes let these files reach several MB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/core/clock.js';
import type { Envelope } from '../../gateway/core/events.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { budgets, FLOOR_BYTES } from '../../gateway/outbox/footprint.js';
import { minuteTraffic, outboxFileBytes } from '../helpers/soak-outage.js';

const MiB = 1024 * 1024;

describe('outbox: the cap is the footprint on disk', () => {
  const dirs: string[] = [];
  const open: Outbox[] = [];
  afterEach(() => {
    for (const o of open.splice(0)) o.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function make(dir: string, clock: ManualClock, maxBytes: number): Outbox {
    // The daemon's default checkpoint timer (30 s real time) never fires in a fast run: only the cap's own limits hold the WAL.
    const o = new Outbox({
      file: join(dir, 'outbox.db'),
      clock,
      timers: clock,
      config: { maxBytes, checkpointIntervalMs: 0, reserveBytes: 0 },
    });
    open.push(o);
    return o;
  }

  async function offline(
    o: Outbox,
    clock: ManualClock,
    dir: string,
    hours: number,
  ): Promise<{ maxFiles: number; alarms: Envelope[]; rows: number }> {
    let maxFiles = 0;
    const alarms: Envelope[] = [];
    for (let minute = 0; minute < hours * 60; minute++) {
      const envs = await Promise.all(minuteTraffic(minute).map((e) => o.record(e)));
      alarms.push(...envs.filter((e) => e.type === 'alarm.raised'));
      clock.advance(60_000);
      if (minute % 10 === 9) maxFiles = Math.max(maxFiles, outboxFileBytes(dir));
    }
    return { maxFiles, alarms, rows: o.stats().events };
  }

  it('a 1 MiB cap: after six hours offline outbox.db, its WAL and shm together stay within 1 MiB, every alarm kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-footprint-'));
    dirs.push(dir);
    const clock = new ManualClock();
    const o = make(dir, clock, MiB);
    const evicted: number[] = [];
    o.on('evicted', (r) => evicted.push(r.count));
    const r = await offline(o, clock, dir, 6);
    console.log(
      JSON.stringify({
        cap: MiB,
        maxFiles: r.maxFiles,
        endFiles: outboxFileBytes(dir),
        rowBytes: o.stats().bytes,
        rows: r.rows,
        evicted: evicted.reduce((a, b) => a + b, 0),
      }),
    );
    expect(evicted.length).toBeGreaterThan(0);
    expect(r.maxFiles).toBeLessThanOrEqual(MiB);
    // Not an empty outbox either: the budget is used, most of the cap holds rows.
    expect(o.stats().bytes).toBeGreaterThan(MiB / 4);
    const kept = new Set(o.readEvents(0, 1e6).map((row) => row.seq));
    expect(r.alarms.every((a) => kept.has(a.seq))).toBe(true);
  }, 60_000);

  it('a cap below what SQLite needs for itself: the files stay within the documented floor', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-footprint-'));
    dirs.push(dir);
    const clock = new ManualClock();
    const o = make(dir, clock, 64 * 1024);
    const r = await offline(o, clock, dir, 1);
    // The four alarms of the hour are never evicted; everything else had to go to hold the floor.
    expect(r.maxFiles).toBeLessThanOrEqual(FLOOR_BYTES);
  }, 60_000);

  it('a field database grown past its cap by an older version is rewritten to the budget at start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-footprint-'));
    dirs.push(dir);
    const clock = new ManualClock();
    // What an older version left: rows counted by body bytes, the file several times the cap, its free list large.
    let o = make(dir, clock, 64 * MiB);
    await offline(o, clock, dir, 1);
    o.close();
    open.splice(0);
    const db = new BetterSqlite3(join(dir, 'outbox.db'));
    const grow = db.prepare("INSERT INTO events (seq, class, recorded_at, synced, pinned, body) VALUES (?, 'charging', 0, 1, 0, ?)");
    db.transaction(() => {
      for (let i = 0; i < 20_000; i++) grow.run(100_000 + i, JSON.stringify({ seq: 100_000 + i, pad: 'x'.repeat(200) }));
    })();
    db.prepare('DELETE FROM events WHERE seq >= 100000 AND seq < 118000').run();
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const before = outboxFileBytes(dir);
    expect(before).toBeGreaterThan(MiB);
    o = make(dir, clock, MiB);
    const after = outboxFileBytes(dir);
    console.log(JSON.stringify({ before, after }));
    expect(after).toBeLessThanOrEqual(budgets(MiB, 4096).total);
    // Rows beyond the budget were evicted (reported) before the rewrite; the budget also holds
    // the empty tables of every store owner (~240 KiB), so ~1,800 of the rows stay.
    expect(o.readEvents(0, 1e6).length).toBeGreaterThan(1500);
    expect(
      o.readEvents(0, 1e6).some((r) => (JSON.parse(r.body) as { type?: string }).type === 'outbox.evicted') || o.stats().pendingCommit > 0,
    ).toBe(true);
    // And it keeps recording within the cap.
    const r = await offline(o, clock, dir, 1);
    expect(r.maxFiles).toBeLessThanOrEqual(MiB);
  }, 60_000);
});
