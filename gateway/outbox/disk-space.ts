/**
 * What the outbox needs to know about the filesystem under it: which SQLite failures mean
 * "the disk cannot take more" (as opposed to a bug), how much space the data directory's
 * filesystem has, and a reserve file that is given back when the disk fills.
 *
 * Why a reserve file: on a full disk even the report that says so cannot be committed, and
 * a DELETE needs room in the WAL too. Deleting a file needs no space, so a few hundred
 * kilobytes held in `outbox.reserve` buy the commit of the disk-full report and the alarm
 * events of that moment. The reserve is re-created (written and fsynced, so the blocks are
 * really allocated) once space is back.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** True for SQLite errors that mean the storage refused a write: full, or an I/O failure. */
export function isStorageError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return false;
  return code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR') || code === 'ENOSPC' || code === 'EIO' || code === 'EDQUOT';
}

export function sqliteCode(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'unknown';
}

/** Bytes an unprivileged writer can still put on the filesystem holding `dir`; undefined if unknown. */
export function freeBytes(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return undefined;
  }
}

/** Size of a file, 0 when it does not exist. */
function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

export interface CapCheck {
  configured: number;
  effective: number;
  /** Free space of the filesystem plus what the outbox files already hold, minus the reserve. */
  available: number | undefined;
  lowered: boolean;
}

/**
 * Whether `maxBytes` can fit on the data directory's filesystem. The cap counts the outbox's
 * files (footprint.ts), so the space they already occupy counts as available.
 */
export function checkCap(dbFile: string, configured: number, reserveBytes: number): CapCheck {
  const free = freeBytes(dirname(dbFile));
  if (free === undefined) return { configured, effective: configured, available: undefined, lowered: false };
  const held = sizeOf(dbFile) + sizeOf(`${dbFile}-wal`) + sizeOf(`${dbFile}-shm`) + sizeOf(reserveFile(dbFile));
  const available = Math.max(0, free + held - reserveBytes);
  const fits = available;
  if (fits >= configured) return { configured, effective: configured, available, lowered: false };
  // The schema's minimum cap; below it the outbox is useless anyway and disk-full handling takes over.
  return { configured, effective: Math.max(64 * 1024, fits), available, lowered: true };
}

export function reserveFile(dbFile: string): string {
  return join(dirname(dbFile), 'outbox.reserve');
}

/** The reserve file: present while there is space, released when the disk fills. */
export class DiskReserve {
  private present: boolean;

  constructor(
    readonly file: string,
    private readonly bytes: number,
  ) {
    this.present = bytes > 0 && sizeOf(file) >= bytes;
  }

  get held(): boolean {
    return this.present;
  }

  /** Deletes the reserve; true if that freed something. Never throws. */
  release(): boolean {
    if (!this.present) return false;
    this.present = false;
    try {
      rmSync(this.file, { force: true });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Writes the reserve if it is missing and there is room for it plus as much again for
   * the outbox; true when it is in place. Never throws: a full disk simply means "not yet".
   */
  ensure(): boolean {
    if (this.bytes === 0) return true;
    if (this.present) return true;
    const free = freeBytes(dirname(this.file));
    if (free !== undefined && free < this.bytes * 2) return false;
    const tmp = `${this.file}.tmp`;
    let fd: number | undefined;
    try {
      fd = openSync(tmp, 'w', 0o600);
      // Real zeros, not a sparse file: the blocks must be allocated to be worth anything.
      const chunk = Buffer.alloc(Math.min(this.bytes, 64 * 1024));
      for (let written = 0; written < this.bytes;) written += writeSync(fd, chunk, 0, Math.min(chunk.length, this.bytes - written));
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      renameSync(tmp, this.file);
      this.present = true;
    } catch {
      if (fd !== undefined) {
        try {
          closeSync(fd);
        } catch {
          // already failing; the temp file is removed below
        }
      }
      try {
        rmSync(tmp, { force: true });
      } catch {
        // nothing more to do on a failing disk; the next attempt overwrites it
      }
    }
    return this.present;
  }
}

/**
 * Runs a write to outbox.db from a place where a throw would stop a timer, a start-up step
 * or a device loop (pruning, sweeping, persisting progress). A full or failing disk is
 * passed to `onError` and `fallback` returned: the state in memory stays right and the
 * write is retried or redone later. Any other error is rethrown, so a bug stays visible.
 */
export function tolerateStorageError<T>(write: () => T, fallback: T, onError?: (err: Error) => void): T {
  try {
    return write();
  } catch (err) {
    if (!isStorageError(err)) throw err;
    onError?.(err as Error);
    return fallback;
  }
}
