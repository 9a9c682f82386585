/**
 * Replay guard for ENCRYPTED DC-09 messages, kept in outbox.db so it survives restarts.
 *
 * The timestamp window (-20/+40 s) stops replays only while our clock is synced; a Pi
 * without RTC starts unsynced, and an encrypted message captured earlier would then be
 * accepted again. Sequence numbers cannot be the high-water mark on their own: they wrap
 * 9999 → 0001 and a panel restarts at 0001. So the rule, per account:
 *
 *   1. every accepted message is remembered as a digest of what was authenticated
 *      (id token, sequence number, data, extended data and the panel's timestamp) with its
 *      timestamp; the exact same captured message therefore has the same digest, whatever
 *      pad the encryption drew;
 *   2. the high-water mark is the newest panel timestamp accepted; the floor is the
 *      high-water mark minus `windowMs` (and never below a remembered entry dropped to keep
 *      the set bounded); digests older than the floor are forgotten;
 *   3. a message whose digest is remembered is a DUPLICATE: ACKed (the panel may be
 *      retransmitting because our ACK was lost in a crash) and never processed again;
 *   4. a message older than the floor is STALE and refused with a NAK: a capture replayed
 *      after the panel has moved on. While our clock is synced the timestamp window already
 *      decides, so the floor applies only down to `now - windowMs` then (a panel whose
 *      clock was corrected backwards is not locked out), and a synced clock pulls a mark
 *      and floor that an unsynced period took into the future back to `now + futureMs`.
 *
 * Plain messages are not guarded: anyone on the LAN can forge them, replaying adds nothing.
 * Writes are batched per event-loop turn; the receiver ACKs only after whenFlushed().
 */
import type { StoreScope } from '../store/scope.js';

export type ReplayVerdict = 'new' | 'duplicate' | 'stale';

interface AccountMark {
  highWater: number;
  floor: number;
  seq: string;
  /** digest → panel timestamp, in insertion (≈ timestamp) order. */
  seen: Map<string, number>;
}

export interface ReplayGuardOptions {
  /** The dc09 scope of outbox.db; without it the guard only lasts as long as the process (unit tests). */
  db?: StoreScope;
  /** How far below the high-water mark messages are still remembered and accepted (default 10 min). */
  windowMs?: number;
  /** Remembered digests per account at most (default 2000). */
  maxPerAccount?: number;
  onError: (err: Error) => void;
}

export class Dc09ReplayGuard {
  readonly windowMs: number;
  private readonly maxPerAccount: number;
  private readonly marks = new Map<string, AccountMark>();
  private readonly db: StoreScope | undefined;
  private readonly stmts;
  private queued: { account: string; digest: string; ts: number; seq: string }[] = [];
  private waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private flushScheduled = false;

  constructor(private readonly opts: ReplayGuardOptions) {
    this.windowMs = opts.windowMs ?? 600_000;
    this.maxPerAccount = opts.maxPerAccount ?? 2000;
    this.db = opts.db;
    if (!this.db) {
      this.stmts = undefined;
      return;
    }
    this.stmts = {
      mark: this.db.prepare(`INSERT INTO dc09_high_water (account, ts, floor, seq) VALUES (?, ?, ?, ?)
        ON CONFLICT(account) DO UPDATE SET ts = excluded.ts, floor = excluded.floor, seq = excluded.seq`),
      seen: this.db.prepare('INSERT OR IGNORE INTO dc09_seen (account, digest, ts) VALUES (?, ?, ?)'),
      prune: this.db.prepare('DELETE FROM dc09_seen WHERE account = ? AND ts < ?'),
    };
    const marks = this.db.prepare('SELECT account, ts, floor, seq FROM dc09_high_water').all() as {
      account: string;
      ts: number;
      floor: number;
      seq: string;
    }[];
    for (const r of marks) this.marks.set(r.account, { highWater: r.ts, floor: r.floor, seq: r.seq, seen: new Map() });
    const seen = this.db.prepare('SELECT account, digest, ts FROM dc09_seen ORDER BY ts').all() as {
      account: string;
      digest: string;
      ts: number;
    }[];
    for (const r of seen) this.marks.get(r.account)?.seen.set(r.digest, r.ts);
  }

  /** The account's high-water mark and floor (epoch ms), for logs and tests. */
  mark(account: string): { highWater: number; floor: number; seq: string } | undefined {
    const m = this.marks.get(account);
    return m && { highWater: m.highWater, floor: m.floor, seq: m.seq };
  }

  check(account: string, digest: string, ts: number, clock: { synced: boolean; now: number }): ReplayVerdict {
    const m = this.marks.get(account);
    if (!m) return 'new';
    if (m.seen.has(digest)) return 'duplicate';
    const floor = clock.synced ? Math.min(m.floor, clock.now - this.windowMs) : m.floor;
    return ts < floor ? 'stale' : 'new';
  }

  /** Remembers an accepted message; committed with the other messages of this turn. */
  remember(account: string, digest: string, ts: number, seq: string, clock: { synced: boolean; now: number; futureMs: number }): void {
    let m = this.marks.get(account);
    if (!m) this.marks.set(account, (m = { highWater: ts, floor: ts - this.windowMs, seq, seen: new Map() }));
    if (clock.synced) {
      // A synced clock bounds what can be genuine: a mark (and floor) that a panel with a
      // wrong clock pushed into the future during an unsynced period is pulled back.
      const cap = clock.now + clock.futureMs;
      m.highWater = Math.min(m.highWater, cap);
      m.floor = Math.min(m.floor, cap - this.windowMs);
    }
    if (ts >= m.highWater) {
      m.highWater = ts;
      m.seq = seq;
    }
    m.seen.set(digest, ts);
    m.floor = Math.max(m.floor, m.highWater - this.windowMs);
    for (const [d, t] of m.seen) {
      if (t >= m.floor && m.seen.size <= this.maxPerAccount) break;
      m.seen.delete(d);
      // Forgetting a digest still above the floor would let its replay in: raise the floor over it.
      if (t >= m.floor) m.floor = t + 1;
    }
    if (!this.db) return;
    this.queued.push({ account, digest, ts, seq });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Resolves once everything remembered so far is committed; rejects when that write failed. */
  whenFlushed(): Promise<void> {
    if (this.queued.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  flush(): void {
    this.flushScheduled = false;
    const batch = this.queued;
    const waiters = this.waiters;
    this.queued = [];
    this.waiters = [];
    if (!this.stmts || !this.db || batch.length === 0) {
      for (const w of waiters) w.resolve();
      return;
    }
    const stmts = this.stmts;
    const accounts = new Set(batch.map((b) => b.account));
    try {
      this.db.transaction(() => {
        for (const b of batch) stmts.seen.run(b.account, b.digest, b.ts);
        for (const a of accounts) {
          const m = this.marks.get(a)!;
          stmts.mark.run(a, m.highWater, m.floor, m.seq);
          stmts.prune.run(a, m.floor);
        }
      })();
    } catch (err) {
      this.opts.onError(err as Error);
      for (const w of waiters) w.reject(err as Error);
      return;
    }
    for (const w of waiters) w.resolve();
  }
}
