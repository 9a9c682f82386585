/**
 * Idle memory and CPU of the daemon as deployed (issue 12, deliverable 9): every process
 * measured here is started with the systemd unit's node flags, next to a bare `node`
 * with the same flags in the same run (the baseline), so the figures mean the same on a
 * Pi and on CI:
 *   a. bare node (an idle event loop);
 *   b. `import('dist/gateway/app.js')` only: what the composition root costs before anything starts;
 *   c. `gatehouse run` with a locks-only compound (100 locks), connected and idle;
 *   d. `gatehouse run` with the 188-device compound (100 locks, 16 cabinets, 8 input
 *      modules with their 64 zones), connected and idle;
 *   e. the same plus every other family (48 OSDP readers on 3 lines, 12 SIA DC-09 panels,
 *      4 ONVIF cameras): what a compound that uses everything costs. `gatehouse sim` does not
 *      simulate DC-09 panels (only the demo does), so the panels are configured, the receiver
 *      listens, and they are reported as not online.
 * The devices are simulated by `gatehouse sim` on the same compound file in ANOTHER process,
 * so their memory and CPU are not counted; the uplink is a real Mosquitto.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { procUsage } from '../../drivers/ffmpeg/ffmpeg-process.js';
import { productionNodeFlags } from './drain.js';
import { Mosquitto, freePort } from '../helpers/mosquitto.js';
import { createPtyPair, type PtyPair } from '../helpers/pty.js';

/** dist/ of this build (this file runs as dist/tests/bench/idle.js). */
const DIST = resolve(import.meta.dirname, '..', '..');
const GATEHOUSE = resolve(DIST, '..', 'bin', 'gatehouse.js');

export interface IdleFigures {
  label: string;
  /** RSS at the end of the idle window, and the highest sample in it (MB). */
  rssMb: number;
  rssMaxMb: number;
  /** User + system CPU over the window, in % of one core. */
  cpuPct: number;
  /** Devices whose retained state said online when the window started, of how many. */
  online?: { seen: number; of: number; missing: string[] };
}

export interface IdleResult {
  flags: string[];
  windowS: number;
  settleS: number;
  rows: IdleFigures[];
}

interface Measured {
  rssMb: number;
  rssMaxMb: number;
  cpuPct: number;
}

/** Samples `pid` once a second for `windowS`: RSS at the end and the max, CPU over the whole window. */
async function measure(pid: number, windowS: number): Promise<Measured> {
  const first = procUsage(pid);
  if (!first) throw new Error(`process ${pid} is gone before its idle window`);
  const t0 = performance.now();
  let max = first.rssBytes;
  let last = first;
  for (let i = 0; i < windowS; i++) {
    await sleep(1000);
    const u = procUsage(pid);
    if (!u) throw new Error(`process ${pid} ended during its idle window`);
    max = Math.max(max, u.rssBytes);
    last = u;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { rssMb: last.rssBytes / 2 ** 20, rssMaxMb: max / 2 ** 20, cpuPct: ((last.cpuSeconds - first.cpuSeconds) / seconds) * 100 };
}

/** Spawns node with `args`; resolves once a line of its stdout matches `ready`. */
async function startNode(args: string[], ready: RegExp, what: string, timeoutMs = 60_000): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } });
  let out = '';
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => fail(new Error(`${what}: not ready after ${timeoutMs} ms:\n${out.slice(-2000)}`)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const onData = (c: Buffer) => {
      out += String(c);
      if (ready.test(out)) {
        clearTimeout(timer);
        resolveReady();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c: Buffer) => (out += String(c)));
    child.once('exit', (code, sig) => fail(new Error(`${what} exited (${code ?? sig}) before it was ready:\n${out.slice(-2000)}`)));
  });
  // Keep draining the pipes so a chatty child never blocks on a full pipe.
  child.stdout.removeAllListeners('data');
  child.stdout.resume();
  child.stderr.resume();
  child.removeAllListeners('exit');
  return child;
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

interface CompoundSpec {
  locks: number;
  cabinets: number;
  /** Each with 8 channels and one zone per channel (zones are devices too: `state/{zone}`). */
  inputModules: number;
  readers: { lines: number; perLine: number };
  panels: number;
  cameras: number;
}

const NO_READERS = { lines: 0, perLine: 0 };
export const LOCKS_ONLY: CompoundSpec = { locks: 100, cabinets: 0, inputModules: 0, readers: NO_READERS, panels: 0, cameras: 0 };
/** The compound of issue 12's figures (115-124 MB RSS, ~2.6 % of one core before the restructuring). */
export const COMPOUND_188: CompoundSpec = { locks: 100, cabinets: 16, inputModules: 8, readers: NO_READERS, panels: 0, cameras: 0 };
export const EVERY_FAMILY: CompoundSpec = { ...COMPOUND_188, readers: { lines: 3, perLine: 16 }, panels: 12, cameras: 4 };

export function deviceCount(s: CompoundSpec): number {
  return s.locks + s.cabinets + s.inputModules * 9 + s.readers.lines * s.readers.perLine + s.panels + s.cameras;
}

/**
 * The compound file for the gateway and the one for the simulator: identical but for the
 * OSDP line paths (the two ends of each pty pair).
 */
async function writeCompound(
  dir: string,
  spec: CompoundSpec,
  uplinkUrl: string,
  ptys: PtyPair[],
): Promise<{ gateway: string; sim: string; ids: string[] }> {
  const ids: string[] = [];
  const secrets: Record<string, Record<string, string>> = { devices: {}, osdp: {}, dc09: {}, cameras: {} };
  const port = () => freePort();
  const locks = Array.from({ length: spec.locks }, (_, i) => ({ id: `lock-${i + 1}` }));
  for (const l of locks) secrets.devices![l.id] = randomBytes(12).toString('hex');
  const cabinets = [];
  for (let i = 0; i < spec.cabinets; i++)
    cabinets.push({ id: `cab-${i + 1}`, ports: 12, bus: { tcp: { host: '127.0.0.1', port: await port() } } });
  const inputModules = [];
  const zones = [];
  const partitions = [];
  for (let i = 0; i < spec.inputModules; i++) {
    const id = `wall-${i + 1}`;
    inputModules.push({ id, bus: { tcp: { host: '127.0.0.1', port: await port() } }, channels: 8 });
    partitions.push({ id: `part-${i + 1}` });
    for (let c = 0; c < 8; c++) zones.push({ id: `${id}-z${c}`, module: id, channel: c, partition: `part-${i + 1}` });
  }
  const osdpBuses = (end: 'a' | 'b') => ptys.map((p, i) => ({ id: `line-${i + 1}`, path: p[end], baudRate: 115200 }));
  const readers = [];
  for (let b = 0; b < spec.readers.lines; b++) {
    for (let a = 1; a <= spec.readers.perLine; a++) {
      const id = `reader-${b + 1}-${a}`;
      readers.push({ id, bus: `line-${b + 1}`, address: a });
      secrets.osdp![id] = randomBytes(16).toString('hex');
    }
  }
  const alarmPanels = [];
  for (let i = 0; i < spec.panels; i++) {
    const id = `panel-${i + 1}`;
    alarmPanels.push({ id, account: `A${String(i + 1).padStart(3, '0')}`, keySecret: `dc09.${id}`, supervisionS: 120 });
    secrets.dc09![id] = randomBytes(32).toString('hex');
  }
  const cameras = [];
  for (let i = 0; i < spec.cameras; i++) {
    const id = `cam-${i + 1}`;
    cameras.push({ id, host: '127.0.0.1', port: await port(), username: 'gatehouse' });
    secrets.cameras![id] = randomBytes(12).toString('hex');
  }
  ids.push(...locks.map((l) => l.id), ...cabinets.map((c) => c.id), ...inputModules.map((m) => m.id), ...zones.map((z) => z.id));
  ids.push(...readers.map((r) => r.id), ...alarmPanels.map((p) => p.id), ...cameras.map((c) => c.id));
  const base = {
    compound: { id: 'idle-court' },
    gateway: { id: 'gw-idle' },
    secretsFile: 'secrets.yaml',
    uplink: { url: uplinkUrl },
    broker: { host: '127.0.0.1', port: await port() },
    console: { port: await port() },
    log: { level: 'info' },
    locks,
    ...(cabinets.length ? { cabinets } : {}),
    ...(inputModules.length ? { inputModules, zones, partitions } : {}),
    ...(readers.length ? { readers, access: { timezone: 'Asia/Shanghai' } } : {}),
    ...(alarmPanels.length ? { alarmPanels, perimeter: { dc09: { host: '127.0.0.1', tcpPort: await port() } } } : {}),
    ...(cameras.length ? { cameras } : {}),
  };
  writeFileSync(join(dir, 'secrets.yaml'), stringify(secrets), { mode: 0o600 });
  const gateway = join(dir, 'gateway.yaml');
  const sim = join(dir, 'sim.yaml');
  writeFileSync(gateway, stringify({ ...base, ...(readers.length ? { osdpBuses: osdpBuses('a') } : {}) }));
  writeFileSync(sim, stringify({ ...base, ...(readers.length ? { osdpBuses: osdpBuses('b') } : {}) }));
  return { gateway, sim, ids };
}

/** Counts the devices whose retained `state/{device}` says online, until all are or `timeoutMs` passes. */
async function waitOnline(url: string, ids: string[], timeoutMs: number): Promise<{ seen: number; missing: string[] }> {
  const want = new Set(ids);
  const online = new Set<string>();
  const client = mqtt.connect(url, { reconnectPeriod: 200 });
  const root = 'gatehouse/v1/idle-court/gw-idle';
  client.on('message', (topic, payload) => {
    let body: { online?: unknown; moduleOnline?: unknown; type?: unknown; source?: { device?: unknown } };
    try {
      body = JSON.parse(String(payload)) as typeof body;
    } catch {
      return; // Not JSON: nothing we can read counts as online.
    }
    if (topic.startsWith(`${root}/evt/`)) {
      // Alarm panels have no state topic: their presence is the device.online / device.offline events.
      const device = typeof body.source?.device === 'string' ? body.source.device : '';
      if (want.has(device) && body.type === 'device.online') online.add(device);
      if (want.has(device) && body.type === 'device.offline') online.delete(device);
      return;
    }
    const device = topic.split('/').at(-1)!;
    if (!want.has(device)) return;
    // A zone is up when its input module is.
    if (body.online === true || body.moduleOnline === true) online.add(device);
    else online.delete(device);
  });
  await client.subscribeAsync([`${root}/state/+`, `${root}/evt/device`], { qos: 1 });
  const t0 = performance.now();
  while (online.size < want.size && performance.now() - t0 < timeoutMs) await sleep(250);
  await client.endAsync();
  return { seen: online.size, missing: ids.filter((id) => !online.has(id)) };
}

interface Timing {
  settleS: number;
  windowS: number;
  onlineTimeoutS: number;
}

async function benchCompound(label: string, spec: CompoundSpec, flags: string[], opts: Timing): Promise<IdleFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-idle-'));
  const data = join(dir, 'data');
  mkdirSync(data, { mode: 0o700 });
  const ptys: PtyPair[] = [];
  let broker: Mosquitto | undefined;
  let gateway: ChildProcess | undefined;
  let sim: ChildProcess | undefined;
  try {
    broker = await Mosquitto.start();
    for (let i = 0; i < spec.readers.lines; i++) {
      // One folder per pair: each pair's links are named bus-a and bus-b.
      const ptyDir = join(dir, `line-${i + 1}`);
      mkdirSync(ptyDir);
      ptys.push(await createPtyPair({ dir: ptyDir }));
    }
    const files = await writeCompound(dir, spec, broker.url, ptys);
    // The gateway first (the locks need its broker); the simulators' Modbus and DC-09 peers reconnect on their own.
    gateway = await startNode(
      [...flags, GATEHOUSE, 'run', '--config', files.gateway, '--data', data],
      /gatehouse running/,
      `${label}: gatehouse run`,
    );
    sim = await startNode([GATEHOUSE, 'sim', '--config', files.sim], /simulating \d+ lock/, `${label}: gatehouse sim`);
    const { seen, missing } = await waitOnline(broker.url, files.ids, opts.onlineTimeoutS * 1000);
    // Startup garbage and the first polls settle before the window.
    await sleep(opts.settleS * 1000);
    const m = await measure(gateway.pid!, opts.windowS);
    return { label, ...m, online: { seen, of: files.ids.length, missing } };
  } finally {
    await stop(sim);
    await stop(gateway);
    for (const p of ptys) await p.stop();
    await broker?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchIdle(opts: { quick: boolean }): Promise<IdleResult> {
  const flags = productionNodeFlags();
  const windowS = opts.quick ? 10 : 30;
  const settleS = opts.quick ? 3 : 10;
  const rows: IdleFigures[] = [];
  const idleLoop = 'setInterval(() => {}, 1 << 30); console.log("ready");';
  // a. The baseline: node itself with the same flags.
  let child = await startNode([...flags, '-e', idleLoop], /ready/, 'bare node');
  try {
    await sleep(settleS * 1000);
    rows.push({ label: 'a. bare node', ...(await measure(child.pid!, windowS)) });
  } finally {
    await stop(child);
  }
  // b. The composition root imported, nothing started.
  const app = join(DIST, 'gateway', 'app.js');
  child = await startNode(
    [...flags, '--input-type=module', '-e', `await import(${JSON.stringify(app)}); ${idleLoop}`],
    /ready/,
    'import app.js',
  );
  try {
    await sleep(settleS * 1000);
    rows.push({ label: 'b. import dist/gateway/app.js', ...(await measure(child.pid!, windowS)) });
  } finally {
    await stop(child);
  }
  const timing = { settleS, windowS, onlineTimeoutS: opts.quick ? 30 : 90 };
  rows.push(await benchCompound(`c. locks-only (${deviceCount(LOCKS_ONLY)} locks)`, LOCKS_ONLY, flags, timing));
  rows.push(await benchCompound(`d. ${deviceCount(COMPOUND_188)} devices (locks, cabinets, perimeter)`, COMPOUND_188, flags, timing));
  rows.push(await benchCompound(`e. ${deviceCount(EVERY_FAMILY)} devices, every family`, EVERY_FAMILY, flags, timing));
  return { flags, windowS, settleS, rows };
}
