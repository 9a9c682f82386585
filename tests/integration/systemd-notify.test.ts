/**
 * Type=notify for real: the daemon runs with NOTIFY_SOCKET pointing at a unix datagram
 * socket that socat reads, as systemd's would be. READY=1 must come once everything has
 * started, WATCHDOG=1 at half the watchdog interval while healthy, STOPPING=1 on SIGTERM.
 */
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const SOCAT = '/usr/bin/socat';

describe('systemd notify protocol', () => {
  it('sends READY, pets the watchdog while healthy, and says STOPPING on SIGTERM', async () => {
    if (!existsSync(SOCAT)) throw new Error(`${SOCAT} is missing: apt-get install socat (.ci/run installs it)`);
    if (spawnSync(process.execPath, ['-e', "require('sd-notify')"], { cwd: process.cwd() }).status !== 0) {
      throw new Error('the sd-notify binding did not build: apt-get install libsystemd-dev, then npm ci');
    }
    const dir = mkdtempSync(join(tmpdir(), 'gh-notify-'));
    const sock = join(dir, 'notify.sock');
    const receiver = spawn(SOCAT, ['-u', `UNIX-RECV:${sock}`, 'STDOUT'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let got = '';
    receiver.stdout!.on('data', (d: Buffer) => (got += d.toString()));
    try {
      await waitFor(() => existsSync(sock), 'socat to bind the notify socket', 5000);
      writeFileSync(
        join(dir, 'c.yaml'),
        'compound: { id: notify-court }\ngateway: { id: gw-1 }\nbroker: { port: 0 }\nconsole: { enabled: false }\nlog: { level: warn }\n',
      );
      const daemon = spawnCli(['run', '--config', join(dir, 'c.yaml'), '--data', join(dir, 'data')], {
        NOTIFY_SOCKET: sock,
        WATCHDOG_USEC: '1000000',
      });
      let stderr = '';
      daemon.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      await waitFor(
        () => got.includes('READY=1'),
        'READY=1',
        15_000,
        () => stderr,
      );
      await waitFor(
        () => (got.match(/WATCHDOG=1/g) ?? []).length >= 3,
        'three watchdog pets',
        10_000,
        () => got,
      );
      daemon.kill('SIGTERM');
      const code = await new Promise((r) => daemon.once('exit', r));
      expect(code, stderr).toBe(0);
      await waitFor(
        () => got.includes('STOPPING=1'),
        'STOPPING=1',
        5000,
        () => got,
      );
      expect(got.indexOf('READY=1')).toBeLessThan(got.indexOf('WATCHDOG=1'));
      expect(got).toMatch(/STATUS=gateway gw-1 running/);
    } finally {
      receiver.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
