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
import { GatehouseError } from '../core/errors.js';
import type { OutboxConfig } from '../../config/schema.js';
import { OutboxConfig as OutboxConfigSchema } from '../../config/schema.js';
import { openOutboxDatabase } from './schema.js';
import { scopeOf, type StoreScope } from '../store/scope.js';
import type { StoreOwnerName } from '../store/owners.js';
import { Evictor, type EvictionReport } from './eviction.js';
import { Footprint } from './footprint.js';
import { checkCap, DiskReserve, freeBytes, reserveFile, type CapCheck } from './disk-space.js';
import { DiskFullState } from './disk-full.js';
import { AckBatcher } from './acks.js';
import { writeBatch, type BatchRows } from './write-batch.js';
import { EvictionReports } from './eviction-reports.js';
import { ClassScan, type ClassCounts } from './class-scan.js';
import { prepareStatements, type OutboxStatements } from './statements.js';
import { commitOnFullDisk, storageError } from './full-disk-commit.js';

import type { OutboxEvents, OutboxOptions, OutboxStats, PendingOp, EventRow, ReplyRow } from './types.js';

export type { DiskFullInfo } from './disk-full.js';
export type { EventRow, ReplyRow, OutboxStats, OutboxOptions } from './types.js';

const ignore = (): void => undefined;

export class Outbox extends EventEmitter<OutboxEvents> {
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
  private readonly stmts: OutboxStatements;
  private readonly reserve: DiskReserve;
  private readonly diskFull: DiskFullState;
  /** What start found about the cap against the filesystem (see disk-space.ts). */
  private cap: CapCheck;
  private readonly file: string;
  /** True when the database could only be opened without shared memory (full disk at start). */
  readonly exclusive: boolean;
  /** Set while the outbox commits its own disk reports: a failure then must not recurse. */
  private reporting = false;
  private readonly evictionReports: EvictionReports;
  private readonly classScan: ClassScan;

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
        this.evictionReports.retryUnrecorded();
        this.emit('diskRecovered', info);
      },
    });
    this.stmts = prepareStatements(this.db);
    const meta = this.db.prepare("SELECT v FROM meta WHERE k = 'next_seq'").get() as { v: number } | undefined;
    const maxRow = this.db.prepare('SELECT MAX(seq) AS m FROM events').get() as { m: number | null };
    this.nextSeq = Math.max(meta?.v ?? 1, (maxRow.m ?? 0) + 1);
    // A previous process may have sent any row still here (its PUBACK lost in a crash).
    this.readHigh = maxRow.m ?? 0;
    this.bytes = (this.db.prepare('SELECT COALESCE(SUM(LENGTH(body)), 0) AS b FROM events').get() as { b: number }).b;
    this.evictor = new Evictor(this.db, this.config, this.clock);
    this.footprint = new Footprint(this.db, this.config.maxBytes);
    this.classScan = new ClassScan(this.db);
    this.evictionReports = new EvictionReports({
      recentPinnedSystem: this.stmts.recentPinnedSystem,
      rewriteBody: this.stmts.rewriteBody,
      addBytes: (delta) => void (this.bytes += delta),
      emitEvicted: (r) => this.emit('evicted', r),
      record: (input, opts) => this.record(input, opts),
      readCursor: () => this.readCursor,
      readHigh: () => this.readHigh,
    });
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
    return { ...scopeOf(this.db, owner), defer: (run, done) => this.defer(run, done) };
  }

  /**
   * Runs `run` (an owner's writes to its own tables) inside the next group commit, so it shares
   * that commit's one fsync instead of paying its own; `done` once committed, or with the error.
   */
  private defer(run: () => void, done: (err?: unknown) => void): void {
    if (this.closed) return done(new GatehouseError('OUTBOX_CLOSED'));
    this.enqueue({ kind: 'write', run, ts: this.clock.now(), resolve: () => done(), reject: (e) => done(e) });
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

  /**
   * record() for a caller that does not wait for the commit (a poll loop recording readings):
   * the same operation in the same group commit, without the promise and its handlers per
   * event (issue 18). `failed` gets what would have rejected the promise.
   */
  post(input: EventInput, failed: (err: unknown) => void): void {
    if (this.closed) return failed(new GatehouseError('OUTBOX_CLOSED'));
    const pinned = input.class === 'alarm';
    this.enqueue({ kind: 'event', input, ts: this.clock.now(), clock: this.clock.state(), pinned, resolve: ignore, reject: failed });
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
    const states: [string, string][] = [];
    let replies = 0;
    // nextSeq is read at each attempt: the disk-full report may have been committed between two attempts.
    const run = this.db.transaction(() => writeBatch(this.stmts, this.ulid, batch, this.nextSeq));
    let rows: BatchRows | undefined;
    try {
      rows = run();
    } catch (err) {
      rows = this.commitOnFullDisk(run, err, batch);
      if (rows === undefined) return;
    }
    this.nextSeq = rows.endSeq;
    this.bytes += rows.addedBytes;
    this.lastCommitAt = this.clock.now();
    const committed = rows.envelopes;
    let next = 0;
    for (const op of batch) {
      if (op.kind === 'event') op.resolve(committed[next++]!);
      else {
        if (op.kind === 'state') states.push([op.device, op.body]);
        else if (op.kind === 'reply') replies++;
        op.resolve();
      }
    }
    if (committed.length) {
      // The class of each, beside the envelopes (which do not carry it): for the metrics.
      const classes: EventClass[] = [];
      for (const op of batch) if (op.kind === 'event') classes.push(op.input.class);
      this.emit('recorded', committed, classes);
    }
    for (const [device, body] of states) this.emit('state', device, body);
    if (replies) this.emit('reply');
    if (this.footprint.overHighWater()) this.makeRoom(false);
  }

  private commitOnFullDisk(run: () => BatchRows, err: unknown, batch: PendingOp[]): BatchRows | undefined {
    const ctx = {
      reporting: this.reporting,
      makeRoom: () => this.makeRoom(true),
      reserve: this.reserve,
      diskFull: this.diskFull,
      failBatch: (b: PendingOp[], e: GatehouseError) => this.failBatch(b, e),
    };
    return commitOnFullDisk(ctx, run, err, batch);
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
    for (const r of reports) this.evictionReports.report(r);
    return true;
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
    for (const r of reports) this.evictionReports.report(r);
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
    const { events, byClass, oldestRecordedAt } = this.classScan.counts(opts.maxAgeMs);
    const replies = (this.db.prepare('SELECT COUNT(*) AS n FROM replies').get() as { n: number }).n;
    const diskFull = this.diskFull.view();
    return {
      events,
      bytes: this.bytes,
      maxBytes: this.config.maxBytes,
      oldestRecordedAt,
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

  /** The per-class counts and oldest ages alone (the metrics), from a scan at most `maxAgeMs` old. */
  classCounts(maxAgeMs: number): ClassCounts {
    return this.classScan.counts(maxAgeMs);
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
