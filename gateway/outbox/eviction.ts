/**
 * Eviction policy of the outbox. When the disk cap is reached (pages in use, footprint.ts),
 * the cheapest classes go first (lowest evictRank), oldest first within a class; alarms and
 * pinned rows (eviction reports themselves) are never evicted. Rows the uplink has in flight are left alone.
 *
 * Each report says: every undelivered event of `class` with seq in [fromSeq, toSeq] was
 * dropped, `count` in all. Because a class is always cut from its oldest row, no event of
 * that class inside the range survives, so a platform can account for every missing seq.
 */
import type { Database as Db } from 'better-sqlite3';
import type { Clock } from '../core/clock.js';
import type { EventClass } from '../core/events.js';
import type { OutboxConfig } from '../../config/schema.js';
import type { Footprint } from './footprint.js';

export interface EvictionReport {
  class: EventClass;
  fromSeq: number;
  toSeq: number;
  count: number;
  bytes: number;
  reason: 'disk-cap' | 'disk-full' | 'ttl';
}

const CHUNK = 2000;
/** Measure-and-cut rounds per eviction; each cuts at least the estimate, so a few suffice. */
const MAX_ROUNDS = 8;

export class Evictor {
  constructor(
    private readonly db: Db,
    private readonly config: OutboxConfig,
    private readonly clock: Clock,
  ) {}

  private evictableClasses(): EventClass[] {
    return (Object.entries(this.config.classes) as [EventClass, { evictRank: number }][])
      .filter(([cls]) => cls !== 'alarm')
      .sort((a, b) => a[1].evictRank - b[1].evictRank)
      .map(([cls]) => cls);
  }

  /**
   * Frees database pages until those in use are under the footprint's target (see
   * footprint.ts). Rows are cut by their body bytes, estimated from the current ratio of
   * pages in use to row bytes; deleting rows leaves pages partly filled, so the pages are
   * measured again and more is cut until the target is met or nothing evictable is left.
   * With `diskFull` the disk itself is full, so a fixed share is freed even under the cap.
   */
  evictForCap(footprint: Footprint, rowBytes: number, diskFull: boolean, protectUpTo: number): EvictionReport[] {
    const target = footprint.target(diskFull);
    const reports = new Map<EventClass, EvictionReport>();
    // Each DELETE commits on its own: a later one failing (a full disk needs WAL room for it)
    // must not lose the reports of those already committed, or their seqs would vanish unreported.
    const deleted = (r: EvictionReport): void => {
      rows -= r.bytes;
      // Each cut takes a class from its oldest row above the cursor: cuts join into one exact range.
      const prev = reports.get(r.class);
      if (prev) Object.assign(prev, { toSeq: r.toSeq, count: prev.count + r.count, bytes: prev.bytes + r.bytes });
      else reports.set(r.class, { ...r });
    };
    let rows = rowBytes;
    try {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const used = footprint.usedBytes();
        if (used <= target) break;
        const perRowByte = Math.max(1, used / Math.max(1, rows));
        const before = reports.size === 0 ? 0 : [...reports.values()].reduce((n, r) => n + r.count, 0);
        this.evictRowBytes(Math.ceil((used - target) / perRowByte), diskFull ? 'disk-full' : 'disk-cap', protectUpTo, deleted);
        const after = [...reports.values()].reduce((n, r) => n + r.count, 0);
        if (after === before) break;
      }
    } catch (err) {
      if (reports.size === 0) throw err;
      // What was deleted is reported; the caller sees less room than it asked for.
    }
    return [...reports.values()];
  }

  /** Deletes about `toFree` row bytes, cheapest class first, oldest first within a class; reports each committed cut. */
  private evictRowBytes(toFree: number, reason: 'disk-cap' | 'disk-full', protectUpTo: number, deleted: (r: EvictionReport) => void): void {
    const select = this.db.prepare(
      'SELECT seq, LENGTH(body) AS len FROM events WHERE class = ? AND pinned = 0 AND seq > ? ORDER BY seq LIMIT ?',
    );
    for (const cls of this.evictableClasses()) {
      if (toFree <= 0) break;
      while (toFree > 0) {
        const rows = select.all(cls, protectUpTo, CHUNK) as { seq: number; len: number }[];
        if (rows.length === 0) break;
        let cut = 0;
        let freed = 0;
        for (const r of rows) {
          cut = r.seq;
          freed += r.len;
          if (freed >= toFree) break;
        }
        const res = this.db
          .prepare('DELETE FROM events WHERE class = ? AND pinned = 0 AND seq > ? AND seq <= ?')
          .run(cls, protectUpTo, cut);
        deleted({ class: cls, fromSeq: rows[0]!.seq, toSeq: cut, count: res.changes, bytes: freed, reason });
        toFree -= freed;
      }
    }
  }

  /** Drops rows past their class TTL; rows recorded with an unsynced clock have no trustworthy age. */
  evictExpired(protectUpTo: number): EvictionReport[] {
    const reports: EvictionReport[] = [];
    const now = this.clock.now();
    for (const cls of this.evictableClasses()) {
      const ttlDays = this.config.classes[cls].ttlDays;
      if (!ttlDays) continue;
      const cutoff = now - ttlDays * 86_400_000;
      // Oldest-first within the class: cut at the last expired row so the range stays exact.
      const last = this.db
        .prepare('SELECT MAX(seq) AS s FROM events WHERE class = ? AND pinned = 0 AND synced = 1 AND recorded_at < ? AND seq > ?')
        .get(cls, cutoff, protectUpTo) as { s: number | null };
      if (last.s === null) continue;
      const span = this.db
        .prepare(
          'SELECT MIN(seq) AS a, COUNT(*) AS n, COALESCE(SUM(LENGTH(body)), 0) AS b FROM events WHERE class = ? AND pinned = 0 AND seq > ? AND seq <= ?',
        )
        .get(cls, protectUpTo, last.s) as { a: number; n: number; b: number };
      const res = this.db
        .prepare('DELETE FROM events WHERE class = ? AND pinned = 0 AND seq > ? AND seq <= ?')
        .run(cls, protectUpTo, last.s);
      reports.push({ class: cls, fromSeq: span.a, toSeq: last.s, count: res.changes, bytes: span.b, reason: 'ttl' });
    }
    return reports;
  }
}
