/**
 * The hot path against Node-RED (issue 18): N simulated 12-port cabinets (the project's own
 * simulator, one Modbus TCP server each, in this process) polled every 200 ms, every port's
 * reading forwarded to a real Mosquitto at QoS 1 each poll, by
 *   - Gatehouse: `gatehouse run` with the unit's node flags, every port in a session and the
 *     meter interval below the poll period, so each poll of each port is one durable
 *     `charging.meter` event (recorded, fsync'd, published, deleted on PUBACK);
 *   - the baseline, in the same run: Node-RED + node-red-contrib-modbus, headless, with the
 *     same node flags and the flow in `nodered-cabinet.flow.json` (one modbus-read per register
 *     block per cabinet, a function node decoding per port, an mqtt out at QoS 1).
 * A subscriber in this process stamps each message's arrival; the reading is stamped where it
 * is made (Gatehouse: the envelope's `ts`, set when the poll's events are recorded; Node-RED:
 * the function node's Date.now()), so latency is poll → broker → subscriber on one clock.
 * CPU (user + system, % of one core) and RSS come from /proc/PID of the measured process only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { procUsage } from '../../drivers/ffmpeg/ffmpeg-process.js';
import { startSimulatedCabinets, type SimulatedCabinets } from '../../sim/cabinet/index.js';
import { productionNodeFlags } from './drain.js';
import { Mosquitto, freePort } from '../helpers/mosquitto.js';

/** dist/ of this build (this file runs as dist/tests/bench/hotpath.js). */
const DIST = resolve(import.meta.dirname, '..', '..');
const ROOT = resolve(DIST, '..');
const GATEHOUSE = resolve(ROOT, 'bin', 'gatehouse.js');
const NODE_RED = resolve(ROOT, 'node_modules', 'node-red', 'red.js');
const FLOW = resolve(ROOT, 'tests', 'bench', 'nodered-cabinet.flow.json');
const PORTS = 12;
const POLL_MS = 200;
/** A run falls behind when it makes fewer than this share of the polls due, or its p95 passes a second. */
const KEEP_UP_SHARE = 0.97;
const MAX_P95_MS = 1000;

export interface SideFigures {
  pollsPerSec: number;
  pollsDuePerSec: number;
  msgsPerSec: number;
  cpuPct: number;
  /** CPU-microseconds per forwarded reading. */
  cpuUsPerMsg: number;
  rssMb: number;
  rssMaxMb: number;
  p50Ms: number;
  p95Ms: number;
  keepsUp: boolean;
}

export interface HotpathRow {
  cabinets: number;
  gatehouse: SideFigures;
  nodeRed: SideFigures;
}

export interface HotpathResult {
  flags: string[];
  windowS: number;
  rows: HotpathRow[];
  /** Smallest cabinet count at which each side fell behind, or null if it kept up everywhere. */
  gatehouseBehindAt: number | null;
  nodeRedBehindAt: number | null;
}

/** Spawns node with `args`; resolves once its output matches `ready`. */
async function startNode(args: string[], ready: RegExp, what: string, timeoutMs = 60_000, logFile?: string): Promise<ChildProcess> {
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
    child.stderr.on('data', onData);
    child.once('exit', (code, sig) => fail(new Error(`${what} exited (${code ?? sig}) before it was ready:\n${out.slice(-2000)}`)));
  });
  // Keep draining the pipes so a chatty child never blocks on a full pipe.
  child.stdout.removeAllListeners('data');
  child.stderr.removeAllListeners('data');
  if (logFile) {
    const log = createWriteStream(logFile);
    log.write(out);
    child.stdout.pipe(log);
    child.stderr.pipe(log);
  } else {
    child.stdout.resume();
    child.stderr.resume();
  }
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

/** Every port plugged with a battery that will not fill in the run, and charging (a session started at the cabinet). */
async function startCabinets(n: number): Promise<SimulatedCabinets> {
  const tcp = Array.from({ length: n }, (_, i) => ({ id: `cab-${i + 1}`, ports: PORTS, port: 0, host: '127.0.0.1' }));
  const sims = await startSimulatedCabinets({ tcp, tickMs: 1000 });
  for (const c of tcp) {
    const cab = sims.cabinet(c.id);
    for (let p = 1; p <= PORTS; p++) {
      cab.plug(p, { soc: 0.1, capacityWh: 1_000_000 });
      const port = cab.port(p);
      port.state = 'charging';
      port.sessionId = 1000 + p;
      port.sessionMs = 0;
    }
  }
  return sims;
}

/** Counts messages and arrival latencies from `stamp(topic, payload)` (ms epoch) on the topics given. */
class Tap {
  private client?: mqtt.MqttClient;
  count = 0;
  lat: number[] = [];
  counting = false;
  constructor(
    private readonly url: string,
    private readonly topics: string[],
    private readonly stamp: (payload: Buffer) => number | undefined,
  ) {}
  async start(): Promise<void> {
    this.client = mqtt.connect(this.url, { reconnectPeriod: 200 });
    this.client.on('message', (_t, payload) => {
      if (!this.counting) return;
      const at = Date.now();
      const t = this.stamp(payload);
      if (t === undefined) return;
      this.count++;
      this.lat.push(at - t);
    });
    await this.client.subscribeAsync(this.topics, { qos: 1 });
  }
  async stop(): Promise<void> {
    await this.client?.endAsync(true);
  }
}

const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN;
};

async function measure(pid: number, tap: Tap, cabinets: number, settleS: number, windowS: number): Promise<SideFigures> {
  await sleep(settleS * 1000);
  const first = procUsage(pid);
  if (!first) throw new Error(`hotpath bench: process ${pid} is gone before its window`);
  tap.count = 0;
  tap.lat = [];
  tap.counting = true;
  const t0 = performance.now();
  let max = first.rssBytes;
  let last = first;
  for (let i = 0; i < windowS; i++) {
    await sleep(1000);
    const u = procUsage(pid);
    if (!u) throw new Error(`hotpath bench: process ${pid} ended during its window`);
    max = Math.max(max, u.rssBytes);
    last = u;
  }
  tap.counting = false;
  const seconds = (performance.now() - t0) / 1000;
  const msgsPerSec = tap.count / seconds;
  const pollsPerSec = msgsPerSec / PORTS;
  const pollsDuePerSec = (cabinets * 1000) / POLL_MS;
  const cpuSeconds = last.cpuSeconds - first.cpuSeconds;
  const p95Ms = pct(tap.lat, 0.95);
  return {
    pollsPerSec,
    pollsDuePerSec,
    msgsPerSec,
    cpuPct: (cpuSeconds / seconds) * 100,
    cpuUsPerMsg: tap.count > 0 ? (cpuSeconds * 1e6) / tap.count : Number.NaN,
    rssMb: last.rssBytes / 2 ** 20,
    rssMaxMb: max / 2 ** 20,
    p50Ms: pct(tap.lat, 0.5),
    p95Ms,
    keepsUp: pollsPerSec >= KEEP_UP_SHARE * pollsDuePerSec && p95Ms <= MAX_P95_MS,
  };
}

async function runGatehouse(n: number, flags: string[], settleS: number, windowS: number): Promise<SideFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-hotpath-'));
  const data = join(dir, 'data');
  mkdirSync(data, { mode: 0o700 });
  let broker: Mosquitto | undefined;
  let sims: SimulatedCabinets | undefined;
  let gateway: ChildProcess | undefined;
  let tap: Tap | undefined;
  try {
    broker = await Mosquitto.start();
    sims = await startCabinets(n);
    const s = sims;
    const cabinets = Array.from({ length: n }, (_, i) => ({
      id: `cab-${i + 1}`,
      ports: PORTS,
      pollMs: POLL_MS,
      bus: { tcp: { host: '127.0.0.1', port: s.tcpPort(`cab-${i + 1}`) } },
    }));
    writeFileSync(join(dir, 'secrets.yaml'), stringify({ devices: {} }), { mode: 0o600 });
    const config = join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      stringify({
        compound: { id: 'bench-court' },
        gateway: { id: 'gw-bench' },
        secretsFile: 'secrets.yaml',
        uplink: { url: broker.url },
        broker: { host: '127.0.0.1', port: await freePort() },
        console: { port: await freePort() },
        log: { level: 'info' },
        locks: [],
        cabinets,
        // Below the poll period: every poll of every port in a session is one meter event.
        charging: { meterIntervalMs: 100 },
      }),
    );
    tap = new Tap(broker.url, ['gatehouse/v1/bench-court/gw-bench/evt/charging'], (payload) => {
      const e = JSON.parse(String(payload)) as { type?: string; ts?: string };
      return e.type === 'charging.meter' && e.ts ? Date.parse(e.ts) : undefined;
    });
    await tap.start();
    const prof = process.env.HOTPATH_CPU_PROF ? [`--cpu-prof`, `--cpu-prof-dir=${process.env.HOTPATH_CPU_PROF}`] : [];
    // For profiling the Gatehouse side: more node flags (--heap-prof, --trace-gc), and a file for its output.
    const extra = (process.env.HOTPATH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
    gateway = await startNode(
      [...flags, ...prof, ...extra, GATEHOUSE, 'run', '--config', config, '--data', data],
      /gatehouse running/,
      `hotpath ${n}: gatehouse run`,
      60_000,
      process.env.HOTPATH_LOG,
    );
    return await measure(gateway.pid!, tap, n, settleS, windowS);
  } finally {
    await tap?.stop();
    // SIGTERM is the unit's stop: the daemon exits cleanly, so --cpu-prof writes its profile.
    await stop(gateway);
    await sims?.stop();
    await broker?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The flow file, one copy of its nodes per cabinet, plus the tab and the broker config node. */
function nodeRedFlow(sims: SimulatedCabinets, n: number, brokerPort: number): unknown[] {
  const template = readFileSync(FLOW, 'utf8');
  const nodes: unknown[] = [{ id: 'bench-tab', type: 'tab', label: 'cabinets', disabled: false, info: '' }];
  nodes.push({
    id: 'bench-broker',
    type: 'mqtt-broker',
    name: 'mosquitto',
    broker: '127.0.0.1',
    port: String(brokerPort),
    clientid: '',
    autoConnect: true,
    usetls: false,
    protocolVersion: '4',
    keepalive: '60',
    cleansession: true,
  });
  for (let i = 1; i <= n; i++) {
    const id = `cab-${i}`;
    const text = template
      .replaceAll('__CAB__', id)
      .replaceAll('__PORT__', String(sims.tcpPort(id)))
      .replaceAll('__RATE__', String(POLL_MS));
    nodes.push(...(JSON.parse(text) as unknown[]));
  }
  return nodes;
}

async function runNodeRed(n: number, flags: string[], settleS: number, windowS: number): Promise<SideFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-nodered-'));
  let broker: Mosquitto | undefined;
  let sims: SimulatedCabinets | undefined;
  let red: ChildProcess | undefined;
  let tap: Tap | undefined;
  try {
    broker = await Mosquitto.start();
    sims = await startCabinets(n);
    const brokerPort = Number(new URL(broker.url).port);
    writeFileSync(join(dir, 'flows.json'), JSON.stringify(nodeRedFlow(sims, n, brokerPort)));
    // Headless: no editor, no admin API, no HTTP nodes; the flow runs from the file.
    writeFileSync(
      join(dir, 'settings.cjs'),
      `module.exports = { uiHost: '127.0.0.1', uiPort: ${await freePort()}, httpAdminRoot: false, httpNodeRoot: false,
  flowFile: 'flows.json', credentialSecret: false, logging: { console: { level: 'warn', metrics: false, audit: false } },
  editorTheme: { projects: { enabled: false } }, telemetry: { enabled: false }, diagnostics: { enabled: false } };\n`,
    );
    tap = new Tap(broker.url, ['nodered/#'], (payload) => (JSON.parse(String(payload)) as { t?: number }).t);
    await tap.start();
    red = await startNode([...flags, NODE_RED, '--settings', join(dir, 'settings.cjs'), '--userDir', dir], /./, `hotpath ${n}: node-red`);
    // Ready once its readings arrive.
    const t0 = performance.now();
    tap.counting = true;
    while (tap.count === 0) {
      if (performance.now() - t0 > 60_000) throw new Error(`hotpath ${n}: no Node-RED message within 60 s`);
      await sleep(100);
    }
    tap.counting = false;
    return await measure(red.pid!, tap, n, settleS, windowS);
  } finally {
    await tap?.stop();
    await stop(red);
    await sims?.stop();
    await broker?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchHotpath(opts: { quick: boolean }): Promise<HotpathResult> {
  const flags = productionNodeFlags();
  const counts = (process.env.HOTPATH_CABINETS ?? (opts.quick ? '16,64' : '16,48,64'))
    .split(',')
    .map(Number)
    .filter((x) => x > 0);
  const settleS = opts.quick ? 4 : 8;
  const windowS = opts.quick ? 8 : 20;
  const only = process.env.HOTPATH_SIDE; // 'gatehouse' | 'nodered' for profiling one side
  const empty: SideFigures = {
    pollsPerSec: Number.NaN,
    pollsDuePerSec: Number.NaN,
    msgsPerSec: Number.NaN,
    cpuPct: Number.NaN,
    cpuUsPerMsg: Number.NaN,
    rssMb: Number.NaN,
    rssMaxMb: Number.NaN,
    p50Ms: Number.NaN,
    p95Ms: Number.NaN,
    keepsUp: false,
  };
  const rows: HotpathRow[] = [];
  for (const n of counts) {
    const nodeRed = only === 'gatehouse' ? empty : await runNodeRed(n, flags, settleS, windowS);
    const gatehouse = only === 'nodered' ? empty : await runGatehouse(n, flags, settleS, windowS);
    rows.push({ cabinets: n, gatehouse, nodeRed });
  }
  const behind = (side: 'gatehouse' | 'nodeRed') => rows.find((r) => !r[side].keepsUp)?.cabinets ?? null;
  return { flags, windowS, rows, gatehouseBehindAt: behind('gatehouse'), nodeRedBehindAt: behind('nodeRed') };
}
