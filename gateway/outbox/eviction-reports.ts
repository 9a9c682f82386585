/**
 * Reporting of evictions: every cut becomes a pinned `system` event (`outbox.evicted`), so
 * a platform can account for every missing seq; a report the full disk refused is kept and
 * recorded again once space is back.
 */
import type { Statement } from 'better-sqlite3';
import type { Envelope, EventInput } from '../core/events.js';
import { isGatehouseError } from '../core/errors.js';
import type { EvictionReport } from './eviction.js';

export interface EvictionReportsDeps {
  recentPinnedSystem: Statement;
  rewriteBody: Statement;
  /** Adjusts the outbox's byte count (negative when bytes were freed). */
  addBytes: (delta: number) => void;
  emitEvicted: (r: EvictionReport) => void;
  record: (input: EventInput, opts: { pinned: boolean }) => Promise<unknown>;
  /** Highest seq handed to the uplink and not yet settled. */
  readCursor: () => number;
  /** The highest cursor ever set (or the last seq at open): nothing above it has been read. */
  readHigh: () => number;
}

export class EvictionReports {
  /** Eviction reports refused by the full disk, recorded again when it recovers. */
  private readonly unrecorded: EventInput[] = [];

  constructor(private readonly deps: EvictionReportsDeps) {}

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
  report(r: EvictionReport): void {
    const d = this.deps;
    d.addBytes(-r.bytes);
    d.emitEvicted(r);
    const data = { class: r.class, fromSeq: r.fromSeq, toSeq: r.toSeq, count: r.count, reason: r.reason };
    try {
      const readHigh = d.readHigh();
      const recent = d.recentPinnedSystem.all(Math.max(readHigh, d.readCursor())) as { seq: number; body: string }[];
      for (const row of recent) {
        const env = JSON.parse(row.body) as Envelope<typeof data>;
        if (env.type !== 'outbox.evicted' || env.data.class !== r.class) continue;
        if (env.data.reason !== r.reason || env.data.toSeq < readHigh || env.data.toSeq >= r.fromSeq) break;
        const body = JSON.stringify({ ...env, data: { ...data, fromSeq: env.data.fromSeq, count: env.data.count + r.count } });
        d.rewriteBody.run(body, row.seq);
        d.addBytes(body.length - row.body.length);
        return;
      }
    } catch {
      // Folding is an optimisation; a separate report is always correct.
    }
    this.record({ class: 'system', type: 'outbox.evicted', source: { device: 'gateway' }, data });
  }

  /** The disk has room again: records the reports it refused, in their order. */
  retryUnrecorded(): void {
    for (const input of this.unrecorded.splice(0)) this.record(input);
  }

  /** An eviction report the full disk refused is kept and recorded once space is back: every dropped seq stays accounted for. */
  private record(input: EventInput): void {
    this.deps.record(input, { pinned: true }).catch((err: unknown) => {
      if (isGatehouseError(err, 'OUTBOX_DISK_FULL')) this.unrecorded.push(input);
    });
  }
}
