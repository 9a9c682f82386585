/**
 * Smoke cut-off latency: one CabinetService against one simulated 12-port cabinet over
 * Modbus TCP (loopback), polled every 200 ms, with a real Outbox on a temp SQLite file and
 * no uplink at all. Several ports charge; smoke is injected at a random phase of the poll
 * cycle, and the figure is the time from the injection until the simulator has every port
 * that was energised off and its contactor open (the cabinet power cut).
 *
 * Baseline, measured in the same trials: the time from the injection until the gateway's
 * next completed poll read of the cabinet (the detection floor: the gateway cannot act
 * before it reads). The time until the first read that actually shows the smoke is reported
 * too (a read already in flight at injection may have fetched the status block before it).
 *
 * Both ends are timestamped where they happen, not polled for: the read by wrapping the
 * unit's onReading, the cut by wrapping the simulator's `accepted` log, which the cabinet
 * appends to as it executes each command.
 *
 * Between trials the smoke is cleared, the service stopped (its interlock latch goes with
 * it), the cabinet rebooted (contactor closed again, ports back to plugged) and a fresh
 * service started, which then starts the sessions again by command.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CabinetConfig } from '../../config/schema.js';
import type { CabinetReading } from '../../drivers/cabinet/types.js';
import { CabinetService } from '../../gateway/charging/cabinet-service.js';
import type { CabinetUnit } from '../../gateway/charging/cabinet-unit.js';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import type { CommandContext } from '../../gateway/commands/types.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { startSimulatedCabinets, type SimulatedCabinets } from '../../sim/cabinet/index.js';
import { FakeAlarmSink } from '../helpers/fake-alarm-sink.js';

const POLL_MS = 200;
const PORTS = 12;
const CHARGING = [1, 3, 5, 7, 9, 11];
const CAB = 'cab-smoke';
/** The bound: smoke → every port off within one poll period + 100 ms. */
const BOUND_MS = POLL_MS + 100;

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

export interface SmokeCutoffResult {
  trials: number;
  pollMs: number;
  ports: number;
  charging: number;
  /** Injection → simulator has every energised port off and the contactor open, ms. */
  cutoff: Percentiles;
  /** Baseline: injection → next completed poll read of the cabinet, ms. */
  nextRead: Percentiles;
  /** Injection → first completed read showing the smoke, ms. */
  smokeSeen: Percentiles;
  /** Per trial: read showing the smoke → cut-off, ms (the gateway's own reaction). */
  reaction: Percentiles;
  /** cutoff.p99 / nextRead.p99. */
  ratio: number;
  boundMs: number;
  met: boolean;
}

const pct = (xs: number[]): Percentiles => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1] ?? NaN };
};
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until<T>(probe: () => T | undefined | null | false, what: string, timeoutMs = 10_000): Promise<T> {
  const start = performance.now();
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== null && v !== false) return v;
    if (performance.now() - start > timeoutMs) throw new Error(`smoke bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export async function benchSmokeCutoff({ quick }: { quick: boolean }): Promise<SmokeCutoffResult> {
  const trials = quick ? 20 : 100;
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-smoke-'));
  const clock = systemClock({ forceState: 'synced' });
  let sims: SimulatedCabinets | undefined;
  let outbox: Outbox | undefined;
  let service: CabinetService | undefined;
  try {
    sims = await startSimulatedCabinets({ tcp: [{ id: CAB, ports: PORTS, port: 0, host: '127.0.0.1' }], tickMs: 1000 });
    const s = sims;
    const sim = s.cabinet(CAB);
    for (const p of CHARGING) s.inject({ kind: 'plug', cabinet: CAB, port: p, soc: 0.2, capacityWh: 5000 });
    outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
    const ob = outbox;
    const cabinets = [
      CabinetConfig.parse({ id: CAB, bus: { tcp: { host: '127.0.0.1', port: s.tcpPort(CAB) } }, unitId: 1, ports: PORTS, pollMs: POLL_MS }),
    ];
    const makeService = () =>
      new CabinetService({
        cabinets,
        outbox: ob,
        sink: new FakeAlarmSink(),
        clock,
        timers: realTimers,
        log: silentLogger(),
        busOptions: { timeoutMs: 150, retries: 0, deadAfter: 2, backoff: { minMs: 100, maxMs: 500 } },
      });
    const ctx = (): CommandContext => ({
      id: 'bench',
      caller: { via: 'cli', role: 'admin', principal: 'bench' },
      deadline: performance.now() + 10_000,
    });

    // One listener at a time on the unit's reads and on the cabinet's accepted commands.
    let onRead: ((r: CabinetReading, t: number) => void) | undefined;
    let onAccepted: ((t: number) => void) | undefined;
    const acceptedPush = sim.accepted.push.bind(sim.accepted);
    sim.accepted.push = (...cmds) => {
      const n = acceptedPush(...cmds);
      onAccepted?.(performance.now());
      return n;
    };
    const hook = (unit: CabinetUnit) => {
      const orig = unit.onReading.bind(unit);
      unit.onReading = (r) => {
        const t = performance.now();
        orig(r);
        onRead?.(r, t);
      };
    };
    const nextRead = () => new Promise<CabinetReading>((resolve) => (onRead = (r) => ((onRead = undefined), resolve(r))));
    const live = (state: string) => state === 'charging' || state === 'finishing';

    /** A fresh service, online, with every CHARGING port charging as read by the gateway. */
    const ready = async (): Promise<CabinetUnit> => {
      service = makeService();
      const svc = service;
      const unit = svc.unit(CAB)!;
      hook(unit);
      const start = svc.commands().find((d) => d.name === 'charging.start')!;
      svc.start();
      await until(
        () =>
          unit.online === true &&
          unit.last?.status.powerOn &&
          !unit.last.status.smoke &&
          CHARGING.every((p) => unit.last!.ports[p - 1]?.state === 'plugged'),
        'the cabinet online, powered, ports plugged',
      );
      for (const port of CHARGING) await start.handler(start.args.parse({ cabinet: CAB, port }), ctx());
      await until(() => CHARGING.every((p) => live(unit.last!.ports[p - 1]?.state ?? '')), 'every port charging as read');
      return unit;
    };

    const cutoff: number[] = [];
    const reads: number[] = [];
    const seen: number[] = [];
    const reaction: number[] = [];
    for (let i = 0; i < trials; i++) {
      const unit = await ready();
      await nextRead(); // phase reference: a poll just completed
      await sleep(Math.random() * POLL_MS);
      const energised = sim.ports.filter((p) => live(p.state)).map((p) => p.port);
      if (energised.length < CHARGING.length) throw new Error(`smoke bench: only ports ${energised.join(',')} charging before the smoke`);
      let firstRead: number | undefined;
      let smokeRead: number | undefined;
      let offAt: number | undefined;
      const done = new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('smoke bench: no cut-off within 5 s of the smoke')), 5000);
        const check = () => {
          if (firstRead !== undefined && smokeRead !== undefined && offAt !== undefined) {
            clearTimeout(t);
            onRead = undefined;
            onAccepted = undefined;
            resolve();
          }
        };
        onRead = (r, at) => {
          firstRead ??= at;
          if (r.status.smoke) smokeRead ??= at;
          check();
        };
        onAccepted = (at) => {
          if (offAt === undefined && !sim.powerOn && energised.every((p) => !live(sim.port(p).state))) offAt = at;
          check();
        };
      });
      const t0 = performance.now();
      s.inject({ kind: 'smoke', cabinet: CAB });
      await done;
      cutoff.push(offAt! - t0);
      reads.push(firstRead! - t0);
      seen.push(smokeRead! - t0);
      reaction.push(offAt! - smokeRead!);

      // Reset: the sessions closed for the smoke, smoke cleared, the persisted latch released by
      // charging.reset as an operator would, then a new service and a rebooted cabinet.
      await until(() => unit.online === true && service!.sessions.list(CAB).length === 0, 'the sessions stopped for smoke');
      s.inject({ kind: 'smoke', cabinet: CAB, active: false });
      const clearAfter = unit.last!.at;
      await until(() => unit.last!.at > clearAfter && !unit.last!.status.smoke, 'the smoke read clear');
      const reset = service!.commands().find((d) => d.name === 'charging.reset')!;
      await reset.handler(reset.args.parse({ cabinet: CAB, reason: 'bench trial over' }), ctx());
      await service!.stop();
      s.inject({ kind: 'reboot', cabinet: CAB, downMs: 0 });
      await sleep(10);
    }

    const c = pct(cutoff);
    const n = pct(reads);
    return {
      trials,
      pollMs: POLL_MS,
      ports: PORTS,
      charging: CHARGING.length,
      cutoff: c,
      nextRead: n,
      smokeSeen: pct(seen),
      reaction: pct(reaction),
      ratio: c.p99 / n.p99,
      boundMs: BOUND_MS,
      met: c.p99 <= BOUND_MS,
    };
  } finally {
    await service?.stop();
    await sims?.stop();
    outbox?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
