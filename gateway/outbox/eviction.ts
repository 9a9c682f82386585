/**
 * Eviction policy of the outbox. When the disk cap is reached, the cheapest classes go
 * first (lowest evictRank), oldest first within a class; alarms and pinned rows (eviction
 * reports themselves) are never evicted. Rows the uplink has in flight are left alone.
 *
 * Each report says: every undelivered event of `class` with seq in [fromSeq, toSeq] was
 * dropped, `count` in all. Because a class is always cut from its oldest row, no event of
 * that class inside the range survives, so a platform can account for every missing seq.
 */
import type { Database as Db } from 'better-sqlite3';
import type { Clock } from '../core/clock.js';
import type { EventClass } from '../core/events.js';
import type { OutboxConfig } from '../../config/schema.js';

export interface EvictionReport {
  class: EventClass;
  fromSeq: number;
  toSeq: number;
  count: number;
  bytes: number;
  reason: 'disk-cap' | 'disk-full' | 'ttl';
}

/** Evict down to this fraction of the cap, so we do not evict on every single commit. */
const LOW_WATER = 0.9;
const CHUNK = 2000;

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
   * Frees space until `bytes` is under the low-water mark. With `diskFull` the disk itself
   * is full, so we free a fixed chunk even when under our own cap.
   */
  evictForCap(bytes: number, diskFull: boolean, protectUpTo: number): EvictionReport[] {
    const target = diskFull ? Math.max(0, Math.min(bytes, this.config.maxBytes) * 0.8) : this.config.maxBytes * LOW_WATER;
    let toFree = bytes - target;
    const reports: EvictionReport[] = [];
    if (toFree <= 0) return reports;
    const select = this.db.prepare('SELECT seq, LENGTH(body) AS len FROM events WHERE class = ? AND pinned = 0 AND seq > ? ORDER BY seq LIMIT ?');
    for (const cls of this.evictableClasses()) {
      if (toFree <= 0) break;
      let report: EvictionReport | undefined;
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
        const res = this.db.prepare('DELETE FROM events WHERE class = ? AND pinned = 0 AND seq > ? AND seq <= ?').run(cls, protectUpTo, cut);
        report ??= { class: cls, fromSeq: rows[0]!.seq, toSeq: cut, count: 0, bytes: 0, reason: diskFull ? 'disk-full' : 'disk-cap' };
        report.toSeq = cut;
        report.count += res.changes;
        report.bytes += freed;
        toFree -= freed;
      }
      if (report) reports.push(report);
    }
    return reports;
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
        .prepare('SELECT MIN(seq) AS a, COUNT(*) AS n, COALESCE(SUM(LENGTH(body)), 0) AS b FROM events WHERE class = ? AND pinned = 0 AND seq > ? AND seq <= ?')
        .get(cls, protectUpTo, last.s) as { a: number; n: number; b: number };
      const res = this.db.prepare('DELETE FROM events WHERE class = ? AND pinned = 0 AND seq > ? AND seq <= ?').run(cls, protectUpTo, last.s);
      reports.push({ class: cls, fromSeq: span.a, toSeq: last.s, count: res.changes, bytes: span.b, reason: 'ttl' });
    }
    return reports;
  }
}
