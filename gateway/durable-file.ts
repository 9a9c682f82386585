/**
 * Durable, atomic file writes for everything the gateway keeps outside SQLite (access.key,
 * osdp-keys.json, the console's key and certificate, media files). After a power cut a file
 * written here is either the old one or the new one, never empty or half written:
 *
 *   1. write a temporary file beside the target (same filesystem, so rename is atomic),
 *   2. fsync it: its data is on disk before any name points at it,
 *   3. rename it over the target,
 *   4. fsync the directory: the rename itself survives the power cut.
 *
 * Without step 2, ext4 and f2fs may commit the rename before the data (seen on a Pi after
 * power cuts: 0-byte access.key and console-key.pem). Without step 4, the file may come
 * back as the old one although the caller already acted on the new one.
 *
 * The fs layer is injectable so a test can record the calls and check their order.
 */
import * as nodeFs from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The few fs calls used here; node:fs by default. */
export interface DurableFs {
  openSync(path: string, flags: string, mode?: number): number;
  writeSync(fd: number, data: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  fchmodSync(fd: number, mode: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  rmSync(path: string, opts: { force: boolean }): void;
}

export const realFs: DurableFs = nodeFs;

export interface DurableWriteOptions {
  /** File mode of the result; 0600 by default (everything the gateway writes is private). */
  mode?: number;
  fs?: DurableFs;
  /** Read only (`gatehouse check`, often run as another user): never create or restore files. */
  readOnly?: boolean;
}

/** The temporary name used for `file` (callers that sweep leftovers after a crash match it). */
export function tempNameOf(file: string): string {
  return join(dirname(file), `${basename(file)}.tmp`);
}

/** Fsyncs a directory so that entries created or renamed in it survive a power cut. */
export function fsyncDir(dir: string, fs: DurableFs = realFs): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes `data` to `file` atomically and durably (see the header). */
export function writeFileDurable(file: string, data: string | Uint8Array, opts: DurableWriteOptions = {}): void {
  const fs = opts.fs ?? realFs;
  const mode = opts.mode ?? 0o600;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const tmp = tempNameOf(file);
  // 'w' truncates a leftover temp file from an earlier crash.
  const fd = fs.openSync(tmp, 'w', mode);
  try {
    // The umask may have narrowed (never widened) the mode; fchmod makes it exact either way.
    fs.fchmodSync(fd, mode);
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  fsyncDir(dirname(file), fs);
}

/** The backup kept beside a key file, so a damaged key can be recovered at start. */
export function backupNameOf(file: string): string {
  return `${file}.bak`;
}

/**
 * Writes `file` and then its `.bak` copy, both durably. A crash between the two leaves
 * the new file and the previous backup: the file is the one read, the backup only helps
 * when the file itself is found damaged.
 */
export function writeFileWithBackup(file: string, data: string | Uint8Array, opts: DurableWriteOptions = {}): void {
  writeFileDurable(file, data, opts);
  writeFileDurable(backupNameOf(file), data, opts);
}

export type KeyFileRead<T> =
  { ok: true; value: T; recovered: false } | { ok: true; value: T; recovered: true; problem: string } | { ok: false; problem: string };

/**
 * Reads a key file with `parse` (which throws with a reason when the bytes are unusable).
 * A damaged or missing-while-backed-up file is restored from its `.bak` when that one
 * parses; a good file without a backup gets one (installations from before backups existed).
 * Missing file and missing backup: `undefined` (the caller creates the key).
 */
export function readKeyFile<T>(file: string, parse: (bytes: Buffer) => T, opts: DurableWriteOptions = {}): KeyFileRead<T> | undefined {
  const bak = backupNameOf(file);
  const read = (path: string): { bytes?: Buffer; problem?: string } => {
    try {
      return { bytes: nodeFs.readFileSync(path) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return code === 'ENOENT' ? {} : { problem: `${path} cannot be read (${code ?? (err as Error).message})` };
    }
  };
  const main = read(file);
  if (main.problem) return { ok: false, problem: main.problem };
  let problem: string | undefined;
  if (main.bytes) {
    try {
      const value = parse(main.bytes);
      if (!opts.readOnly && !nodeFs.existsSync(bak)) writeFileDurable(bak, main.bytes, opts);
      return { ok: true, value, recovered: false };
    } catch (err) {
      problem = `${file} is damaged: ${(err as Error).message}`;
    }
  }
  const backup = read(bak);
  if (!backup.bytes) return problem ? { ok: false, problem: `${problem}; no usable backup ${bak}` } : undefined;
  let value: T;
  try {
    value = parse(backup.bytes);
  } catch (err) {
    return { ok: false, problem: `${problem ?? `${file} is missing`}; its backup ${bak} is damaged too (${(err as Error).message})` };
  }
  if (!opts.readOnly) writeFileDurable(file, backup.bytes, opts);
  return { ok: true, value, recovered: true, problem: `${problem ?? `${file} was missing`}; restored from ${bak}` };
}
