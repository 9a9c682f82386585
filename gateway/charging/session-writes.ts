/**
 * How the charging_sessions rows reach the disk: in the outbox's group commit of the same
 * event-loop turn as the events that announce them (session_started, charging.meter,
 * session_stopped), so they share its one fsync instead of paying their own (issue 18):
 *   - a new session's row: adopting the 12 running sessions of each cabinet at start used to
 *     be 12 commits (and fsyncs) per cabinet;
 *   - a session's progress (last meter, energy, elapsed) at each meter sample: 12 commits per
 *     cabinet per poll before, most of the hot path's time;
 *   - a stop row.
 * Durability is unchanged: a row is on disk when its event is. A scope without `defer` (not
 * the outbox's) writes at once, as before; a full disk never breaks the poll that also
 * evaluates smoke (the session runs in memory, the write is redone at the next commit).
 */
import type { Statement } from 'better-sqlite3';
import { isStorageError, tolerateStorageError } from '../outbox/disk-space.js';
import type { StoreScope } from '../store/scope.js';

type Progress = readonly [lastMeterWh: number, energyWh: number, elapsedMs: number];

export interface SessionStatements {
  insert: Statement;
  /** (lastMeterWh, energyWh, elapsedMs, sessionId) */
  meter: Statement;
  /** (lastMeterWh, energyWh, elapsedMs, stoppedAt, meterStopWh, reason, sessionId) */
  stop: Statement;
}

export class SessionWrites<Stopped> {
  /** Rows queued for the next group commit, by session id. */
  private readonly newRows = new Map<number, readonly unknown[]>();
  private readonly progressRows = new Map<number, Progress>();
  private readonly stopRows = new Map<number, { row: readonly unknown[]; stopped: Stopped }>();
  private queued = false;

  constructor(
    private readonly db: StoreScope,
    private readonly stmts: SessionStatements,
    /** A queued row refused for another reason than the disk (a bug): dropped and reported, not failing the commit it rides in. */
    private readonly onWriteError: (err: Error) => void,
  ) {}

  insert(sessionId: number, row: readonly unknown[]): void {
    if (!this.db.defer) return void tolerateStorageError(() => this.stmts.insert.run(...row), undefined);
    this.newRows.set(sessionId, row);
    this.queue();
  }

  /** The values of this sample, as a direct write would have stored them. */
  progress(sessionId: number, p: Progress): void {
    if (!this.db.defer) return void tolerateStorageError(() => this.stmts.meter.run(...p, sessionId), undefined);
    this.progressRows.set(sessionId, p);
    this.queue();
  }

  /** `stopped` answers stopped(id) until the row is written. */
  stop(sessionId: number, row: readonly unknown[], stopped: Stopped): void {
    // The stop row carries the newest progress: a queued progress write must not follow it with older values.
    this.progressRows.delete(sessionId);
    if (!this.db.defer) return void tolerateStorageError(() => this.stmts.stop.run(...row), undefined);
    this.stopRows.set(sessionId, { row, stopped });
    this.queue();
  }

  /** Whether an id is taken by a row not yet written. */
  taken(sessionId: number): boolean {
    return this.newRows.has(sessionId) || this.stopRows.has(sessionId);
  }

  stopped(sessionId: number): Stopped | undefined {
    return this.stopRows.get(sessionId)?.stopped;
  }

  /** The highest id of a new row not yet written (0 when none). */
  highestNewId(): number {
    let m = 0;
    for (const id of this.newRows.keys()) m = Math.max(m, id);
    return m;
  }

  /** Writes the queued stop rows now (before a prune, say), in a transaction of their own. */
  writeStopsNow(): void {
    if (this.stopRows.size > 0 && tolerateStorageError(() => (this.db.transaction(() => this.write())(), true), false)) this.settle();
  }

  /** One deferred write per group commit: new rows, then progress, then stops (started, sampled and stopped in one turn ends stopped). */
  private queue(): void {
    if (this.queued || !this.db.defer) return;
    this.queued = true;
    this.db.defer(
      () => this.write(),
      (err) => {
        this.queued = false;
        // Written: forget them. Not written (a full disk, the outbox closed): kept for the next commit;
        // the energy is not lost meanwhile, it is counted from the meter itself (meterDelta).
        if (err === undefined) this.settle();
      },
    );
  }

  /** Current values, not increments: the outbox runs this again if it retries the commit. */
  private write(): void {
    for (const row of this.newRows.values()) this.guarded(this.stmts.insert, row);
    // The progress rows are the every-poll case: bound as they are, without an argument array or a closure per row.
    for (const [id, p] of this.progressRows) {
      try {
        this.stmts.meter.run(p[0], p[1], p[2], id);
      } catch (err) {
        this.failed(err);
      }
    }
    for (const { row } of this.stopRows.values()) this.guarded(this.stmts.stop, row);
  }

  private guarded(stmt: Statement, row: readonly unknown[]): void {
    try {
      stmt.run(...row);
    } catch (err) {
      this.failed(err);
    }
  }

  /** A storage error fails (and retries) the whole commit; any other drops this row only. */
  private failed(err: unknown): void {
    if (isStorageError(err)) throw err;
    this.onWriteError(err as Error);
  }

  private settle(): void {
    this.newRows.clear();
    this.progressRows.clear();
    this.stopRows.clear();
  }
}
