/**
 * Counts of the stored events per class for status and the console. They need a scan
 * (~100 ms at a million rows, on the event loop that also decides doors), so callers that
 * poll pass `maxAgeMs` and get the counts from a cache.
 */
import type { Database as Db } from 'better-sqlite3';

export interface ClassCounts {
  events: number;
  byClass: Record<string, number>;
  oldestRecordedAt: number | null;
  /** Per class: when its oldest stored event was recorded (epoch ms). */
  oldestByClass: Record<string, number>;
}

export class ClassScan {
  private cache: { at: number; agg: { class: string; n: number; oldest: number }[] } | undefined;

  constructor(private readonly db: Db) {}

  counts(maxAgeMs = 0): ClassCounts {
    const now = performance.now();
    if (!this.cache || now - this.cache.at > maxAgeMs) {
      const agg = this.db.prepare('SELECT class, COUNT(*) AS n, MIN(recorded_at) AS oldest FROM events GROUP BY class').all() as {
        class: string;
        n: number;
        oldest: number;
      }[];
      this.cache = { at: now, agg };
    }
    const byClass: Record<string, number> = {};
    const oldestByClass: Record<string, number> = {};
    let events = 0;
    let oldest: number | null = null;
    for (const r of this.cache.agg) {
      byClass[r.class] = r.n;
      oldestByClass[r.class] = r.oldest;
      events += r.n;
      oldest = oldest === null ? r.oldest : Math.min(oldest, r.oldest);
    }
    return { events, byClass, oldestRecordedAt: oldest, oldestByClass };
  }
}
