/**
 * The restart through systemd, with the real CLI (`gatehouse run`) and a real Mosquitto as
 * the platform: config.apply answers, the daemon exits with 75 (the unit's Restart=always
 * starts it again; the test does that here), and the next `gatehouse run` with the same
 * --config starts the applied file from the data directory, passes its probation and
 * records config.applied. A staged file under which the daemon cannot even start (its
 * broker port taken) is rolled back at that start: the next start is the previous one.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { topicRoot } from '../../gateway/core/topics.js';
import { spawnCli } from '../helpers/cli.js';
import { freePort, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { Platform } from '../helpers/platform.js';
import { waitFor } from '../helpers/wait.js';

describe('gatehouse run restarts into an applied configuration', () => {
  let broker: Mosquitto;
  let platform: Platform;
  let dir: string;
  let child: ChildProcess | undefined;
  let seed: Record<string, unknown>;
  let stderr = '';

  const run = () => {
    stderr = '';
    const c = spawnCli(['run', '--config', join(dir, 'compound.yaml'), '--data', join(dir, 'data')], { GATEHOUSE_UPLINK_URL: '' });
    c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    return c;
  };
  const exited = (c: ChildProcess) =>
    new Promise<number | null>((resolve) => (c.exitCode !== null ? resolve(c.exitCode) : c.once('exit', (code) => resolve(code))));

  beforeAll(async () => {
    broker = await startMosquitto({ persistence: false });
    dir = mkdtempSync(join(tmpdir(), 'gh-rc-cli-'));
    seed = {
      compound: { id: 'cli-court' },
      gateway: { id: 'gw-1' },
      secretsFile: 'secrets.yaml',
      uplink: { url: broker.url },
      broker: { port: await freePort() },
      console: { enabled: false },
      log: { level: 'warn' },
      remoteConfig: { probationMs: 20_000 },
      locks: [{ id: 'flat-1' }],
    };
    writeFileSync(join(dir, 'compound.yaml'), stringify(seed));
    writeFileSync(join(dir, 'secrets.yaml'), stringify({ 'devices.flat-1': 'pw-1-xxxxxxxx', 'devices.flat-2': 'pw-2-xxxxxxxx' }), {
      mode: 0o600,
    });
    platform = await Platform.connect(broker.url, topicRoot('cli-court', 'gw-1'), { clientId: 'platform-rc-cli' });
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await exited(child);
    }
    await platform?.close();
    await broker?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exits 75 after answering config.apply, and the next start runs the applied file on probation until healthy', async () => {
    child = run();
    await platform.waitEvent({ type: 'gateway.started' }, 'the daemon started', 20_000);
    const res = await platform.command('config.apply', {
      version: 'v2',
      yaml: stringify({ ...seed, locks: [{ id: 'flat-1' }, { id: 'flat-2' }] }),
    });
    expect(res).toMatchObject({ ok: true, result: { version: 'v2', status: 'probation', restarting: true } });
    expect(await exited(child)).toBe(75);
    // What Restart=always does.
    child = run();
    const applied = await platform.waitEvent({ type: 'config.applied' }, 'config.applied', 20_000);
    expect(applied.data).toMatchObject({ version: 'v2', previousVersion: 'seed' });
    const get = await platform.command('config.get', {});
    expect(get.result).toMatchObject({ version: 'v2', origin: 'remote', status: 'good' });
    expect(get.result.secrets.map((s: { name: string }) => s.name)).toEqual(['devices.flat-1', 'devices.flat-2']);
    child.kill('SIGTERM');
    expect(await exited(child), stderr).toBe(0);
  }, 60_000);

  it('a staged file under which the daemon cannot start is rolled back at that start, with the reason', async () => {
    const taken = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      const since = platform.messages.length;
      child = run();
      await waitFor(() => platform.messages.slice(since).some((m) => m.body?.type === 'gateway.started'), 'the daemon started again');
      const res = await platform.command('config.apply', {
        version: 'v3',
        yaml: stringify({ ...seed, broker: { port }, locks: [{ id: 'flat-1' }, { id: 'flat-2' }] }),
      });
      expect(res).toMatchObject({ ok: true, result: { version: 'v3' } });
      expect(await exited(child)).toBe(75);
      child = run();
      // The broker cannot listen: the start fails, the probation is rolled back, and systemd is asked for a restart.
      expect(await exited(child), stderr).toBe(75);
      expect(stderr).toMatch(/broker/);
      child = run();
      const rolled = await platform.waitEvent({ type: 'config.rolled_back' }, 'config.rolled_back', 20_000);
      expect(rolled.data).toMatchObject({ version: 'v3', restoredVersion: 'v2' });
      expect(rolled.data.reason).toMatch(/^it could not start: the broker could not start/);
      const get = await platform.command('config.get', {});
      expect(get.result).toMatchObject({ version: 'v2', status: 'good' });
      child.kill('SIGTERM');
      expect(await exited(child), stderr).toBe(0);
    } finally {
      taken.close();
    }
  }, 60_000);
});
