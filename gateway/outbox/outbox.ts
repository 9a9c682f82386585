/**
 * The durable outbox. Every event, retained state and command reply that leaves the box
 * is first committed here; the uplink drains it and deletes rows only after PUBACK.
 *
 * - `record()` stamps id/seq/ts/clock and resolves only after a synced (fsynced) commit.
 * - Group commit: everything recorded during one event-loop turn shares one transaction.
 * - `seq` is gap-free across restarts: the next value is persisted in the same
 *   transaction as the rows that use it.
 * - Memory is bounded: readers page through rows in seq order.
 */
import type { Database as Db } from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { idGenerator } from '../core/ids.js';
import { realTimers, type Clock } from '../core/clock.js';
import type { Envelope, EventClass, EventInput } from '../core/events.js';
import { GatehouseError, isGatehouseError } from '../core/errors.js';
import type { OutboxConfig } from '../../config/schema.js';
import { OutboxConfig as OutboxConfigSchema } from '../../config/schema.js';
import { openOutboxDatabase } from './schema.js';
import { scopeOf, type StoreScope } from '../store/scope.js';
import type { StoreOwnerName } from '../store/owners.js';
import { Evictor, type EvictionReport } from './eviction.js';
import { Footprint } from './footprint.js';
import { checkCap, DiskReserve, freeBytes, isStorageError, reserveFile, sqliteCode, type CapCheck } from './disk-space.js';
import { DiskFullState } from './disk-full.js';
import { AckBatcher } from './acks.js';

import type { OutboxEvents, OutboxOptions, OutboxStats, PendingOp, EventRow, ReplyRow } from './types.js';

export type { DiskFullInfo } from './disk-full.js';
export type { EventRow, ReplyRow, OutboxStats, OutboxOptions } from './types.js';

export class Outbox extends EventEmitter<OutboxEvents> {
  private scanCache: { at: number; agg: { class: string; n: number; oldest: number }[] } | undefined;
  /** Private: modules reach their own tables through scope(), never the connection. */
  private readonly db: Db;
  private readonly clock: Clock;
  readonly config: OutboxConfig;
  private nextSeq: number;
  private bytes: number;
  private pending: PendingOp[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly ulid = idGenerator();
  private readonly acks: AckBatcher;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private lastCommitAt: number | null = null;
  private oldestPendingSince: number | null = null;
  private readonly evictor: Evictor;
  /** What the cap counts: the database's pages and WAL, not row bytes (footprint.ts). */
  private readonly footprint: Footprint;
  private readonly stmts;
  private readonly reserve: DiskReserve;
  private readonly diskFull: DiskFullState;
  /** What start found about the cap against the filesystem (see disk-space.ts). */
  private cap: CapCheck;
  private readonly file: string;
  /** True when the database could only be opened without shared memory (full disk at start). */
  readonly exclusive: boolean;
  /** Set while the outbox commits its own disk reports: a failure then must not recurse. */
  private reporting = false;
  /** Eviction reports refused by the full disk, recorded again when it recovers. */
  private readonly unrecordedReports: EventInput[] = [];

  constructor(opts: OutboxOptions) {
    super();
    this.clock = opts.clock;
    this.config = OutboxConfigSchema.parse(opts.config ?? {});
    mkdirSync(dirname(opts.file), { recursive: true });
    ({ db: this.db, exclusive: this.exclusive } = openOutboxDatabase(opts.file));
    // A cap the filesystem cannot hold would only be found out when the disk fills: lower it now.
    this.file = opts.file;
    this.cap = checkCap(opts.file, this.config.maxBytes, this.config.reserveBytes);
    this.config.maxBytes = this.cap.effective;
    this.reserve = new DiskReserve(reserveFile(opts.file), this.config.reserveBytes);
    this.reserve.ensure();
    this.diskFull = new DiskFullState({
      clock: this.clock,
      timers: opts.timers ?? realTimers,
      retryMs: this.config.diskRetryMs,
      reserve: this.reserve,
      commitNow: (events) => this.commitReports(events),
      onFull: (info) => this.emit('diskFull', info),
      onRecovered: (info) => {
        // Space was freed: a cap lowered on the full disk (at start, say) may fit again.
        this.cap = checkCap(this.file, this.cap.configured, this.config.reserveBytes);
        this.config.maxBytes = this.cap.effective;
        this.footprint.setCap(this.cap.effective);
        for (const input of this.unrecordedReports.splice(0)) this.recordEvictionReport(input);
        this.emit('diskRecovered', info);
      },
    });
    this.stmts = {
      insertEvent: this.db.prepare('INSERT INTO events (seq, class, recorded_at, synced, pinned, body) VALUES (?, ?, ?, ?, ?, ?)'),
      upsertState: this.db.prepare(
        'INSERT INTO states (device, body, updated_at) VALUES (?, ?, ?) ON CONFLICT(device) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at',
      ),
      insertReply: this.db.prepare('INSERT INTO replies (topic, body, created_at) VALUES (?, ?, ?)'),
      setNextSeq: this.db.prepare("INSERT INTO meta (k, v) VALUES ('next_seq', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v"),
      readEvents: this.db.prepare('SELECT seq, class, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?'),
      readReplies: this.db.prepare('SELECT id, topic, body FROM replies WHERE id > ? ORDER BY id LIMIT ?'),
      deleteEvent: this.db.prepare('DELETE FROM events WHERE seq = ?'),
      deleteReply: this.db.prepare('DELETE FROM replies WHERE id = ?'),
      recentPinnedSystem: this.db.prepare(
        "SELECT seq, body FROM events WHERE class = 'system' AND pinned = 1 AND seq > ? ORDER BY seq DESC LIMIT 20",
      ),
      rewriteBody: this.db.prepare('UPDATE events SET body = ? WHERE seq = ?'),
    };
    const meta = this.db.prepare("SELECT v FROM meta WHERE k = 'next_seq'").get() as { v: number } | undefined;
    const maxRow = this.db.prepare('SELECT MAX(seq) AS m FROM events').get() as { m: number | null };
    this.nextSeq = Math.max(meta?.v ?? 1, (maxRow.m ?? 0) + 1);
    // A previous process may have sent any row still here (its PUBACK lost in a crash).
    this.readHigh = maxRow.m ?? 0;
    this.bytes = (this.db.prepare('SELECT COALESCE(SUM(LENGTH(body)), 0) AS b FROM events').get() as { b: number }).b;
    this.evictor = new Evictor(this.db, this.config, this.clock);
    this.footprint = new Footprint(this.db, this.config.maxBytes);
    this.acks = new AckBatcher({
      db: this.db,
      deleteEvent: this.stmts.deleteEvent,
      deleteReply: this.stmts.deleteReply,
      freed: (bytes) => void (this.bytes -= bytes),
      onError: (err) => this.reportError(err),
    });
    if (this.config.checkpointIntervalMs > 0) {
      this.checkpointTimer = setInterval(() => this.checkpoint(), this.config.checkpointIntervalMs);
      this.checkpointTimer.unref();
    }
    // A database over its budget (an older version's, or a cap lowered since): evict to the
    // budget now (reported like any eviction), then give the freed pages back to the disk.
    try {
      if (this.footprint.overHighWater()) this.makeRoom(false);
      this.footprint.shrinkIfOversized(freeBytes(dirname(opts.file)));
    } catch (err) {
      // Only an optimisation of the file's size: a busy or full database starts as it is.
      this.reportError(storageError(err, 'outbox shrink failed'));
    }
  }

  /** Records one event; resolves with its envelope once the commit is on disk. */
  /**
   * A module's handle on its own tables in outbox.db (created by its migrations, see
   * gateway/store/owners.ts). The connection itself stays here: only the outbox closes,
   * checkpoints or changes pragmas.
   */
  scope(owner: StoreOwnerName): StoreScope {
    return scopeOf(this.db, owner);
  }

  /** The class of the recorded events with seq in [from, to]: the envelope does not carry it (the topic names it). */
  eventClasses(from: number, to: number): Map<number, EventClass> {
    const rows = this.db.prepare('SELECT seq, class FROM events WHERE seq BETWEEN ? AND ?').all(from, to) as {
      seq: number;
      class: EventClass;
    }[];
    return new Map(rows.map((r) => [r.seq, r.class]));
  }

  record(input: EventInput, opts: { pinned?: boolean } = {}): Promise<Envelope> {
    if (this.closed) return Promise.reject(new GatehouseError('OUTBOX_CLOSED'));
    return new Promise((resolve, reject) => {
      this.enqueue({
        kind: 'event',
        input,
        ts: this.clock.now(),
        clock: this.clock.state(),
        pinned: opts.pinned ?? input.class === 'alarm',
        resolve,
        reject,
      });
    });
  }

  /** Stores the latest retained state of a device (latest wins). */
  setState(device: string, state: Record<string, unknown>): Promise<void> {
    if (this.closed) return Promise.reject(new GatehouseError('OUTBOX_CLOSED'));
    // Inside the executor: a body that cannot be serialised rejects instead of throwing at the caller.
    return new Promise((resolve, reject) => {
      const body = JSON.stringify({ ...state, ts: new Date(this.clock.now()).toISOString() });
      this.enqueue({ kind: 'state', device, body, ts: this.clock.now(), resolve, reject });
    });
  }

  /** Stores a command answer to be published on `cmd/{name}/res`. */
  recordReply(topic: string, reply: Record<string, unknown>): Promise<void> {
    if (this.closed) return Promise.reject(new GatehouseError('OUTBOX_CLOSED'));
    return new Promise((resolve, reject) => {
      const body = JSON.stringify(reply);
      this.enqueue({ kind: 'reply', topic, body, ts: this.clock.now(), resolve, reject });
    });
  }

  private enqueue(op: PendingOp): void {
    if (this.pending.length === 0) this.oldestPendingSince = this.clock.monotonic();
    this.pending.push(op);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Commits everything pending, in transactions of at most `maxBatch` operations. */
  flush(): void {
    this.flushScheduled = false;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.config.maxBatch);
      this.commitBatch(batch);
    }
    this.oldestPendingSince = null;
  }

  private commitBatch(batch: PendingOp[]): void {
    let envelopes: Envelope[] = [];
    let addedBytes = 0;
    const states: [string, string][] = [];
    let replies = 0;
    const run = this.db.transaction(() => {
      envelopes = [];
      addedBytes = 0;
      // Read at each attempt: the disk-full report may have been committed between two attempts.
      const startSeq = this.nextSeq;
      let seq = startSeq;
      for (const op of batch) {
        if (op.kind === 'event') {
          const env: Envelope = {
            v: 1,
            id: this.ulid(op.ts),
            seq,
            ts: new Date(op.ts).toISOString(),
            clock: op.clock,
            type: op.input.type,
            source: op.input.source,
            data: op.input.data,
          };
          const body = JSON.stringify(env);
          this.stmts.insertEvent.run(seq, op.input.class, op.ts, op.clock === 'synced' ? 1 : 0, op.pinned ? 1 : 0, body);
          addedBytes += body.length;
          envelopes.push(env);
          seq++;
        } else if (op.kind === 'state') {
          this.stmts.upsertState.run(op.device, op.body, op.ts);
        } else {
          this.stmts.insertReply.run(op.topic, op.body, op.ts);
        }
      }
      if (seq !== startSeq) this.stmts.setNextSeq.run(seq);
      return seq;
    });
    let endSeq: number | undefined;
    try {
      endSeq = run();
    } catch (err) {
      endSeq = this.commitOnFullDisk(run, err, batch);
      if (endSeq === undefined) return;
    }
    this.nextSeq = endSeq;
    this.bytes += addedBytes;
    this.lastCommitAt = this.clock.now();
    const committed = envelopes;
    let next = 0;
    for (const op of batch) {
      if (op.kind === 'event') op.resolve(committed[next++]!);
      else {
        if (op.kind === 'state') states.push([op.device, op.body]);
        else replies++;
        op.resolve();
      }
    }
    if (committed.length) this.emit('recorded', committed);
    for (const [device, body] of states) this.emit('state', device, body);
    if (replies) this.emit('reply');
    if (this.footprint.overHighWater()) this.makeRoom(false);
  }

  /**
   * A commit failed. Storage errors (full, I/O) get two more chances, cheapest loss first:
   * evict telemetry, then give back the reserve file; a batch that still cannot be
   * committed is rejected with OUTBOX_DISK_FULL and the outbox enters the disk-full state
   * (reported, retried until space is back). Returns the end seq when a retry committed.
   */
  private commitOnFullDisk(run: () => number, err: unknown, batch: PendingOp[]): number | undefined {
    if (!isStorageError(err)) {
      const internal = new GatehouseError(
        'INTERNAL',
        `outbox commit failed: ${(err as Error).message}`,
        { sqlite: sqliteCode(err) },
        { cause: err },
      );
      this.failBatch(batch, internal);
      return undefined;
    }
    if (!this.reporting) {
      // A full disk costs telemetry, not alarms.
      if (this.makeRoom(true)) {
        try {
          return run();
        } catch (again) {
          err = again;
        }
      }
      const released = this.reserve.release();
      this.diskFull.enter(sqliteCode(err));
      if (released) {
        // With the reserve's room the DELETE of telemetry can run too (it needs WAL pages).
        this.makeRoom(true);
        try {
          return run();
        } catch (again) {
          err = again;
        }
      }
      this.diskFull.refused(batch.filter((op) => op.kind === 'event').length);
    }
    const code = sqliteCode(err);
    this.failBatch(
      batch,
      new GatehouseError(
        'OUTBOX_DISK_FULL',
        `outbox commit failed: the disk holding the outbox is full or failing (${code}); ` +
          'free space on the data partition or lower outbox.maxBytes; recording resumes by itself',
        { sqlite: code },
        { cause: err },
      ),
    );
    return undefined;
  }

  /** An 'error' event with nobody listening would throw (EventEmitter): a report must never crash. */
  private reportError(err: GatehouseError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private failBatch(batch: PendingOp[], err: GatehouseError): void {
    this.reportError(err);
    for (const op of batch) op.reject(err);
  }

  get capCheck(): CapCheck {
    return { ...this.cap };
  }

  /** Commits the disk-full reports synchronously, ahead of anything queued; never recurses into the disk-full handling. */
  private commitReports(events: { input: EventInput; ts: number }[]): boolean {
    let ok = true;
    const clock = this.clock.state();
    const ops: PendingOp[] = events.map(({ input, ts }) => ({
      kind: 'event',
      input,
      ts,
      clock,
      pinned: true,
      resolve: () => undefined,
      reject: () => void (ok = false),
    }));
    this.reporting = true;
    try {
      this.commitBatch(ops);
    } finally {
      this.reporting = false;
    }
    return ok;
  }

  /** Evicts cheapest-first until under the cap; records the reports. False when nothing could be evicted. */
  private makeRoom(diskFull: boolean): boolean {
    let reports: EvictionReport[];
    try {
      reports = this.evictor.evictForCap(this.footprint, this.bytes, diskFull, this.readCursor);
    } catch (err) {
      // On a full disk the DELETE itself needs room in the WAL; the caller carries on without it.
      this.reportError(storageError(err, 'outbox eviction failed'));
      return false;
    }
    if (reports.length === 0) return false;
    for (const r of reports) this.reportEviction(r);
    return true;
  }

  /**
   * Records an eviction as a pinned `system` event, or folds it into the newest report of
   * the same class and reason when nobody can have read that one yet. Without folding, a
   * long outage with the pinned rows (alarms, reports) near the cap evicts on every commit
   * and each eviction adds pinned reports: they would grow without bound.
   *
   * Folding is exact: eviction always cuts a class from its oldest row above the read
   * cursor, so when the old report's range ends at or above everything ever read
   * (readHigh), no event of that class between the two ranges exists or was delivered. The
   * rewritten row was never read, so no consumer sees one id with two contents.
   */
  private reportEviction(r: EvictionReport): void {
    this.bytes -= r.bytes;
    this.emit('evicted', r);
    const data = { class: r.class, fromSeq: r.fromSeq, toSeq: r.toSeq, count: r.count, reason: r.reason };
    try {
      const recent = this.stmts.recentPinnedSystem.all(Math.max(this.readHigh, this.readCursor)) as { seq: number; body: string }[];
      for (const row of recent) {
        const env = JSON.parse(row.body) as Envelope<typeof data>;
        if (env.type !== 'outbox.evicted' || env.data.class !== r.class) continue;
        if (env.data.reason !== r.reason || env.data.toSeq < this.readHigh || env.data.toSeq >= r.fromSeq) break;
        const body = JSON.stringify({ ...env, data: { ...data, fromSeq: env.data.fromSeq, count: env.data.count + r.count } });
        this.stmts.rewriteBody.run(body, row.seq);
        this.bytes += body.length - row.body.length;
        return;
      }
    } catch {
      // Folding is an optimisation; a separate report is always correct.
    }
    this.recordEvictionReport({ class: 'system', type: 'outbox.evicted', source: { device: 'gateway' }, data });
  }

  /** An eviction report the full disk refused is kept and recorded once space is back: every dropped seq stays accounted for. */
  private recordEvictionReport(input: EventInput): void {
    this.record(input, { pinned: true }).catch((err: unknown) => {
      if (isGatehouseError(err, 'OUTBOX_DISK_FULL')) this.unrecordedReports.push(input);
    });
  }

  /** Drops events past their class TTL (only those recorded with a synced clock). */
  sweepExpired(): EvictionReport[] {
    let reports: EvictionReport[];
    try {
      reports = this.evictor.evictExpired(this.readCursor);
    } catch (err) {
      this.reportError(storageError(err, 'outbox TTL sweep failed'));
      return [];
    }
    for (const r of reports) this.reportEviction(r);
    return reports;
  }

  /**
   * Highest seq handed to the uplink and not yet settled. Eviction never touches rows at
   * or below it, so an eviction report never names an event that is also delivered.
   */
  private readCursor = 0;
  /** The highest cursor ever set (or the last seq at open): nothing above it has been read. */
  private readHigh = 0;
  setReadCursor(seq: number): void {
    this.readCursor = seq;
    if (seq > this.readHigh) this.readHigh = seq;
  }

  readEvents(afterSeq: number, limit: number): EventRow[] {
    return this.stmts.readEvents.all(afterSeq, limit) as EventRow[];
  }

  readReplies(afterId: number, limit: number): ReplyRow[] {
    return this.stmts.readReplies.all(afterId, limit) as ReplyRow[];
  }

  readStates(): { device: string; body: string }[] {
    return this.db.prepare('SELECT device, body FROM states ORDER BY device').all() as { device: string; body: string }[];
  }

  /** Marks an event delivered (PUBACK received); deleted in batches (acks.ts). */
  ackEvent(seq: number, bytes: number): void {
    this.acks.event(seq, bytes);
  }

  ackReply(id: number): void {
    this.acks.reply(id);
  }

  flushAcks(): void {
    this.acks.flush();
  }

  checkpoint(): void {
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      this.reportError(new GatehouseError('INTERNAL', `WAL checkpoint failed: ${(err as Error).message}`, undefined, { cause: err }));
    }
  }

  /** False when something has waited too long for a commit: the watchdog stops petting. */
  healthy(maxCommitWaitMs = 5000): boolean {
    return this.oldestPendingSince === null || this.clock.monotonic() - this.oldestPendingSince < maxCommitWaitMs;
  }

  /**
   * Counts per class need a scan (~100 ms at a million rows, on the event loop that also
   * decides doors), so callers that poll (status, the console) pass `maxAgeMs` and get the
   * scanned part from a cache; bytes, next seq and the commit state are always live.
   */
  stats(opts: { maxAgeMs?: number } = {}): OutboxStats {
    const now = performance.now();
    if (!this.scanCache || now - this.scanCache.at > (opts.maxAgeMs ?? 0)) {
      const agg = this.db.prepare('SELECT class, COUNT(*) AS n, MIN(recorded_at) AS oldest FROM events GROUP BY class').all() as {
        class: string;
        n: number;
        oldest: number;
      }[];
      this.scanCache = { at: now, agg };
    }
    const agg = this.scanCache.agg;
    const byClass: Record<string, number> = {};
    let events = 0;
    let oldest: number | null = null;
    for (const r of agg) {
      byClass[r.class] = r.n;
      events += r.n;
      oldest = oldest === null ? r.oldest : Math.min(oldest, r.oldest);
    }
    const replies = (this.db.prepare('SELECT COUNT(*) AS n FROM replies').get() as { n: number }).n;
    const diskFull = this.diskFull.view();
    return {
      events,
      bytes: this.bytes,
      maxBytes: this.config.maxBytes,
      oldestRecordedAt: oldest,
      nextSeq: this.nextSeq,
      replies,
      pendingCommit: this.pending.length,
      lastCommitAt: this.lastCommitAt,
      byClass,
      configuredMaxBytes: this.cap.configured,
      diskFull,
      reserveHeld: this.reserve.held,
    };
  }

  /** Commits what is pending, settles acks, checkpoints and closes the file. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.flushAcks();
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    this.diskFull.stop();
    this.checkpoint();
    this.db.close();
  }
}

/** A failed outbox write as a coded error: OUTBOX_DISK_FULL when the storage refused it. */
function storageError(err: unknown, what: string): GatehouseError {
  const code = isStorageError(err) ? 'OUTBOX_DISK_FULL' : 'INTERNAL';
  return new GatehouseError(code, `${what}: ${(err as Error).message}`, { sqlite: sqliteCode(err) }, { cause: err });
}
