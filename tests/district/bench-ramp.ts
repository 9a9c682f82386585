/**
 * `npm run bench:district` section 4 (issue 16): how many boxes one cluster node carries at
 * the realistic mix before the platform consumers fall behind, measured, not worked out.
 *
 * Fleets at 0.5 events/s per box all log in to ONE node and are added step by step; the
 * 3 reference consumers (SQLite FULL, then ack) read the quorum queue as in production.
 * After each step has connected and settled, a window of WINDOW_MS is measured:
 * - the queue's ready backlog at the start and the end of the window (rabbitmqctl);
 * - recorded-at-the-box -> stored-by-the-platform latency of every event stored in the window
 *   (the envelope's `ts` against the store's `stored_at`).
 * A step is carried when the p99 latency stays within P99_LIMIT_MS and the backlog grew by no
 * more than BACKLOG_SLACK of what was offered in the window (a backlog that keeps growing is
 * consumers falling behind without bound). A step whose boxes do not all get connected within
 * CONNECT_LIMIT_MS is not carried either (the node no longer takes the logins). The answer is
 * the last step carried; the ramp stops at the first step that is not, or at the last step.
 */
import type { DistrictStore } from '../../sim/district/store.js';
import { fleetIdentity } from '../../sim/fleet/box.js';
import type { Fleet } from '../../sim/fleet/fleet.js';
import type { BoxCredentials, RabbitCluster } from './cluster.js';
import { makeFleet } from './harness.js';

/** Boxes added per step, cumulative totals: 250, 500, 1000, 1500, 2000, 3000, 3500, 4000, 5000. */
export const RAMP_STEPS = [250, 250, 500, 500, 500, 1000, 500, 500, 1000];
export const RAMP_RATE = 0.5;
export const P99_LIMIT_MS = 2000;
export const BACKLOG_SLACK = 0.05;
const WINDOW_MS = 15_000;
const SETTLE_MS = 5000;
const CONNECT_LIMIT_MS = 90_000;

export const rampPrefix = (step: number): string => `ramp${step}`;

/** Every box the ramp may start, to provision before the bench starts. */
export function rampCredentials(secret: string): BoxCredentials[] {
  return RAMP_STEPS.flatMap((n, step) =>
    Array.from({ length: n }, (_, i) => {
      const id = fleetIdentity(rampPrefix(step), i, secret);
      return { compound: id.compound, gateway: id.gateway, username: id.username!, password: id.password!, clientId: id.clientId };
    }),
  );
}

export interface RampStep {
  boxes: number;
  /** Boxes connected when the window started (all of them, or the step is not carried). */
  connected: number;
  offeredPerS: number;
  storedPerS: number;
  backlogStart: number;
  backlogEnd: number;
  p50Ms: number;
  p99Ms: number;
  /** Share of one core this process (the fleet emulator) used in the window: is the emulator the limit? */
  fleetCpu: number;
  carried: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};

/** Runs the ramp on `node` (0-based) and returns every step measured; stops the fleets it started. */
export async function rampOneNode(
  cluster: RabbitCluster,
  reader: DistrictStore,
  node: number,
  secret: string,
  log: (line: string) => void,
): Promise<RampStep[]> {
  const url = cluster.mqttUrls()[node]!;
  const fleets: Fleet[] = [];
  const steps: RampStep[] = [];
  const acked = () => fleets.reduce((n, f) => n + f.report().acked, 0);
  try {
    for (const [step, add] of RAMP_STEPS.entries()) {
      const fleet = await makeFleet({ boxes: add, rate: RAMP_RATE, urls: [url], secret, prefix: rampPrefix(step) });
      fleets.push(fleet);
      fleet.start();
      const boxes = fleets.reduce((n, f) => n + f.boxes.length, 0);
      const connected = () => fleets.reduce((n, f) => n + f.report().connected, 0);
      const t0 = Date.now();
      while (connected() < boxes && Date.now() - t0 < CONNECT_LIMIT_MS) await sleep(200);
      await sleep(SETTLE_MS);
      const connectedAtStart = connected();
      const backlogStart = (await cluster.queueInfo()).messages;
      const a0 = acked();
      const s0 = reader.count();
      const cpu0 = process.cpuUsage();
      const w0 = Date.now();
      await sleep(WINDOW_MS);
      const w1 = Date.now();
      const cpu = process.cpuUsage(cpu0);
      const backlogEnd = (await cluster.queueInfo()).messages;
      const offered = acked() - a0;
      const stored = reader.count() - s0;
      const rows = reader.db.prepare('SELECT ts, stored_at AS at FROM events WHERE stored_at >= ? AND stored_at < ?').all(w0, w1) as {
        ts: string;
        at: number;
      }[];
      const lat = rows.map((r) => r.at - Date.parse(r.ts));
      const s: RampStep = {
        boxes,
        connected: connectedAtStart,
        offeredPerS: offered / ((w1 - w0) / 1000),
        storedPerS: stored / ((w1 - w0) / 1000),
        backlogStart,
        backlogEnd,
        p50Ms: pct(lat, 50),
        p99Ms: pct(lat, 99),
        fleetCpu: (cpu.user + cpu.system) / 1000 / (w1 - w0),
        carried: false,
      };
      s.carried =
        connectedAtStart === boxes && s.p99Ms <= P99_LIMIT_MS && backlogEnd - backlogStart <= Math.max(50, BACKLOG_SLACK * offered);
      steps.push(s);
      log(
        `   ${String(boxes).padStart(5)} boxes (${connectedAtStart} connected): offered ${s.offeredPerS.toFixed(0)} ev/s, stored ${s.storedPerS.toFixed(0)} ev/s, ` +
          `backlog ${backlogStart} -> ${backlogEnd}, box->store p50 ${s.p50Ms.toFixed(0)} ms p99 ${s.p99Ms.toFixed(0)} ms, fleet CPU ${(s.fleetCpu * 100).toFixed(0)} %: ${s.carried ? 'carried' : 'FELL BEHIND'}`,
      );
      if (!s.carried) break;
    }
  } finally {
    await Promise.all(fleets.map((f) => f.stop()));
  }
  return steps;
}
