/**
 * What `outbox.maxBytes` caps: the outbox's files on disk (outbox.db, its -wal and -shm),
 * not the bytes of the rows in them. An installer sizing a partition reads `ls -l`, and the
 * rows alone were a poor guide: a 1 MiB cap of row bytes reached 6.9 MB of files in the
 * 24-hour outage soak (partly filled pages, the class index, a WAL allowed to grow to 4 MB).
 *
 * The cap is split in three budgets:
 * - shm: SQLite's shared-memory WAL index, 32 KiB while the WAL holds < 4k frames (always here);
 * - WAL: an eighth of the cap: checkpointed at half of it (`wal_autocheckpoint`, at most the
 *   1000 frames SQLite uses by default), the other half for the commit that crosses that mark;
 *   `journal_size_limit` cuts the file back to the budget when the WAL restarts;
 * - database: the rest. Pages in use (page_count - freelist_count) are what eviction keeps
 *   under the budget; pages freed by eviction go to SQLite's free list and are reused by the
 *   next commits, so the file stops growing at the budget instead of growing with time.
 *
 * The fixed part is ~310 KiB: shm, a minimal WAL, and the empty schema of every store owner
 * (~240 KiB: the versioned store creates each family's tables at open, one page at least per
 * table and index). A cap below FLOOR_BYTES (512 KiB; the schema allows 64 KiB) is treated
 * as FLOOR_BYTES on disk: the files stay within max(maxBytes, 512 KiB).
 */
import type { Database as Db, Statement } from 'better-sqlite3';

/** The -shm file while the WAL index fits its first region (4062 frames; the WAL budget is below). */
export const SHM_BYTES = 32 * 1024;
/** WAL frames never exceed SQLite's default autocheckpoint, what large caps always used. */
const MAX_WAL_FRAMES = 1000;
const MIN_WAL_FRAMES = 8;
/** The smallest on-disk footprint the outbox promises, whatever the cap (caps below it get this). */
export const FLOOR_BYTES = 512 * 1024;
/** Eviction starts when pages in use pass this share of the database budget... */
export const HIGH_WATER = 0.95;
/** ...and frees down to this share, so one eviction buys many commits. */
export const LOW_WATER = 0.85;

export interface Budgets {
  total: number;
  wal: number;
  walFrames: number;
  db: number;
}

/** The split of `maxBytes` for a page size. */
export function budgets(maxBytes: number, pageSize: number): Budgets {
  const total = Math.max(maxBytes, FLOOR_BYTES);
  const frame = pageSize + 24;
  const walFrames = Math.max(MIN_WAL_FRAMES, Math.min(MAX_WAL_FRAMES, Math.floor(total / 16 / frame)));
  // The WAL checkpoints at walFrames; the budget leaves as much again for the commit that crossed it.
  const wal = 32 + 2 * walFrames * frame;
  return { total, wal, walFrames, db: total - wal - SHM_BYTES };
}

/**
 * Page accounting of one open outbox database. Reading page_count and freelist_count costs
 * two header reads from the page cache, cheap enough to do after every commit.
 */
export class Footprint {
  private readonly pageSize: number;
  private readonly usedStmt: Statement;
  private split: Budgets;

  constructor(
    private readonly db: Db,
    maxBytes: number,
  ) {
    this.pageSize = db.pragma('page_size', { simple: true }) as number;
    this.usedStmt = db.prepare(
      'SELECT (SELECT page_count FROM pragma_page_count()) AS pages, (SELECT freelist_count FROM pragma_freelist_count()) AS free',
    );
    this.split = budgets(maxBytes, this.pageSize);
    this.applyWalLimits();
  }

  /** The cap changed (lowered on a small filesystem, raised again when space came back). */
  setCap(maxBytes: number): void {
    this.split = budgets(maxBytes, this.pageSize);
    this.applyWalLimits();
  }

  get budgets(): Budgets {
    return { ...this.split };
  }

  /** Bytes of database pages holding data (rows, indexes, schema); free-list pages excluded. */
  usedBytes(): number {
    const r = this.usedStmt.get() as { pages: number; free: number };
    return (r.pages - r.free) * this.pageSize;
  }

  /** Bytes of the database file as SQLite sees it (free-list pages included). */
  fileBytes(): number {
    const r = this.usedStmt.get() as { pages: number; free: number };
    return r.pages * this.pageSize;
  }

  overHighWater(): boolean {
    return this.usedBytes() > this.split.db * HIGH_WATER;
  }

  /** Where eviction frees down to; on a full disk a fifth of what is in use, whatever the cap. */
  target(diskFull: boolean): number {
    return diskFull ? Math.min(this.usedBytes(), this.split.db) * 0.8 : this.split.db * LOW_WATER;
  }

  /**
   * A database file bigger than its budget (written by a version that counted row bytes, or
   * a cap lowered since) keeps its size: free pages are reused, never given back. VACUUM once
   * rewrites it to the pages in use. Runs at open only, when the file is over budget and the
   * free list would bring it under, and when the filesystem has room for the rewrite (VACUUM
   * writes the pages in use to a temporary copy and then through the WAL: twice their size).
   * A failure leaves the file as it was (SQLite rolls VACUUM back).
   */
  shrinkIfOversized(freeBytes: number | undefined): boolean {
    const file = this.fileBytes();
    const used = this.usedBytes();
    if (file <= this.split.db || used > this.split.db) return false;
    if (freeBytes !== undefined && freeBytes < 2 * used) return false;
    this.db.exec('VACUUM');
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    return true;
  }

  private applyWalLimits(): void {
    this.db.pragma(`wal_autocheckpoint = ${this.split.walFrames}`);
    this.db.pragma(`journal_size_limit = ${this.split.wal}`);
  }
}
