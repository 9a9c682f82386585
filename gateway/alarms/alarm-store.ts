/**
 * Where alarms live between restarts: one row per alarm in outbox.db (the same file as the
 * events that report them, so a restored disk restores both together). The whole Alarm is
 * kept as JSON; the columns are only what is queried (open ones at start, closed ones by
 * recency for `alarm.list`, pruning).
 *
 * Writes are batched per event-loop turn (like the outbox's group commit): raise/clear are
 * called on device hot paths and must not pay an fsync each. A crash loses at most the
 * changes of the current turn, and the alarm.* events of that turn are lost with them.
 */
import type { StoreScope } from '../store/scope.js';
import type { Alarm } from './types.js';

export class AlarmStore {
  private readonly stmts;
  /** Alarms changed this turn, by id, in the order they first changed (a close before the raise that reuses its key). */
  private readonly dirty = new Map<string, Alarm>();
  private flushScheduled = false;
  private closedStore = false;
  /** Callers waiting for the write of what is queued now (a DC-09 ACK waits for its alarm row). */
  private waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];

  constructor(
    private readonly db: StoreScope,
    private readonly onError: (err: Error) => void,
  ) {
    this.stmts = {
      upsert: db.prepare(`INSERT INTO alarms (id, key, state, raised_at, closed_at, body) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT(id) DO UPDATE SET state = excluded.state, closed_at = excluded.closed_at, body = excluded.body`),
      open: db.prepare("SELECT body FROM alarms WHERE state != 'closed' ORDER BY raised_at"),
      byId: db.prepare('SELECT body FROM alarms WHERE id = ?'),
      recentClosed: db.prepare("SELECT body FROM alarms WHERE state = 'closed' ORDER BY closed_at DESC LIMIT ?"),
      prune: db.prepare("DELETE FROM alarms WHERE state = 'closed' AND closed_at < ?"),
    };
  }

  loadOpen(): Alarm[] {
    return (this.stmts.open.all() as { body: string }[]).map((r) => JSON.parse(r.body) as Alarm);
  }

  /** A stored alarm (closed ones included); pending changes win over the disk. */
  get(id: string): Alarm | undefined {
    const pending = this.dirty.get(id);
    if (pending) return structuredClone(pending);
    const row = this.stmts.byId.get(id) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as Alarm) : undefined;
  }

  /** Most recently closed first. */
  recentClosed(limit: number): Alarm[] {
    this.flush();
    return (this.stmts.recentClosed.all(limit) as { body: string }[]).map((r) => JSON.parse(r.body) as Alarm);
  }

  /** Queues the alarm's current content; written with everything else changed this turn. */
  save(alarm: Alarm): void {
    if (this.closedStore) return;
    // Snapshot now: the manager keeps mutating its live object.
    this.dirty.set(alarm.id, structuredClone(alarm));
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /**
   * Resolves once everything queued so far is committed, at once when nothing is queued;
   * rejects when that write fails, so a caller that must not acknowledge an unsaved alarm
   * (the DC-09 receiver) can refuse instead.
   */
  whenFlushed(): Promise<void> {
    if (this.dirty.size === 0) return Promise.resolve();
    if (this.closedStore) return Promise.reject(new Error('alarm store closed'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  flush(): void {
    this.flushScheduled = false;
    const waiters = this.waiters;
    this.waiters = [];
    if (this.closedStore) {
      for (const w of waiters) w.reject(new Error('alarm store closed'));
      return;
    }
    if (this.dirty.size === 0) {
      for (const w of waiters) w.resolve();
      return;
    }
    const batch = [...this.dirty.values()];
    this.dirty.clear();
    try {
      this.db.transaction(() => {
        for (const a of batch) this.stmts.upsert.run(a.id, a.key, a.state, a.raisedAt, a.closed?.at ?? null, JSON.stringify(a));
      })();
    } catch (err) {
      // The alarm stays correct in memory. The batch is kept (newer changes win) and goes
      // with the next write, e.g. once a full disk has room again; only a restart before
      // that would forget it.
      for (const a of batch) if (!this.dirty.has(a.id)) this.dirty.set(a.id, a);
      this.onError(err as Error);
      for (const w of waiters) w.reject(err as Error);
      return;
    }
    for (const w of waiters) w.resolve();
  }

  /** Forgets closed alarms older than `before` (epoch ms); open ones are never pruned. */
  prune(before: number): number {
    this.flush();
    try {
      return this.stmts.prune.run(before).changes;
    } catch (err) {
      this.onError(err as Error);
      return 0;
    }
  }

  close(): void {
    this.flush();
    this.closedStore = true;
  }
}
