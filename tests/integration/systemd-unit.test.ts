/**
 * The systemd unit and installer (issue 14.8), checked with the real systemd-analyze
 * (Debian's `systemd` package, installed by .ci/run): the exposure score stays at or under
 * 2.5, the unit verifies, a bad configuration (exit 2) is not restarted for ever, and the
 * installer is valid bash. The unit's ExecStart names /usr/bin/node; `verify` checks that
 * the binary exists, so it runs on a copy pointing at this machine's node when that differs.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.js';

const UNIT = join(ROOT, 'systemd', 'gatehouse.service');

function analyze(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`systemd-analyze could not run (apt-get install systemd): ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('gatehouse.service', () => {
  it('scores at most 2.5 in systemd-analyze security', () => {
    const r = analyze(['security', '--offline=true', '--threshold=25', '--no-pager', UNIT]);
    const score = Number(/Overall exposure level for gatehouse\.service: ([\d.]+)/.exec(r.stdout)?.[1]);
    expect(score, r.stdout.slice(-400)).toBeLessThanOrEqual(2.5);
    expect(r.status, r.stderr).toBe(0);
  });

  it('passes systemd-analyze verify', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-unit-'));
    try {
      const copy = join(dir, 'gatehouse.service');
      writeFileSync(copy, readFileSync(UNIT, 'utf8').replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `));
      const r = analyze(['verify', copy]);
      expect(
        r.stderr.split('\n').filter((l) => l.includes('gatehouse.service')),
        r.stderr,
      ).toEqual([]);
      expect(r.status, r.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not restart a bad configuration (exit 2) every 2 s, keeps files private and the JIT working', () => {
    const unit = readFileSync(UNIT, 'utf8');
    const set = (key: string) =>
      unit
        .split('\n')
        .filter((l) => l.startsWith(`${key}=`))
        .map((l) => l.slice(key.length + 1));
    expect(set('RestartPreventExitStatus')).toEqual(['2']);
    expect(set('UMask')).toEqual(['0077']);
    expect(set('StateDirectoryMode')).toEqual(['0700']);
    // V8 needs writable+executable pages: this option would stop the daemon at start.
    expect(set('MemoryDenyWriteExecute')).toEqual([]);
    // PrivateDevices=yes would hide RS-485 adapters; the device ACL admits the serial classes.
    expect(set('PrivateDevices')).toEqual([]);
    expect(set('DeviceAllow')).toEqual(expect.arrayContaining(['char-ttyUSB rw', 'char-ttyACM rw', 'char-ttyS rw']));
  });

  it('starts node with options it accepts, and one V8 worker thread (each idle worker keeps MBs of malloc arena)', () => {
    const words = /^ExecStart=\S+ (.*)$/m.exec(readFileSync(UNIT, 'utf8'))![1]!.split(' ');
    const script = words.findIndex((w) => !w.startsWith('--'));
    const flags = words.slice(0, script);
    const threads = (args: string[]) => {
      const probe = 'setTimeout(() => console.log(require("fs").readdirSync("/proc/self/task").length), 300)';
      const r = spawnSync(process.execPath, [...args, '-e', probe], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      return Number(r.stdout.trim());
    };
    expect(flags).toEqual(expect.arrayContaining(['--max-old-space-size=96', '--v8-pool-size=1']));
    // Node's default pool is 4 workers whatever the core count: the unit's node runs 3 threads fewer.
    expect(threads(flags)).toBe(threads(flags.filter((f) => !f.startsWith('--v8-pool-size'))) - 3);
  });

  it('install.sh is valid bash', () => {
    const r = spawnSync('bash', ['-n', join(ROOT, 'systemd', 'install.sh')], { encoding: 'utf8' });
    expect([r.status, r.stderr]).toEqual([0, '']);
  });
});
