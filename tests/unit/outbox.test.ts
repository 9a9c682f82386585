/**
 * The outbox on real SQLite files in a temp dir: gap-free seq across reopen, group commit
 * that resolves only once the rows are on disk, cheapest-first eviction that never touches
 * alarms or rows the uplink holds and reports exactly what it dropped, TTL only for rows
 * with a trustworthy clock, a full disk answered with a coded error while the process
 * keeps going, and bounded reads.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../gateway/core/clock.js';
import { GatehouseError, isGatehouseError } from '../../gateway/core/errors.js';
import type { Envelope, EventClass } from '../../gateway/core/events.js';
import { Outbox, type OutboxOptions } from '../../gateway/outbox/outbox.js';
import type { EvictionReport } from '../../gateway/outbox/eviction.js';
import { EventChecker } from '../../sim/verifier.js';
import { testEvent } from '../helpers/uplink-rig.js';
import { outboxConnection } from '../helpers/store.js';

describe('Outbox', () => {
  let dir: string;
  let file: string;
  let clock: ManualClock;
  const open: Outbox[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-outbox-'));
    file = join(dir, 'outbox.db');
    clock = new ManualClock();
  });
  afterEach(() => {
    for (const o of open.splice(0)) o.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const make = (config: OutboxOptions['config'] = {}) => {
    const o = new Outbox({ file, clock, config: { checkpointIntervalMs: 0, ...config } });
    open.push(o);
    return o;
  };
  const close = (o: Outbox) => {
    o.close();
    open.splice(open.indexOf(o), 1);
  };
  const recordMany = (o: Outbox, n: number, cls?: EventClass, from = 0) =>
    Promise.all(Array.from({ length: n }, (_, i) => o.record(testEvent(from + i, cls))));
  /** What the platform would hold if every remaining row were delivered now. */
  const checkerOf = (o: Outbox) => {
    const c = new EventChecker();
    for (let after = 0; ;) {
      const rows = o.readEvents(after, 500);
      if (!rows.length) break;
      for (const r of rows) c.addEvent(r.class, Buffer.from(r.body));
      after = rows[rows.length - 1]!.seq;
    }
    return c;
  };

  it('stats: a polling caller gets the per-class scan from a cache no older than it asked; bytes and seq stay live', async () => {
    const o = make();
    await recordMany(o, 10, 'access');
    expect(o.stats({ maxAgeMs: 60_000 }).byClass).toEqual({ access: 10 });
    await recordMany(o, 5, 'alarm', 10);
    const cached = o.stats({ maxAgeMs: 60_000 });
    expect(cached.byClass).toEqual({ access: 10 }); // the scan is not repeated within the age
    expect(cached.nextSeq).toBe(16); // but the live fields are current
    expect(o.stats().byClass).toEqual({ access: 10, alarm: 5 }); // no age given: a fresh scan
  });

  it('numbers events 1, 2, 3 … without a gap across close and reopen, even when every row was delivered', async () => {
    let o = make();
    const a = await recordMany(o, 100);
    expect(a.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    for (const e of a) o.ackEvent(e.seq, 1);
    o.flushAcks();
    expect(o.stats().events).toBe(0);
    close(o);
    o = make();
    const b = await recordMany(o, 50);
    expect(b[0]!.seq).toBe(101);
    close(o);
    o = make();
    expect(o.stats().nextSeq).toBe(151);
    expect(o.readEvents(0, 1000).map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 101 + i));
  });

  it('commits everything recorded in one turn as one group and resolves only once it is on disk', async () => {
    const o = make();
    const groups: Envelope[][] = [];
    o.on('recorded', (envs) => groups.push(envs));
    const pending = recordMany(o, 1000);
    // Nothing is committed synchronously: the caller must not be told "recorded" yet.
    expect(o.stats().pendingCommit).toBe(1000);
    const other = new Database(file, { readonly: true });
    expect((other.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n).toBe(0);
    const envs = await pending;
    // Another connection sees every row the moment the promises resolve.
    expect((other.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n).toBe(1000);
    other.close();
    expect(groups).toHaveLength(1);
    expect(groups[0]).toHaveLength(1000);
    expect(envs[999]).toMatchObject({ v: 1, seq: 1000, clock: 'synced', source: { device: expect.any(String) } });
    expect(envs[0]!.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(new Set(envs.map((e) => e.id)).size).toBe(1000);
    // The stored body is the envelope, byte for byte.
    expect(o.readEvents(0, 1)[0]!.body).toBe(JSON.stringify(envs[0]));
  });

  it('post() records without a promise: in the same group commit and seq order as record(), alarms pinned, failures to its callback', async () => {
    const o = make();
    const groups: Envelope[][] = [];
    o.on('recorded', (envs) => groups.push(envs));
    const failures: unknown[] = [];
    o.post(testEvent(1), (err) => failures.push(err));
    const second = o.record(testEvent(2));
    o.post(testEvent(3, 'alarm'), (err) => failures.push(err));
    expect(o.stats().pendingCommit).toBe(3);
    await second;
    expect(groups.map((g) => g.map((e) => e.seq))).toEqual([[1, 2, 3]]);
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT seq, pinned FROM events ORDER BY seq').all()).toEqual([
      { seq: 1, pinned: 0 },
      { seq: 2, pinned: 0 },
      { seq: 3, pinned: 1 },
    ]);
    db.close();
    expect(o.readEvents(0, 3)[0]!.body).toBe(JSON.stringify(groups[0]![0]));
    close(o);
    o.post(testEvent(4), (err) => failures.push(err));
    expect(failures.map((e) => isGatehouseError(e, 'OUTBOX_CLOSED'))).toEqual([true]);
  });

  it('evicts the cheapest class first, oldest first, never alarms, and reports exactly what it dropped', async () => {
    const o = make({ maxBytes: 64 * 1024 });
    const reports: EvictionReport[] = [];
    o.on('evicted', (r) => reports.push(r));
    const recorded: Envelope[] = [];
    const classes: EventClass[] = ['alarm', 'device', 'charging', 'access', 'system'];
    for (let round = 0; round < 20; round++) {
      for (const cls of classes) recorded.push(...(await recordMany(o, 20, cls, round * 100)));
    }
    await new Promise((r) => setImmediate(r)); // let the last reports commit
    expect(reports.length).toBeGreaterThan(0);
    // device (rank 1) goes before charging (2), system (3), access (4); alarms never.
    expect(reports[0]!.class).toBe('device');
    expect(reports.some((r) => r.class === 'alarm')).toBe(false);
    const firstOther = reports.findIndex((r) => r.class !== 'device');
    if (firstOther >= 0) expect(reports[firstOther]!.class).toBe('charging');
    const alarms = recorded.filter((e) => e.type === 'alarm.tick');
    const remaining = new Set(o.readEvents(0, 100_000).map((r) => r.seq));
    expect(alarms.every((e) => remaining.has(e.seq))).toBe(true);
    // Within a class, the oldest rows went first: every surviving device row is newer than every evicted one.
    const deviceSeqs = recorded.filter((e, i) => Math.floor(i / 20) % 5 === 1).map((e) => e.seq);
    const evictedDevice = deviceSeqs.filter((s) => !remaining.has(s));
    const keptDevice = deviceSeqs.filter((s) => remaining.has(s));
    if (keptDevice.length) expect(Math.min(...keptDevice)).toBeGreaterThan(Math.max(...evictedDevice));
    // A platform receiving everything left can account for every missing seq, exactly.
    const report = checkerOf(o).report();
    expect(report.problems).toEqual([]);
    expect(report.evictionsExact).toBe(true);
    expect(report.missingCount).toBe(reports.reduce((n, r) => n + r.count, 0));
    expect(o.stats().bytes).toBeLessThanOrEqual(64 * 1024 + alarms.length * 200);
  });

  it('never evicts rows at or below the read cursor (the uplink has them in flight)', async () => {
    const o = make({ maxBytes: 64 * 1024 });
    const first = await recordMany(o, 100, 'device');
    o.setReadCursor(first[first.length - 1]!.seq);
    await recordMany(o, 600, 'device', 100);
    await new Promise((r) => setImmediate(r));
    const remaining = new Set(o.readEvents(0, 100_000).map((r) => r.seq));
    expect(first.every((e) => remaining.has(e.seq))).toBe(true);
    const report = checkerOf(o).report();
    expect(report.evictionsExact).toBe(true);
    expect(report.evictions.every((n) => n.fromSeq > 100)).toBe(true);
  });

  it('folds repeated evictions into one unread report per class, and starts a new one once the old was read', async () => {
    const o = make({ maxBytes: 64 * 1024 });
    for (let i = 0; i < 10; i++) await recordMany(o, 100, 'device', i * 100);
    await new Promise((r) => setImmediate(r));
    const first = checkerOf(o).report();
    let notices = first.evictions;
    // Every eviction so far (hundreds of rows, over many rounds; how many depends on the
    // store's empty schema, which grows with each family) is folded into one exact report.
    expect(notices).toHaveLength(1);
    expect(notices[0]!.count).toBe(first.missingCount);
    expect(notices[0]!.count).toBeGreaterThan(300);
    // The uplink reads past that report: it may have been sent, so it must never change again.
    const sent = o.readEvents(0, 100_000);
    o.setReadCursor(sent[sent.length - 1]!.seq);
    const before = o.readEvents(notices[0]!.seq - 1, 1)[0]!.body;
    for (let i = 10; i < 20; i++) await recordMany(o, 100, 'device', i * 100);
    await new Promise((r) => setImmediate(r));
    expect(o.readEvents(notices[0]!.seq - 1, 1)[0]!.body).toBe(before);
    notices = checkerOf(o).report().evictions;
    expect(notices.length).toBe(2);
  });

  it('expires by class TTL only rows with a trustworthy age, and never alarms', async () => {
    let o = make();
    const synced = await recordMany(o, 10, 'device');
    const alarms = await recordMany(o, 5, 'alarm', 10);
    close(o);
    // A reboot without RTC or network: the wall clock says 2020, and the outbox knows it is unsynced.
    const bootClock = new ManualClock(Date.UTC(2020, 0, 1), 'unsynced');
    o = new Outbox({ file, clock: bootClock, config: { checkpointIntervalMs: 0 } });
    const unsynced = await recordMany(o, 10, 'device', 20);
    expect(unsynced[0]!.clock).toBe('unsynced');
    close(o);
    clock.advance(8 * 86_400_000); // device TTL is 7 days; the unsynced rows "look" six years old
    o = make();
    const reports = o.sweepExpired();
    expect(reports).toEqual([
      expect.objectContaining({ class: 'device', fromSeq: synced[0]!.seq, toSeq: synced[9]!.seq, count: 10, reason: 'ttl' }),
    ]);
    await new Promise((r) => setImmediate(r));
    const remaining = new Set(o.readEvents(0, 1000).map((r) => r.seq));
    expect([...unsynced, ...alarms].every((e) => remaining.has(e.seq))).toBe(true);
    expect(synced.some((e) => remaining.has(e.seq))).toBe(false);
    const evicted = o
      .readEvents(0, 1000)
      .map((r) => JSON.parse(r.body) as Envelope)
      .filter((e) => e.type === 'outbox.evicted');
    expect(evicted.map((e) => e.data)).toEqual([{ class: 'device', fromSeq: 1, toSeq: 10, count: 10, reason: 'ttl' }]);
    expect(checkerOf(o).report().evictionsExact).toBe(true);
  });

  it('lets an unsynced row go with an expired synced row recorded after it: by seq it is older still', async () => {
    const o = make();
    clock.setState('unsynced');
    const early = await recordMany(o, 3, 'device');
    clock.setState('synced');
    const later = await recordMany(o, 3, 'device', 3);
    clock.advance(8 * 86_400_000);
    expect(o.sweepExpired()).toEqual([expect.objectContaining({ fromSeq: early[0]!.seq, toSeq: later[2]!.seq, count: 6 })]);
  });

  it('answers a full disk with OUTBOX_DISK_FULL, keeps running, and records again once there is room', async () => {
    const o = make();
    await recordMany(o, 50, 'alarm');
    const errors: GatehouseError[] = [];
    o.on('error', (e) => errors.push(e));
    const pages = (outboxConnection(o).pragma('page_count', { simple: true }) as number) + 2;
    outboxConnection(o).pragma(`max_page_count = ${pages}`);
    // Alarms only: nothing may be evicted, so the disk really is full for us.
    const results = await Promise.allSettled(Array.from({ length: 2000 }, (_, i) => o.record(testEvent(i, 'alarm'))));
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    expect(isGatehouseError(rejected[0]!.reason, 'OUTBOX_DISK_FULL')).toBe(true);
    expect((rejected[0]!.reason as Error).message).toMatch(/disk holding the outbox is full/);
    expect(errors.some((e) => e.code === 'OUTBOX_DISK_FULL')).toBe(true);
    // Still alive: seq stays gap-free for what was committed, and recording resumes with room.
    const committed = results.filter((r): r is PromiseFulfilledResult<Envelope> => r.status === 'fulfilled').map((r) => r.value.seq);
    outboxConnection(o).pragma('max_page_count = 1073741823');
    const next = await o.record(testEvent(0, 'alarm'));
    // Gap-free: the alarms that committed, the pinned outbox.disk_full report(s), then this one.
    const seqs = o.readEvents(0, 100_000).map((r) => r.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(next.seq).toBe(seqs.length);
    expect(seqs.length - 51 - committed.length).toBeLessThanOrEqual(2);
    expect(outboxConnection(o).pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('never throws at the caller: a body that cannot be serialised rejects (coded paths stay promise-shaped)', async () => {
    const o = make();
    let state: Promise<void> | undefined;
    let reply: Promise<void> | undefined;
    expect(() => (state = o.setState('dev-1', { n: 1n }))).not.toThrow();
    expect(() => (reply = o.recordReply('cmd/x/res', { n: 1n }))).not.toThrow();
    await expect(state).rejects.toThrow(/BigInt/);
    await expect(reply).rejects.toThrow(/BigInt/);
    await expect(o.record(testEvent(1, 'alarm'))).resolves.toMatchObject({ seq: 1 });
  });

  it('on a full disk sacrifices telemetry (reported as disk-full) so alarms still commit', async () => {
    const o = make();
    await recordMany(o, 400, 'device');
    outboxConnection(o).pragma(`max_page_count = ${outboxConnection(o).pragma('page_count', { simple: true }) as number}`);
    const reports: EvictionReport[] = [];
    o.on('evicted', (r) => reports.push(r));
    const alarms: Envelope[] = [];
    for (let i = 0; i < 20; i++) alarms.push(...(await recordMany(o, 10, 'alarm', i * 10)));
    expect(alarms).toHaveLength(200);
    expect(reports.length).toBeGreaterThan(0);
    expect(reports[0]).toMatchObject({ class: 'device', fromSeq: 1, reason: 'disk-full' });
    const remaining = new Set(o.readEvents(0, 100_000).map((r) => r.seq));
    expect(alarms.every((e) => remaining.has(e.seq))).toBe(true);
  });

  it('reads in bounded pages, in seq order, whatever the backlog', async () => {
    const o = make();
    await recordMany(o, 5000);
    for (let i = 0; i < 30; i++) await o.recordReply(`cmd/system.ping/res`, { id: `c-${i}`, ok: true });
    let after = 0;
    const seen: number[] = [];
    for (;;) {
      const rows = o.readEvents(after, 128);
      expect(rows.length).toBeLessThanOrEqual(128);
      if (!rows.length) break;
      seen.push(...rows.map((r) => r.seq));
      after = rows[rows.length - 1]!.seq;
    }
    expect(seen).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
    const replies = o.readReplies(0, 10);
    expect(replies).toHaveLength(10);
    expect(o.readReplies(replies[9]!.id, 100)).toHaveLength(20);
    expect(replies[0]).toMatchObject({ topic: 'cmd/system.ping/res', body: '{"id":"c-0","ok":true}' });
  });
});
