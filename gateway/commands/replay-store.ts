/**
 * Seen command ids, persisted in the outbox database so a command replayed after a
 * restart (or a QoS 1 redelivery after a reconnect) is still refused.
 *
 * Commands are at most once: an id is claimed — committed and fsynced, the outbox runs
 * synchronous=FULL — before its handler runs. A crash between claim and answer leaves the
 * command unanswered, and a resend with the same id is refused rather than opening a door
 * twice; the platform retries with a new id if it still wants the action.
 *
 * Clock: a Pi without an RTC boots with a stale wall clock. A row stamped with that clock
 * would look days old once NTP steps the time and be purged early, re-opening the replay
 * window. So rows written while unsynced are kept until the clock is synced and then given
 * a full window from that moment (longer than needed, never shorter).
 */
import type { Statement } from 'better-sqlite3';
import type { StoreScope } from '../store/scope.js';
import type { Clock } from '../core/clock.js';
import { tolerateStorageError } from '../outbox/disk-space.js';

export type ClaimResult = { fresh: true } | { fresh: false; firstSeenAt: string };

/** Purging on every command would be waste; ids only need to go eventually. */
const PURGE_EVERY_MS = 60_000;

export class ReplayStore {
  private readonly stmts: { claim: Statement; seen: Statement; purge: Statement; adopt: Statement; count: Statement };
  private lastPurge = Number.NEGATIVE_INFINITY;

  constructor(
    db: StoreScope,
    private readonly clock: Clock,
    private readonly windowMs: number,
  ) {
    this.stmts = {
      claim: db.prepare('INSERT INTO commands_seen (id, seen_at, keep_until, synced) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO NOTHING'),
      seen: db.prepare('SELECT seen_at FROM commands_seen WHERE id = ?'),
      purge: db.prepare('DELETE FROM commands_seen WHERE synced = 1 AND keep_until < ?'),
      adopt: db.prepare('UPDATE commands_seen SET keep_until = MAX(keep_until, ?), synced = 1 WHERE synced = 0'),
      count: db.prepare('SELECT COUNT(*) AS n FROM commands_seen'),
    };
    this.purge();
  }

  /**
   * Records `id` as seen; says whether it was new. A command that may still run later
   * (`expiresAt` beyond the window) is remembered until it can no longer run.
   */
  claim(id: string, expiresAt?: number): ClaimResult {
    const now = this.clock.now();
    if (this.clock.monotonic() - this.lastPurge >= PURGE_EVERY_MS) this.purge();
    const keepUntil = Math.max(now + this.windowMs, expiresAt ?? 0);
    const synced = this.clock.state() === 'synced' ? 1 : 0;
    if (this.stmts.claim.run(id, now, keepUntil, synced).changes === 1) return { fresh: true };
    const row = this.stmts.seen.get(id) as { seen_at: number } | undefined;
    return { fresh: false, firstSeenAt: new Date(row?.seen_at ?? now).toISOString() };
  }

  /** Drops ids older than the window; returns how many went. */
  purge(): number {
    this.lastPurge = this.clock.monotonic();
    if (this.clock.state() !== 'synced') return 0;
    const now = this.clock.now();
    // On a full disk the ids are simply kept longer: refusing replays stays correct.
    return tolerateStorageError(() => {
      this.stmts.adopt.run(now + this.windowMs);
      return this.stmts.purge.run(now).changes;
    }, 0);
  }

  size(): number {
    return (this.stmts.count.get() as { n: number }).n;
  }
}
