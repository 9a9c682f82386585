/**
 * The outbox on a real, genuinely full filesystem (a small tmpfs filled to the last byte):
 * eviction's own DELETE fails there too and must not escape; a record that cannot be
 * committed rejects with OUTBOX_DISK_FULL and leaves nothing behind; the reserve file buys
 * the pinned `outbox.disk_full` report; the retry (injected timers) notices space coming
 * back and records the end of the condition; a cap the filesystem cannot hold is lowered;
 * and a database closed cleanly can be opened again on the full disk (its cap checked again
 * once space is back).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../gateway/core/clock.js';
import { isGatehouseError, type GatehouseError } from '../../gateway/core/errors.js';
import type { Envelope } from '../../gateway/core/events.js';
import { Outbox, type DiskFullInfo } from '../../gateway/outbox/outbox.js';
import { mountTmpfs, type Tmpfs } from '../helpers/tmpfs.js';
import { testEvent } from '../helpers/uplink-rig.js';
import { outboxConnection } from '../helpers/store.js';

const MiB = 1024 * 1024;

describe('outbox on a full filesystem', () => {
  let fs: Tmpfs;
  let n = 0;
  let dir: string;
  let clock: ManualClock;
  const open: Outbox[] = [];

  beforeAll(() => {
    fs = mountTmpfs(8 * MiB);
  });
  afterAll(() => fs?.unmount());
  afterEach(() => {
    for (const o of open.splice(0)) o.close();
    fs.release();
    rmSync(dir, { recursive: true, force: true });
  });

  const make = (config: Record<string, unknown> = {}): Outbox => {
    dir = join(fs.dir, `case-${n++}`);
    mkdirSync(dir);
    clock = new ManualClock();
    const o = new Outbox({
      file: join(dir, 'outbox.db'),
      clock,
      timers: clock,
      config: { checkpointIntervalMs: 0, maxBytes: 64 * MiB, ...config },
    });
    open.push(o);
    return o;
  };
  const recordAll = (o: Outbox, count: number, cls: 'alarm' | 'device', from = 0) =>
    Promise.allSettled(Array.from({ length: count }, (_, i) => o.record(testEvent(from + i, cls))));
  const types = (o: Outbox) => o.readEvents(0, 1e6).map((r) => (JSON.parse(r.body) as Envelope).type);

  it('survives the eviction retry failing on a full disk and rejects what it cannot commit with OUTBOX_DISK_FULL', async () => {
    const o = make({ reserveBytes: 0 });
    const errors: GatehouseError[] = [];
    o.on('error', (e) => errors.push(e));
    // Telemetry that eviction will try (and fail) to delete: on a full disk the DELETE needs WAL room too.
    await recordAll(o, 300, 'device');
    o.checkpoint();
    fs.fill();
    const before = o.readEvents(0, 1e6).length;
    const results = await recordAll(o, 200, 'alarm');
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    for (const r of rejected) expect(isGatehouseError(r.reason, 'OUTBOX_DISK_FULL')).toBe(true);
    expect((rejected[0]!.reason as Error).message).toMatch(/full or failing \(SQLITE_FULL\).*resumes by itself/);
    expect(errors.some((e) => /eviction failed/.test(e.message))).toBe(true);
    // Resolved means on disk; rejected means not there.
    const fulfilled = results.filter((r): r is PromiseFulfilledResult<Envelope> => r.status === 'fulfilled').map((r) => r.value.seq);
    const seqs = new Set(o.readEvents(0, 1e6).map((r) => r.seq));
    expect(fulfilled.every((s) => seqs.has(s))).toBe(true);
    expect(seqs.size).toBeLessThanOrEqual(before + fulfilled.length + 2);
    expect(o.stats().diskFull).toMatchObject({ code: 'SQLITE_FULL', rejected: rejected.length });
  });

  it('spends the reserve on the pinned disk-full report, retries with the injected timer and resumes by itself', async () => {
    const o = make({ reserveBytes: 512 * 1024, diskRetryMs: 5000 });
    const full: DiskFullInfo[] = [];
    const recovered: (DiskFullInfo & { until: number })[] = [];
    o.on('diskFull', (i) => full.push(i));
    o.on('diskRecovered', (i) => recovered.push(i));
    expect(o.stats().reserveHeld).toBe(true);
    expect(statSync(join(dir, 'outbox.reserve'))).toMatchObject({ size: 512 * 1024, mode: expect.any(Number) });
    expect(statSync(join(dir, 'outbox.reserve')).mode & 0o777).toBe(0o600);
    await recordAll(o, 20, 'alarm');
    o.checkpoint();
    fs.fill();
    // Until the reserve is used up, alarms still commit; then they are refused.
    let rejected = 0;
    for (let round = 0; round < 200 && rejected === 0; round++) {
      rejected = (await recordAll(o, 50, 'alarm', round * 50)).filter((r) => r.status === 'rejected').length;
    }
    expect(rejected).toBeGreaterThan(0);
    expect(full).toHaveLength(1);
    expect(o.stats().reserveHeld).toBe(false);
    // The report went in first, with the room the reserve gave back.
    const report = o
      .readEvents(0, 1e6)
      .map((r) => JSON.parse(r.body) as Envelope)
      .find((e) => e.type === 'outbox.disk_full');
    expect(report?.data).toMatchObject({ state: 'full', code: 'SQLITE_FULL' });
    // Still full: the retry changes nothing.
    clock.advance(5000);
    expect(recovered).toHaveLength(0);
    expect(isGatehouseError(await o.record(testEvent(0, 'alarm')).catch((e: unknown) => e), 'OUTBOX_DISK_FULL')).toBe(true);
    fs.release();
    clock.advance(5000);
    expect(recovered).toHaveLength(1);
    expect(recovered[0]!.rejected).toBeGreaterThanOrEqual(rejected + 1);
    expect(o.stats()).toMatchObject({ diskFull: null, reserveHeld: true });
    expect(types(o).filter((t) => t === 'outbox.disk_full')).toHaveLength(2);
    const end = o
      .readEvents(0, 1e6)
      .map((r) => JSON.parse(r.body) as Envelope)
      .filter((e) => e.type === 'outbox.disk_full')
      .at(-1)!;
    expect(end.data).toMatchObject({ state: 'recovered', since: report!.data.since, rejected: recovered[0]!.rejected });
    await expect(o.record(testEvent(1, 'alarm'))).resolves.toMatchObject({ type: 'alarm.tick' });
    expect(outboxConnection(o).pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('accounts for every seq after a full disk: each one is stored or named by an outbox.evicted report', async () => {
    const o = make({ reserveBytes: 256 * 1024, diskRetryMs: 1000, maxBytes: 64 * MiB });
    let evictions = 0;
    o.on('evicted', () => evictions++);
    for (let i = 0; i < 10; i++) await recordAll(o, 400, 'device', i * 400);
    o.checkpoint();
    fs.fill();
    for (let round = 0; round < 40; round++) await recordAll(o, 100, round % 2 ? 'alarm' : 'device', round * 100);
    fs.release();
    clock.advance(1000);
    await recordAll(o, 10, 'alarm');
    expect(o.stats().diskFull).toBeNull();
    const rows = o.readEvents(0, 1e6).map((r) => JSON.parse(r.body) as Envelope);
    const present = new Set(rows.map((e) => e.seq));
    const evicted = rows.filter((e) => e.type === 'outbox.evicted').map((e) => e.data as { fromSeq: number; toSeq: number });
    expect(evictions).toBeGreaterThan(0);
    expect(evicted.length).toBeGreaterThan(0);
    const unaccounted: number[] = [];
    for (let seq = 1; seq < o.stats().nextSeq; seq++) {
      if (!present.has(seq) && !evicted.some((r) => seq >= r.fromSeq && seq <= r.toSeq)) unaccounted.push(seq);
    }
    expect(unaccounted).toEqual([]);
  });

  it('records the disk-full report once space is back when even the reserve was gone', async () => {
    const o = make({ reserveBytes: 0, diskRetryMs: 1000 });
    await recordAll(o, 5, 'alarm');
    o.checkpoint();
    fs.fill();
    await recordAll(o, 50, 'alarm', 100);
    expect(o.stats().diskFull).not.toBeNull();
    expect(types(o)).not.toContain('outbox.disk_full');
    fs.release();
    clock.advance(1000);
    const reports = o
      .readEvents(0, 1e6)
      .map((r) => JSON.parse(r.body) as Envelope)
      .filter((e) => e.type === 'outbox.disk_full');
    expect(reports.map((r) => r.data.state)).toEqual(['full', 'recovered']);
    // Stamped with the time the condition started, not the time it could be written.
    expect(reports[0]!.data.since).toBe(reports[1]!.data.since);
    expect(o.stats().diskFull).toBeNull();
  });

  it('lowers a cap the filesystem cannot hold and says so in stats', () => {
    const o = make({ maxBytes: 256 * MiB });
    const s = o.stats();
    expect(s.configuredMaxBytes).toBe(256 * MiB);
    expect(s.maxBytes).toBeLessThan(8 * MiB);
    expect(o.capCheck).toMatchObject({ lowered: true, configured: 256 * MiB });
  });

  it('opens a database closed cleanly before the disk filled (no shared memory file to create) and reads it', async () => {
    const first = make({ reserveBytes: 0 });
    await recordAll(first, 30, 'alarm');
    first.close();
    open.splice(0);
    fs.fill();
    const o = new Outbox({ file: join(dir, 'outbox.db'), clock, timers: clock, config: { checkpointIntervalMs: 0, reserveBytes: 0 } });
    open.push(o);
    expect(o.exclusive).toBe(true);
    expect(o.readEvents(0, 1e6)).toHaveLength(30);
    // The cap could only be what the files hold; it is checked again once space is back.
    expect(o.stats().maxBytes).toBeLessThan(1024 * 1024);
    expect(isGatehouseError(await o.record(testEvent(0, 'alarm')).catch((e: unknown) => e), 'OUTBOX_DISK_FULL')).toBe(true);
    fs.release();
    clock.advance(5000);
    await expect(o.record(testEvent(1, 'alarm'))).resolves.toMatchObject({ seq: 33 });
    expect(o.stats().maxBytes).toBeGreaterThan(2 * 1024 * 1024);
  });
});
