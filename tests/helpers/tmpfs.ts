/**
 * A real small filesystem for disk-full tests: a tmpfs mounted on a fresh directory. CI
 * and the development machine run as root; when mounting is impossible the test fails
 * with the reason (it never skips). `fill()` writes a filler file until ENOSPC, so the
 * filesystem is genuinely full for SQLite; `release()` deletes it again.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tmpfs {
  dir: string;
  /** Fills the filesystem to the last byte with `filler-{n}` files; returns the bytes written. */
  fill(): number;
  /** Deletes every filler file. */
  release(): void;
  freeBytes(): number;
  unmount(): void;
}

export function mountTmpfs(sizeBytes: number): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`cannot mount a tmpfs for the disk-full test (needs root, as in CI): ${stderr || (err as Error).message}`);
  }
  const fillers: string[] = [];
  let mounted = true;
  return {
    dir,
    fill() {
      const file = join(dir, `filler-${fillers.length}`);
      fillers.push(file);
      const fd = openSync(file, 'w');
      const chunk = Buffer.alloc(64 * 1024, 0x55);
      let written = 0;
      let size = chunk.length;
      try {
        for (;;) {
          try {
            written += writeSync(fd, chunk, 0, size);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
            // Down to the last page: a small write may still fit.
            if (size === 1) break;
            size = Math.max(1, size >> 1);
          }
        }
      } finally {
        closeSync(fd);
      }
      return written;
    },
    release() {
      for (const f of fillers.splice(0)) rmSync(f, { force: true });
    },
    freeBytes() {
      const s = statfsSync(dir);
      return Number(s.bavail) * Number(s.bsize);
    },
    unmount() {
      if (!mounted) return;
      mounted = false;
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
