/**
 * `gatehouse check --devices` on an installer's bench, through the real CLI only: `gatehouse
 * sim` plays the compound's devices on real transports — two OSDP readers on a socat pty
 * pair, a charging cabinet on a Modbus RTU pty pair, an input module on Modbus TCP, an ONVIF
 * camera over HTTP — and a real Mosquitto with TLS is the district platform. The gateway's
 * compound file has one reader with the wrong key and one cabinet that is not there (unit 2
 * on the RTU line, unplugged). The check must report exactly those two, with the right
 * advice, and exit 1: once with the daemon stopped (the CLI opens the devices) and once with
 * it running (asked through its control socket; it holds the serial ports).
 *
 * The commissioning report of each run is opened in headless Chromium; its screenshot and an
 * A4 PDF are kept under test-artifacts/check/ (gitignored), their paths printed.
 */
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, requireBuild, spawnCli } from '../helpers/cli.js';
import { CHROMIUM_ARGS, CHROMIUM_BIN, requireChromium } from '../helpers/console-browser-rig.js';
import { freePort, Mosquitto } from '../helpers/mosquitto.js';
import { createPtyPair, type PtyPair } from '../helpers/pty.js';
import { waitFor } from '../helpers/wait.js';

const ARTIFACTS = resolve(ROOT, 'test-artifacts', 'check');
const children: ChildProcess[] = [];
let osdp: PtyPair;
let rtu: PtyPair;
let platform: Mosquitto;
let dir: string;
let gatewayFile: string;
let dataDir: string;

/** The CLI as a child process, collected without blocking this process (the sim and the daemon are children too). */
function check(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  requireBuild();
  const child = spawn(process.execPath, [BIN, 'check', '--config', gatewayFile, '--data', dataDir, '--devices', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((done) => child.on('close', (status) => done({ status, stdout, stderr })));
}

function compound(o: { osdpPath: string; rtuPath: string; modulePort: number; cameraPort: number; secrets: string; gateway: boolean }) {
  return [
    'compound: { id: bench-court, name: "Bench Court <Phase 2>" }',
    'gateway: { id: gw-1 }',
    `secretsFile: ${o.secrets}`,
    'broker: { port: 0 }',
    'console: { enabled: false }',
    'log: { level: warn }',
    ...(o.gateway
      ? [
          `uplink: { url: "${platform.tlsUrl}", caFile: "${platform.certs!.caFile}", certFile: "${platform.certs!.clientCertFile}", keyFile: "${platform.certs!.clientKeyFile}" }`,
        ]
      : []),
    `osdpBuses: [{ id: rs485-1, path: "${o.osdpPath}" }]`,
    'readers:',
    '  - { id: gate-in, bus: rs485-1, address: 1 }',
    '  - { id: gate-out, bus: rs485-1, address: 2 }',
    'cabinets:',
    `  - { id: cab-1, bus: { rtu: { path: "${o.rtuPath}" } }, unitId: 1, ports: 4 }`,
    // Only the gateway's file has it: nothing answers at unit 2 (the unplugged cabinet).
    ...(o.gateway ? [`  - { id: cab-2, bus: { rtu: { path: "${o.rtuPath}" } }, unitId: 2, ports: 4 }`] : []),
    'inputModules:',
    `  - { id: wall-east, bus: { tcp: { host: 127.0.0.1, port: ${o.modulePort} } }, channels: 8 }`,
    'cameras:',
    `  - { id: gate-cam, host: 127.0.0.1, port: ${o.cameraPort}, username: installer }`,
    '',
  ].join('\n');
}

beforeAll(async () => {
  requireChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
  [osdp, rtu, platform] = await Promise.all([createPtyPair(), createPtyPair(), Mosquitto.start({ persistence: false, tls: true })]);
  dir = mkdtempSync(join(tmpdir(), 'gh-check-devices-'));
  dataDir = join(dir, 'data');
  const [modulePort, cameraPort] = [await freePort(), await freePort()];
  const keyIn = randomBytes(16).toString('hex');
  const keyOut = randomBytes(16).toString('hex');
  const wrongOut = randomBytes(16).toString('hex');
  const camera = `cameras:\n  gate-cam: "${randomBytes(9).toString('base64url')}"\n`;
  writeFileSync(join(dir, 'sim-secrets.yaml'), `osdp:\n  gate-in: "${keyIn}"\n  gate-out: "${keyOut}"\n${camera}`, { mode: 0o600 });
  writeFileSync(join(dir, 'secrets.yaml'), `osdp:\n  gate-in: "${keyIn}"\n  gate-out: "${wrongOut}"\n${camera}`, { mode: 0o600 });
  const ports = { modulePort, cameraPort };
  writeFileSync(
    join(dir, 'sim.yaml'),
    compound({ osdpPath: osdp.b, rtuPath: rtu.b, ...ports, secrets: 'sim-secrets.yaml', gateway: false }),
  );
  gatewayFile = join(dir, 'gateway.yaml');
  writeFileSync(gatewayFile, compound({ osdpPath: osdp.a, rtuPath: rtu.a, ...ports, secrets: 'secrets.yaml', gateway: true }));
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
  await Promise.all([osdp?.stop(), rtu?.stop(), platform?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The rows that failed, by device id. */
function failures(stdout: string): string[] {
  return [...stdout.matchAll(/^ {2}\S+ +(\S+) +.* FAIL {2}/gm)].map((m) => m[1]!).sort();
}

function expectTheTwoFailures(r: { status: number | null; stdout: string; stderr: string }): void {
  expect(r.status, r.stdout + r.stderr).toBe(1);
  expect(failures(r.stdout)).toEqual(['cab-2', 'gate-out']);
  // The wrong key, said as such, with the secret to fix.
  expect(r.stdout).toMatch(/reader +gate-out +WRONG KEY +FAIL .*vendor 0A1B2C/);
  expect(r.stdout).toMatch(/what to do: wrong key: the reader at address 2 on .*bus-a does not use the key in secret "osdp\.gate-out"/);
  // The unplugged cabinet: no answer at its unit on its line.
  expect(r.stdout).toContain(`cabinet cab-2`);
  expect(r.stdout).toMatch(new RegExp(`cab-2 +NO ANSWER +FAIL +no answer at unit 2 on ${rtu.a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  expect(r.stdout).toMatch(/what to do: no answer at unit 2 on .*bus-a: check the cabinet's power, its unit id/);
  // Everything else answered, live.
  expect(r.stdout).toMatch(/reader +gate-in +online +OK .*serial 100001 .*secure true/);
  expect(r.stdout).toMatch(/cabinet +cab-1 +online +OK .*serial .* map 1\.\d+/);
  expect(r.stdout).toMatch(/module +wall-east +online +OK .*8 channels/);
  expect(r.stdout).toMatch(/camera +gate-cam +online +OK .*snapshot \d+ bytes/);
  expect(r.stdout).toMatch(/uplink +uplink +online +OK .*TLS chain verified/);
  expect(r.stdout).toMatch(/7 device\(s\) checked .*: 5 OK, 2 FAIL/);
  // Progress while it ran, on stderr.
  expect(r.stderr).toMatch(/checking reader gate-out \(address 2 on .*\)…/);
  expect(r.stderr).toMatch(/cabinet cab-2: FAIL \(NO ANSWER\)/);
}

async function openReport(file: string, name: string): Promise<void> {
  const html = readFileSync(file, 'utf8');
  expect(statSync(file).mode & 0o777).toBe(0o640);
  // Self-contained: nothing fetched from anywhere.
  expect(html).not.toMatch(/<script|<link|src="http|url\(http/i);
  expect(html).toContain('Bench Court &lt;Phase 2&gt;');
  expect(html).toContain('Li Wei &amp; Sons');
  const browser = await chromium.launch({ executablePath: CHROMIUM_BIN, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 1200 } });
    const requests: string[] = [];
    page.on('request', (req) => requests.push(req.url()));
    await page.goto(`file://${file}`);
    expect(requests.filter((u) => !u.startsWith('file://') && !u.startsWith('data:'))).toEqual([]);
    // The camera's snapshot is embedded and decodes as an image.
    const width = await page
      .locator('figure img')
      .first()
      .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
    expect(width).toBeGreaterThan(0);
    const rows = await page.locator('tbody tr').allInnerTexts();
    expect(rows.filter((t) => t.includes('FAIL')).map((t) => t.split('\n')[0])).toEqual(['gate-out', 'cab-2']);
    const png = join(ARTIFACTS, `${name}.png`);
    const pdf = join(ARTIFACTS, `${name}.pdf`);
    await page.screenshot({ path: png, fullPage: true });
    // Printed on A4 as the property manager gets it.
    await page.emulateMedia({ media: 'print' });
    await page.pdf({ path: pdf, format: 'A4', printBackground: true });
    expect(statSync(png).size).toBeGreaterThan(10_000);
    expect(readFileSync(pdf).subarray(0, 5).toString()).toBe('%PDF-');
    console.log(`commissioning report screenshot: ${png}\ncommissioning report PDF: ${pdf}`);
  } finally {
    await browser.close();
  }
}

describe('gatehouse check --devices', () => {
  it('daemon stopped: opens every device itself, reports the wrong reader key and the unplugged cabinet, exit 1, and writes the report', async () => {
    const report = join(dir, 'report-direct.html');
    const r = await check(['--report', report, '--installer', 'Li Wei & Sons']);
    expect(r.stderr).toMatch(/no daemon answers on .*control\.sock: opening the devices directly/);
    expect(r.stdout).toMatch(/checked directly \(the daemon is not running\)/);
    expectTheTwoFailures(r);
    expect(existsSync(report)).toBe(true);
    await openReport(report, 'commissioning-report-direct');
  }, 60_000);

  it('daemon running: asks it through the control socket, same two failures, exit 1', async () => {
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
    const report = join(dir, 'report-daemon.html');
    const r = await check(['--report', report, '--installer', 'Li Wei & Sons']);
    expect(r.stderr).not.toMatch(/opening the devices directly/);
    expect(r.stdout).toMatch(/checked through the running daemon/);
    expectTheTwoFailures(r);
    await openReport(report, 'commissioning-report-daemon');
    // The daemon kept its serial ports throughout, and is still running.
    expect(daemon.exitCode).toBeNull();
  }, 90_000);

  it('--report without --devices is bad usage', async () => {
    requireBuild();
    const child = spawn(process.execPath, [BIN, 'check', '--config', gatewayFile, '--report', join(dir, 'x.html')], { cwd: ROOT });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const status = await new Promise<number | null>((done) => child.on('close', done));
    expect(status).toBe(2);
    expect(err).toMatch(/--report and --installer go with --devices/);
  });
});
