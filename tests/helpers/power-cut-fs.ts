/**
 * A real-file fs layer that remembers what a power cut would keep: file data only once
 * fsync'd, a new or renamed directory entry only once its directory was fsync'd. `cut()`
 * then rewrites the directory to that state on the real disk: data never fsync'd is
 * dropped (the file is left 0 bytes, as ext4 does after a delayed allocation is lost),
 * renames never made durable are undone. Writes made without this layer (plain
 * writeFileSync) count as never fsync'd, so code that bypasses the durable helper loses
 * its files here exactly as it did on the Pi.
 */
import * as fs from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { DurableFs } from '../../gateway/durable-file.js';

export class PowerCutFs implements DurableFs {
  /** Every call, in order, for order assertions: `op path`. */
  readonly calls: string[] = [];
  /** Name → content a power cut keeps (the state at construction is durable). */
  private readonly durable = new Map<string, Buffer>();
  /** Name → content fsync'd under that name (its directory entry may not be durable yet). */
  private readonly synced = new Map<string, Buffer>();
  private readonly fds = new Map<number, string>();

  constructor(readonly dir: string) {
    this.dir = resolve(dir);
    for (const name of fs.readdirSync(this.dir)) {
      const p = join(this.dir, name);
      if (fs.statSync(p).isFile()) this.durable.set(p, fs.readFileSync(p));
    }
  }

  openSync(path: string, flags: string, mode?: number): number {
    const fd = fs.openSync(path, flags, mode);
    this.fds.set(fd, resolve(path));
    this.calls.push(`open ${basename(path)}`);
    return fd;
  }

  writeSync(fd: number, data: Uint8Array, offset: number, length: number): number {
    this.calls.push(`write ${basename(this.fds.get(fd) ?? '?')}`);
    this.synced.delete(this.fds.get(fd) ?? '');
    return fs.writeSync(fd, data, offset, length);
  }

  fchmodSync(fd: number, mode: number): void {
    fs.fchmodSync(fd, mode);
  }

  fsyncSync(fd: number): void {
    const path = this.fds.get(fd)!;
    this.calls.push(`fsync ${basename(path)}`);
    fs.fsyncSync(fd);
    if (fs.statSync(path).isDirectory()) {
      // Every entry of this directory is now durable with whatever data was synced under it.
      for (const name of fs.readdirSync(path)) {
        const p = join(path, name);
        if (fs.statSync(p).isFile()) this.durable.set(p, this.synced.get(p) ?? Buffer.alloc(0));
      }
      for (const p of [...this.durable.keys()]) if (dirname(p) === path && !fs.existsSync(p)) this.durable.delete(p);
    } else {
      const content = fs.readFileSync(path);
      this.synced.set(path, content);
      // Data of an entry that is already durable is durable in place.
      if (this.durable.has(path)) this.durable.set(path, content);
    }
  }

  closeSync(fd: number): void {
    this.calls.push(`close ${basename(this.fds.get(fd) ?? '?')}`);
    this.fds.delete(fd);
    fs.closeSync(fd);
  }

  renameSync(from: string, to: string): void {
    this.calls.push(`rename ${basename(from)} ${basename(to)}`);
    fs.renameSync(from, to);
    const data = this.synced.get(resolve(from));
    this.synced.delete(resolve(from));
    if (data) this.synced.set(resolve(to), data);
    else this.synced.delete(resolve(to));
  }

  rmSync(path: string, opts: { force: boolean }): void {
    this.calls.push(`rm ${basename(path)}`);
    fs.rmSync(path, opts);
  }

  /** The power cut: the directory on disk becomes what was durable. */
  cut(): void {
    for (const name of fs.readdirSync(this.dir)) {
      const p = join(this.dir, name);
      if (!fs.statSync(p).isFile()) continue;
      // A name never made durable: ext4 may still show it, with its data lost.
      fs.writeFileSync(p, this.durable.get(p) ?? Buffer.alloc(0));
    }
    for (const [p, data] of this.durable) if (!fs.existsSync(p)) fs.writeFileSync(p, data);
  }
}
