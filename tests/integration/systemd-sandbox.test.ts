/**
 * Everything still works inside the unit's sandbox (issue 14.8): the test machine has no
 * systemd as PID 1, so the unit's system call filter is applied the way systemd applies it
 * (tests/helpers/unit-seccomp.py: @groups expanded by systemd-analyze, libseccomp, EPERM
 * for anything else) and the real daemon, serial ports (socat pty, serialport) and the live
 * view's ffmpeg are run under it. A privileged call is refused, so the filter is really on.
 * Needs /usr/bin/python3 with python3-seccomp and systemd-analyze (.ci/run installs both).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { BIN, ROOT, requireBuild } from '../helpers/cli.js';
import { createPtyPair, type PtyPair } from '../helpers/pty.js';
import { waitFor } from '../helpers/wait.js';

const UNIT = join(ROOT, 'systemd', 'gatehouse.service');
const HARNESS = join(ROOT, 'tests', 'helpers', 'unit-seccomp.py');
const PYTHON = '/usr/bin/python3';

function requireHarness(): void {
  const r = spawnSync(PYTHON, ['-c', 'import seccomp'], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`${PYTHON} with the seccomp module is required: apt-get install python3-seccomp (${r.stderr || r.error?.message})`);
}

/** The node flags of the unit's ExecStart (every option before the script), so the daemon runs as it does in service. */
function unitNodeFlags(): string[] {
  const exec = readFileSync(UNIT, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('ExecStart='))!;
  const words = exec.split(' ').slice(1);
  const script = words.findIndex((w) => !w.startsWith('--'));
  return words.slice(0, script);
}

const sandboxed = (argv: string[]) => [HARNESS, UNIT, ...argv];

let dir: string;
let child: ChildProcess | undefined;
let pty: PtyPair | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
  }
  child = undefined;
  await pty?.stop();
  pty = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('under the unit system call filter', () => {
  it('the filter is really applied: a privileged call fails with EPERM', () => {
    requireHarness();
    dir = mkdtempSync(join(tmpdir(), 'gh-sandbox-'));
    const probe = 'try { process.setuid(0); console.log("allowed"); } catch (e) { console.log(e.code); }';
    const r = spawnSync(PYTHON, sandboxed([process.execPath, '-e', probe]), { encoding: 'utf8', timeout: 30_000 });
    expect([r.status, r.stdout.trim()], r.stderr).toEqual([0, 'EPERM']);
    // RestrictAddressFamilies: netlink (os.networkInterfaces, for WS-Discovery) works, raw packets do not.
    const families = [
      'import socket',
      'socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)',
      'try:\n  socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\n  print("packet allowed")\nexcept OSError:\n  print("packet refused")',
    ].join('\n');
    expect(spawnSync(PYTHON, sandboxed([PYTHON, '-c', families]), { encoding: 'utf8' }).stdout.trim()).toBe('packet refused');
    const ifaces = spawnSync(PYTHON, sandboxed([process.execPath, '-e', 'console.log(Object.keys(require("os").networkInterfaces()))']), {
      encoding: 'utf8',
    });
    expect(ifaces.stdout, ifaces.stderr).toContain("'lo'");
  });

  it('the daemon starts, serves the console over TLS and the broker, and stops cleanly', async () => {
    requireHarness();
    requireBuild();
    dir = mkdtempSync(join(tmpdir(), 'gh-sandbox-'));
    const config = join(dir, 'c.yaml');
    writeFileSync(config, 'compound: { id: c }\ngateway: { id: g }\nbroker: { port: 0 }\nconsole: { port: 0 }\nlog: { level: info }\n');
    const argv = [process.execPath, ...unitNodeFlags(), BIN, 'run', '--config', config, '--data', join(dir, 'data')];
    child = spawn(PYTHON, sandboxed(argv), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c) => (out += String(c)));
    child.stderr!.on('data', (c) => (out += String(c)));
    await waitFor(
      () => out.includes('gatehouse running') || child!.exitCode !== null,
      'the sandboxed daemon running',
      30_000,
      () => out,
    );
    expect(out).toContain('gatehouse running');
    const consoleUrl = /"url":"(https:\/\/127\.0\.0\.1:\d+)","msg":"console listening"/.exec(out)![1]!;
    const brokerPort = /"port":(\d+),"accounts":\d+,"msg":"embedded broker listening"/.exec(out)![1]!;
    const page = await new Promise<number>((resolve, reject) => {
      request(`${consoleUrl}/login.html`, { rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(page).toBe(200);
    // The broker answers (and refuses a stranger): its sockets and the auth path work in the sandbox.
    const refused = await new Promise<string>((resolve) => {
      const c = mqtt.connect(`mqtt://127.0.0.1:${brokerPort}`, { username: 'stranger', password: 'wrong', reconnectPeriod: 0 });
      c.once('error', (err) => {
        c.end(true);
        resolve((err as Error).message);
      });
      c.once('connect', () => {
        c.end(true);
        resolve('connected');
      });
    });
    expect(refused).toMatch(/Not authorized|Bad username or password/i);
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).not.toMatch(/EPERM|Operation not permitted/);
  });

  it('serial ports (a socat pty) and the live view ffmpeg work', async () => {
    requireHarness();
    requireBuild();
    dir = mkdtempSync(join(tmpdir(), 'gh-sandbox-'));
    pty = await createPtyPair({ dir });
    const probe = join(ROOT, 'tests', 'helpers', 'sandbox-probe.mjs');
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(PYTHON, sandboxed([process.execPath, probe, pty!.a, pty!.b, '/usr/bin/ffmpeg']), {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      p.stdout.on('data', (c) => (out += String(c)));
      p.stderr.on('data', (c) => (out += String(c)));
      p.once('exit', (code) => resolve({ code, out }));
    });
    expect(r.code, r.out).toBe(0);
    const result = JSON.parse(r.out.trim().split('\n').at(-1)!);
    expect(result.serial).toBe('hello rs-485');
    expect(result.ffmpeg.code, result.ffmpeg.stderr).toBe(0);
    expect(result.ffmpeg.bytes).toBeGreaterThan(1000);
  });
});
