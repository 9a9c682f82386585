/**
 * `gatehouse check --devices` for battery-swap cabinets, through the real CLI only: `gatehouse
 * sim` serves a swap cabinet (register map 1.1 kind 2) and a v1.0 charging cabinet on Modbus
 * TCP. The gateway's file has the swap cabinet, one on a port where nothing listens, and one
 * pointed at the charging cabinet. The check must pass the first, fail the other two with the
 * advice for each, and exit 1: with the daemon stopped and through the running daemon.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, requireBuild, spawnCli } from '../helpers/cli.js';
import { freePort } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait.js';

const children: ChildProcess[] = [];
let dir: string;
let gatewayFile: string;
let dataDir: string;
let ports: { swap: number; charging: number; dead: number };

function check(): Promise<{ status: number | null; stdout: string; stderr: string }> {
  requireBuild();
  const child = spawn(process.execPath, [BIN, 'check', '--config', gatewayFile, '--data', dataDir, '--devices'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((done) => child.on('close', (status) => done({ status, stdout, stderr })));
}

const head = [
  'compound: { id: swap-bench }',
  'gateway: { id: gw-1 }',
  'broker: { port: 0 }',
  'console: { enabled: false }',
  'log: { level: warn }',
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gh-check-swap-'));
  dataDir = join(dir, 'data');
  ports = { swap: await freePort(), charging: await freePort(), dead: await freePort() };
  writeFileSync(
    join(dir, 'sim.yaml'),
    [
      ...head,
      `swapCabinets: [{ id: swap-1, bus: { tcp: { host: 127.0.0.1, port: ${ports.swap} } }, slots: 6 }]`,
      `cabinets: [{ id: cab-x, bus: { tcp: { host: 127.0.0.1, port: ${ports.charging} } }, ports: 4 }]`,
      '',
    ].join('\n'),
  );
  gatewayFile = join(dir, 'gateway.yaml');
  writeFileSync(
    gatewayFile,
    [
      ...head,
      'swapCabinets:',
      `  - { id: swap-1, bus: { tcp: { host: 127.0.0.1, port: ${ports.swap} } }, slots: 6 }`,
      // Nothing listens here: the cabinet is unplugged or its address is wrong.
      `  - { id: swap-dead, bus: { tcp: { host: 127.0.0.1, port: ${ports.dead} } }, slots: 6 }`,
      // A charging cabinet (map 1.0) answers here: the installer typed the wrong address.
      `  - { id: swap-wrong, bus: { tcp: { host: 127.0.0.1, port: ${ports.charging} } }, slots: 6 }`,
      '',
    ].join('\n'),
  );
  const sim = spawnCli(['sim', '--config', join(dir, 'sim.yaml')]);
  children.push(sim);
  let simOut = '';
  sim.stdout!.on('data', (d: Buffer) => (simOut += d.toString()));
  sim.stderr!.on('data', (d: Buffer) => (simOut += d.toString()));
  await waitFor(
    () => simOut.includes('Ctrl-C stops') || undefined,
    'the simulators to start',
    30_000,
    () => simOut,
  );
}, 60_000);

afterAll(async () => {
  for (const c of children.splice(0).reverse()) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGTERM');
      await new Promise((r) => c.once('exit', r));
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function expectResults(r: { status: number | null; stdout: string; stderr: string }, viaDaemon: boolean): void {
  expect(r.status, r.stdout + r.stderr).toBe(1);
  // Identification and one full poll of every slot, decoded.
  expect(r.stdout).toMatch(
    /swap cabinet +swap-1 +online +OK +.* serial SWP-swap-1 .*map 1\.1; .*suppression absent; 4\/6 slot\(s\) hold a pack \(SoC 1:\d+%/,
  );
  if (viaDaemon) {
    // The daemon's bus to that endpoint is down already: said as a line down, with the network to check.
    expect(r.stdout).toMatch(new RegExp(`swap-dead +NO LINE +FAIL +bus tcp:127\\.0\\.0\\.1:${ports.dead} is down`));
    expect(r.stdout).toMatch(
      new RegExp(`what to do: the line to unit 1 on 127\\.0\\.0\\.1:${ports.dead} is down: check the adapter or the network`),
    );
  } else {
    expect(r.stdout).toMatch(new RegExp(`swap-dead +UNREACHABLE +FAIL +cannot connect to 127\\.0\\.0\\.1:${ports.dead}`));
    expect(r.stdout).toMatch(
      new RegExp(`what to do: check that the device or its Modbus TCP gateway at 127\\.0\\.0\\.1:${ports.dead} is powered`),
    );
  }
  expect(r.stdout).toMatch(/swap-wrong +WRONG KIND +FAIL/);
  expect(r.stdout).toMatch(/what to do: unit 1 on 127\.0\.0\.1:\d+ answers, but not as a battery-swap cabinet \(map 1\.1, kind 2\)/);
  expect(r.stdout).toMatch(/3 device\(s\) checked .*: 1 OK, 2 FAIL/);
  expect(r.stderr).toMatch(/checking swap cabinet swap-1 \(unit 1 on 127\.0\.0\.1:\d+\)…/);
}

describe('gatehouse check --devices: battery-swap cabinets', () => {
  it('daemon stopped: reads the live cabinet, reports the dead address and the wrong kind with advice, exit 1', async () => {
    const r = await check();
    expect(r.stdout).toMatch(/checked directly \(the daemon is not running\)/);
    expectResults(r, false);
  }, 60_000);

  it('daemon running: the same through its control socket (the reads queue with its polls)', async () => {
    const daemon = spawnCli(['run', '--config', gatewayFile, '--data', dataDir]);
    children.push(daemon);
    let daemonErr = '';
    daemon.stderr!.on('data', (d: Buffer) => (daemonErr += d.toString()));
    await waitFor(
      () => existsSync(join(dataDir, 'control.sock')) || undefined,
      'the daemon control socket',
      30_000,
      () => daemonErr,
    );
    const r = await check();
    expect(r.stdout).toMatch(/checked through the running daemon/);
    expectResults(r, true);
    expect(daemon.exitCode).toBeNull();
  }, 90_000);
});
