/**
 * The data directory's permissions and ownership with the real daemon (issue 14.7): started
 * with a loose umask over a loose directory, everything ends 0700/0600; `gatehouse user add`
 * run as root before the service created the database leaves it to the directory's owner,
 * so the service (here: a daemon running as nobody) still starts; a database it cannot
 * write is one clear line and exit 1, not a stack trace. CI runs as root, which these
 * tests need (to start processes as nobody and to chown).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT, requireBuild } from '../helpers/cli.js';
import { PASSWORD } from '../helpers/console-rig.js';
import { waitFor } from '../helpers/wait.js';

const NOBODY = 65534;
let dir: string;
let child: ChildProcess | undefined;

afterEach(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
  }
  child = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function setup(): { config: string; data: string } {
  if (process.getuid?.() !== 0) throw new Error('these tests start processes as nobody and chown files: run them as root (CI does)');
  dir = mkdtempSync(join(tmpdir(), 'gh-datadir-'));
  chmodSync(dir, 0o755);
  const config = join(dir, 'c.yaml');
  // One door, so the access family runs and writes its key files (a compound without doors never loads it).
  const door =
    'osdpBuses: [{ id: bus, path: /dev/null-no-such-tty }]\nreaders: [{ id: r-1, bus: bus, address: 1, secure: install }]\ndoors: [{ id: d-1, entryReader: r-1, lock: { reader: r-1, index: 0 } }]\n';
  const yaml = `compound: { id: c }\ngateway: { id: g }\nbroker: { port: 0 }\nconsole: { port: 0 }\nlog: { level: info }\n${door}`;
  writeFileSync(config, yaml, { mode: 0o644 });
  return { config, data: join(dir, 'data') };
}

/** `gatehouse run` with umask 022 (as a careless shell would have), optionally as another user. */
function startDaemon(config: string, data: string, uid?: number): { out: () => string; exited: Promise<number | null> } {
  requireBuild();
  child = spawn('/bin/sh', ['-c', `umask 022; exec "${process.execPath}" "${BIN}" run --config "${config}" --data "${data}"`], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += String(c)));
  child.stderr!.on('data', (c) => (out += String(c)));
  const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
  return { out: () => out, exited };
}

function modes(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string): void => {
    out[rel || '.'] = (statSync(d).mode & 0o777).toString(8);
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p, join(rel, name));
      else out[join(rel, name)] = (statSync(p).mode & 0o777).toString(8);
    }
  };
  walk(root, '');
  return out;
}

describe('data directory modes', () => {
  it('the daemon started with umask 022 over a 0755 directory leaves the directory 0700 and every file 0600', async () => {
    const { config, data } = setup();
    mkdirSync(join(data, 'media'), { recursive: true, mode: 0o755 });
    chmodSync(data, 0o755);
    chmodSync(join(data, 'media'), 0o755);
    writeFileSync(join(data, 'osdp-keys.json'), '{}', { mode: 0o644 });
    const d = startDaemon(config, data);
    await waitFor(
      () => d.out().includes('gatehouse running'),
      'the daemon running',
      30_000,
      () => d.out(),
    );
    const m = modes(data);
    // The files the daemon writes are all there: database with WAL and shared memory, keys, console pair and setup link.
    const expected = ['outbox.db', 'outbox.db-wal', 'outbox.db-shm', 'access.key', 'access.key.bak'];
    expected.push('console-key.pem', 'console-cert.pem', 'console-setup-link.txt');
    for (const f of expected) expect(m[f], f).toBeDefined();
    for (const [path, mode] of Object.entries(m)) expect(mode, path).toBe(path === '.' || path === 'media' ? '700' : '600');
    expect(d.out()).toMatch(/data directory permissions tightened/);
    child!.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  });
});

describe('gatehouse user add run as root', () => {
  const userAdd = (config: string, data: string) =>
    spawnSync(process.execPath, [BIN, 'user', 'add', '--config', config, '--data', data, '--username', 'root', '--role', 'admin'], {
      cwd: ROOT,
      input: `${PASSWORD}\n`,
      encoding: 'utf8',
      timeout: 30_000,
    });

  it('gives the database it created to the data directory owner, and the service user then starts', async () => {
    const { config, data } = setup();
    mkdirSync(data, { mode: 0o700 });
    chownSync(data, NOBODY, NOBODY);
    const r = userAdd(config, data);
    expect([r.status, r.stderr]).toEqual([0, 'daemon not running: wrote outbox.db directly; no audit event\n']);
    const db = statSync(join(data, 'outbox.db'));
    expect([db.uid, db.gid, (db.mode & 0o777).toString(8)]).toEqual([NOBODY, NOBODY, '600']);
    const d = startDaemon(config, data, NOBODY);
    await waitFor(
      () => d.out().includes('gatehouse running') || child!.exitCode !== null,
      'the daemon running as nobody',
      30_000,
      () => d.out(),
    );
    expect(d.out()).toContain('gatehouse running');
    // An administrator exists: no setup link was made.
    expect(readdirSync(data)).not.toContain('console-setup-link.txt');
  });

  it('refuses, with what to do, when the data directory does not exist yet', () => {
    const { config, data } = setup();
    const r = userAdd(config, data);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^gatehouse user add: .*data does not exist yet\. Start the service once \(systemctl start gatehouse\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("the daemon run as root over the service user's data directory refuses instead of leaving root-owned files", async () => {
    const { config, data } = setup();
    mkdirSync(data, { mode: 0o700 });
    chownSync(data, NOBODY, NOBODY);
    const d = startDaemon(config, data);
    expect(await d.exited).toBe(1);
    expect(d.out()).toMatch(/^gatehouse run: .*data belongs to uid 65534 \(the service user\): running the daemon as root would leave/m);
    expect(readdirSync(data)).toEqual([]);
  });

  it('a database the daemon cannot write is one clear line and exit 1, not a stack trace', async () => {
    const { config, data } = setup();
    mkdirSync(data, { mode: 0o700 });
    chownSync(data, NOBODY, NOBODY);
    writeFileSync(join(data, 'outbox.db'), '', { mode: 0o600 });
    const d = startDaemon(config, data, NOBODY);
    expect(await d.exited).toBe(1);
    expect(d.out()).toMatch(
      /^gatehouse run: .*outbox\.db is not writable by user nobody \(it belongs to uid 0.*run: sudo chown -R nobody: .*data/m,
    );
    expect(d.out()).not.toMatch(/\n\s+at /);
  });
});
