/**
 * `gatehouse run` (the real binary, as systemd starts it) on a data directory whose
 * filesystem is full: it comes up with its console (no crash, so no restart loop), says why it is degraded
 * (the cap it cannot hold, the database opened without shared memory, the disk-full
 * state), keeps running, and stops cleanly on SIGTERM. A data directory that has no
 * database yet cannot be created on a full disk: that is one coded line and exit 1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:https';
import { runCli, spawnCli } from '../helpers/cli.js';
import { mountTmpfs, type Tmpfs } from '../helpers/tmpfs.js';
import { waitFor } from '../helpers/wait.js';

/** The console's answer to an anonymous request (its certificate is self-signed). */
function statusCode(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('gatehouse run on a full disk', () => {
  let fs: Tmpfs;
  let conf: string;

  beforeAll(() => {
    fs = mountTmpfs(12 * 1024 * 1024);
    mkdirSync(join(fs.dir, 'etc'));
    conf = join(fs.dir, 'etc', 'c.yaml');
    writeFileSync(
      conf,
      'compound: { id: c }\ngateway: { id: g }\nbroker: { port: 0 }\nconsole: { enabled: true, host: 127.0.0.1, port: 0 }\nlog: { level: info }\n',
    );
  });
  afterAll(() => fs?.unmount());

  const start = async (dataDir: string): Promise<{ child: ChildProcess; out: () => string; exited: () => number | null | undefined }> => {
    const child = spawnCli(['run', '--config', conf, '--data', dataDir]);
    let out = '';
    let code: number | null | undefined;
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (c) => (code = c));
    await waitFor(
      () => out.includes('gatehouse running') || code !== undefined || undefined,
      'the daemon to report running (or exit)',
      30_000,
      () => out.slice(-2000),
    );
    return { child, out: () => out, exited: () => code };
  };
  const stop = async (d: { child: ChildProcess; exited: () => number | null | undefined }) => {
    d.child.kill('SIGTERM');
    return waitFor(() => (d.exited() !== undefined ? { code: d.exited() } : undefined), 'the daemon to exit', 20_000);
  };

  it('starts with the database made before the disk filled, stays up, and stops cleanly', async () => {
    const dataDir = join(fs.dir, 'data');
    const first = await start(dataDir);
    expect(first.exited()).toBeUndefined();
    expect(await stop(first)).toEqual({ code: 0 });

    fs.fill();
    const second = await start(dataDir);
    expect(second.exited(), second.out().slice(-2000)).toBeUndefined();
    await waitFor(
      () => second.out().includes('the disk holding the outbox is full') || undefined,
      'the disk-full state reported',
      10_000,
      () => second.out().slice(-2000),
    );
    expect(second.out()).toMatch(
      /outbox\.maxBytes \(268435456 bytes\) cannot fit on the data directory's filesystem \(\d+ bytes available for the outbox\); using \d+ bytes/,
    );
    expect(second.out()).toMatch(/opened on a full disk without shared memory/);
    // The console serves (its key and certificate were made in the first life).
    const url = /"url":"(https:\/\/127\.0\.0\.1:\d+)","msg":"console listening"/.exec(second.out())?.[1];
    expect(url, second.out().slice(-2000)).toBeDefined();
    expect(await statusCode(`${url}/api/status`)).toBe(401);
    // Still up a while later: nothing crashed on a timer.
    await new Promise((r) => setTimeout(r, 1500));
    expect(second.exited()).toBeUndefined();
    expect(await stop(second)).toEqual({ code: 0 });
    fs.release();
  });

  it('refuses to create a new database on a full disk with one coded line (exit 1)', () => {
    const dataDir = join(fs.dir, 'fresh');
    mkdirSync(dataDir);
    fs.fill();
    try {
      const r = runCli(['run', '--config', conf, '--data', dataDir]);
      expect(r.status).toBe(1);
      expect(r.stderr + r.stdout).toMatch(/OUTBOX_DISK_FULL|cannot open .*outbox\.db: the disk is full or failing/);
      expect(r.stderr + r.stdout).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      fs.release();
    }
  });
});
