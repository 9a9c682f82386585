/**
 * What a failed commit costs, cheapest loss first. Storage errors (full, I/O) get two more
 * chances: evict telemetry, then give back the reserve file; a batch that still cannot be
 * committed is rejected with OUTBOX_DISK_FULL and the outbox enters the disk-full state
 * (reported, retried until space is back). Any other error rejects the batch as INTERNAL.
 */
import { GatehouseError } from '../core/errors.js';
import { isStorageError, sqliteCode, type DiskReserve } from './disk-space.js';
import type { DiskFullState } from './disk-full.js';
import type { PendingOp } from './types.js';

export interface FullDiskContext {
  /** True while the outbox commits its own disk reports: a failure then must not recurse. */
  reporting: boolean;
  /** Evicts telemetry for a full disk; false when nothing could be evicted. */
  makeRoom: () => boolean;
  reserve: DiskReserve;
  diskFull: DiskFullState;
  /** Reports the error and rejects every operation of the batch with it. */
  failBatch: (batch: PendingOp[], err: GatehouseError) => void;
}

/** Returns what `run` returned when a retry committed; undefined when the batch was failed. */
export function commitOnFullDisk<T>(ctx: FullDiskContext, run: () => T, err: unknown, batch: PendingOp[]): T | undefined {
  if (!isStorageError(err)) {
    const internal = new GatehouseError(
      'INTERNAL',
      `outbox commit failed: ${(err as Error).message}`,
      { sqlite: sqliteCode(err) },
      { cause: err },
    );
    ctx.failBatch(batch, internal);
    return undefined;
  }
  if (!ctx.reporting) {
    // A full disk costs telemetry, not alarms.
    if (ctx.makeRoom()) {
      try {
        return run();
      } catch (again) {
        err = again;
      }
    }
    const released = ctx.reserve.release();
    ctx.diskFull.enter(sqliteCode(err));
    if (released) {
      // With the reserve's room the DELETE of telemetry can run too (it needs WAL pages).
      ctx.makeRoom();
      try {
        return run();
      } catch (again) {
        err = again;
      }
    }
    ctx.diskFull.refused(batch.filter((op) => op.kind === 'event').length);
  }
  const code = sqliteCode(err);
  ctx.failBatch(
    batch,
    new GatehouseError(
      'OUTBOX_DISK_FULL',
      `outbox commit failed: the disk holding the outbox is full or failing (${code}); ` +
        'free space on the data partition or lower outbox.maxBytes; recording resumes by itself',
      { sqlite: code },
      { cause: err },
    ),
  );
  return undefined;
}

/** A failed outbox write as a coded error: OUTBOX_DISK_FULL when the storage refused it. */
export function storageError(err: unknown, what: string): GatehouseError {
  const code = isStorageError(err) ? 'OUTBOX_DISK_FULL' : 'INTERNAL';
  return new GatehouseError(code, `${what}: ${(err as Error).message}`, { sqlite: sqliteCode(err) }, { cause: err });
}
