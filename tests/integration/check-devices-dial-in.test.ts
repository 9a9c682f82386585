/**
 * `gatehouse check --devices` for the devices that call the gateway rather than being
 * called: smart locks (they log in to the embedded broker) and SIA DC-09 panels (they report
 * to the receiver). Through the real CLI: the daemon (`gatehouse run`), a simulated lock
 * (`gatehouse sim`) on the embedded broker, a simulated panel over TCP. With the daemon
 * running, a connected lock and a panel heard pass and the silent ones fail with their
 * advice; with it stopped, locks fail (nothing proves them live) and a panel is judged on
 * its last encrypted message recorded in outbox.db.
 */
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedPanels, type SimulatedPanels } from '../../sim/dc09/index.js';
import { BIN, ROOT, requireBuild, spawnCli } from '../helpers/cli.js';
import { freePort } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait.js';

const PANEL_KEY = randomBytes(16).toString('hex');
const children: ChildProcess[] = [];
let dir: string;
let gatewayFile: string;
let dataDir: string;
let brokerPort: number;
let dc09Port: number;
let panels: SimulatedPanels | undefined;

function check(): Promise<{ status: number | null; stdout: string; stderr: string }> {
  requireBuild();
  const child = spawn(process.execPath, [BIN, 'check', '--config', gatewayFile, '--data', dataDir, '--devices'], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((done) => child.on('close', (status) => done({ status, stdout, stderr })));
}

function failures(stdout: string): string[] {
  return [...stdout.matchAll(/^ {2}\S+ +(\S+) +.* FAIL {2}/gm)].map((m) => m[1]!).sort();
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gh-check-dial-in-'));
  dataDir = join(dir, 'data');
  [brokerPort, dc09Port] = [await freePort(), await freePort()];
  writeFileSync(
    join(dir, 'secrets.yaml'),
    `devices:\n  flat-1: "${randomBytes(9).toString('base64url')}"\n  flat-2: "${randomBytes(9).toString('base64url')}"\ndc09:\n  key: "${PANEL_KEY}"\n`,
    { mode: 0o600 },
  );
  const head = ['compound: { id: dial-in }', 'gateway: { id: gw-1 }', 'secretsFile: secrets.yaml', `broker: { port: ${brokerPort} }`];
  gatewayFile = join(dir, 'gateway.yaml');
  writeFileSync(
    gatewayFile,
    [
      ...head,
      'console: { enabled: false }',
      'log: { level: warn }',
      'locks: [{ id: flat-1 }, { id: flat-2 }]',
      `perimeter: { dc09: { tcpPort: ${dc09Port} } }`,
      'alarmPanels:',
      '  - { id: panel-b7, account: B7A1, keySecret: dc09.key, supervisionS: 600 }',
      '  - { id: panel-b8, account: B8A1, keySecret: dc09.key, supervisionS: 600 }',
      '',
    ].join('\n'),
  );
  // The simulated side: only flat-1 exists (flat-2 is never installed).
  writeFileSync(join(dir, 'sim.yaml'), [...head, 'locks: [{ id: flat-1 }]', ''].join('\n'));
});

afterAll(async () => {
  await panels?.stop();
  for (const c of children.splice(0).reverse()) await stop(c);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('gatehouse check --devices: locks and DC-09 panels', () => {
  it('before the daemon ever ran: locks and panels fail with the advice to start it and send a test report', async () => {
    const r = await check();
    expect(r.status).toBe(1);
    expect(failures(r.stdout)).toEqual(['flat-1', 'flat-2', 'panel-b7', 'panel-b8']);
    expect(r.stdout).toMatch(/lock +flat-1 +UNKNOWN +FAIL +never connected: the daemon has not run here/);
    expect(r.stdout).toMatch(/what to do: start the daemon \(gatehouse run\): locks connect to its embedded broker/);
    expect(r.stdout).toMatch(/panel +panel-b7 +NEVER HEARD +FAIL +no message from outbox\.db/);
    expect(r.stdout).toMatch(
      /what to do: send a test report from panel account B7A1 and check that it reports to 127\.0\.0\.1:\d+ with the key in dc09\.key/,
    );
  }, 30_000);

  it('daemon running: the connected lock and the panel heard pass; the silent ones fail', async () => {
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
    const sim = spawnCli(['sim', '--config', join(dir, 'sim.yaml')]);
    children.push(sim);
    panels = await startSimulatedPanels({
      host: '127.0.0.1',
      port: dc09Port,
      protocol: 'tcp',
      panels: [{ account: 'B7A1', key: PANEL_KEY, encrypted: true, periodicTestS: 0 }],
    });
    expect((await panels.panel('B7A1').periodicTest()).answer).toBe('ACK');
    // The simulated lock logs in on its own schedule: check again until it has.
    let r = await check();
    for (let i = 0; i < 20 && !/lock +flat-1 +online +OK/.test(r.stdout); i++) r = await check();
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/checked through the running daemon/);
    expect(failures(r.stdout)).toEqual(['flat-2', 'panel-b8']);
    expect(r.stdout).toMatch(/lock +flat-1 +online +OK +connected, last heard 20\d\d-/);
    expect(r.stdout).toMatch(/lock +flat-2 +OFFLINE +FAIL +never connected/);
    expect(r.stdout).toMatch(/what to do: the lock must log in to the embedded broker \(127\.0\.0\.1:\d+\) as "flat-2"/);
    expect(r.stdout).toMatch(
      /panel +panel-b7 +online +OK +last message \d+ s ago since the daemon started; supervision every 600 s \(silent after 930 s\)/,
    );
    expect(r.stdout).toMatch(/panel +panel-b8 +NEVER HEARD +FAIL/);
  }, 90_000);

  it('daemon stopped after that: the panel is judged on its last message in outbox.db, locks fail as unknown', async () => {
    for (const c of children.splice(0).reverse()) await stop(c);
    const r = await check();
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/checked directly/);
    expect(failures(r.stdout)).toEqual(['flat-1', 'flat-2', 'panel-b8']);
    expect(r.stdout).toMatch(/panel +panel-b7 +online +OK +last message \d+ s ago from outbox\.db/);
    expect(r.stdout).toMatch(/lock +flat-1 +UNKNOWN \(gateway stopped\) +FAIL/);
  }, 30_000);
});
