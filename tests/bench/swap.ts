/**
 * Battery-swap cabinet benchmarks (issue 17).
 *
 * Thermal onset: one SwapService against one simulated 12-slot swap cabinet over Modbus TCP
 * (loopback), polled every 200 ms, a real Outbox on a temp SQLite file, no uplink. A pack's
 * temperature jumps past packMaxTempC at a random phase of the poll cycle; the figure is the
 * time until both the cabinet has executed the isolate command for that slot (timestamped
 * where the simulator appends to its `accepted` log) and `swap.thermal` was raised on the
 * alarm sink. Baseline, in the same trials: injection → the gateway's next completed poll
 * read (the detection floor: it cannot act before it reads).
 *
 * 24-slot poll at 115,200 baud: one 24-slot cabinet as an RTU unit on a socat pty pair with
 * the simulator holding each answer for its wire time (11 bits per character), polled back to
 * back with swapPollPlan(24) + decodeSwapPoll through ModbusBus. Baseline: the computed wire
 * time of one poll's request and response frames.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SwapCabinetConfig, SwapConfig } from '../../config/swap-schema.js';
import { ModbusBus } from '../../drivers/modbus/bus.js';
import { decodeSwapPoll, swapPollPlan } from '../../drivers/swap/registers.js';
import type { SwapCommand } from '../../drivers/swap/types.js';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { SwapService } from '../../gateway/swap/swap-service.js';
import type { SwapReading } from '../../gateway/swap/swap-unit.js';
import { createPtyPair } from '../../sim/cabinet/index.js';
import { startSimulatedSwapCabinets, type SimulatedSwapCabinets } from '../../sim/swap/index.js';
import type { AlarmCondition } from '../../gateway/alarms/types.js';
import { FakeAlarmSink } from '../helpers/fake-alarm-sink.js';

const POLL_MS = 200;
const BAUD = 115_200;

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

export interface SwapBenchResult {
  trials: number;
  pollMs: number;
  nextRead: Percentiles;
  isolated: Percentiles;
  thermalRatio: number;
  slots: number;
  bytesPerPoll: number;
  wireMs: number;
  polls: number;
  pollMs24: number;
  wireRatio: number;
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
    if (performance.now() - start > timeoutMs) throw new Error(`swap bench: timed out waiting for ${what}`);
    await sleep(1);
  }
}

async function thermal(quick: boolean): Promise<Pick<SwapBenchResult, 'trials' | 'nextRead' | 'isolated' | 'thermalRatio'>> {
  const trials = quick ? 15 : 60;
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-swap-'));
  const clock = systemClock({ forceState: 'synced' });
  let sims: SimulatedSwapCabinets | undefined;
  let outbox: Outbox | undefined;
  let service: SwapService | undefined;
  try {
    sims = await startSimulatedSwapCabinets({
      tcp: [{ id: 'bench-swap', slots: 12, port: 0, host: '127.0.0.1' }],
      tickMs: 0,
      stock: { empty: 2 },
    });
    const sim = sims.cabinet('bench-swap');
    const isolatedAt = new Map<number, number>();
    const accepted = sim.accepted;
    const push = accepted.push.bind(accepted);
    accepted.push = (...cmds: SwapCommand[]) => {
      for (const c of cmds) if (c.kind === 'isolate') isolatedAt.set(c.slot, performance.now());
      return push(...cmds);
    };
    const sink = new FakeAlarmSink();
    const raisedAt = new Map<number, number>();
    const raise = sink.raise.bind(sink);
    sink.raise = (c: AlarmCondition) => {
      const slot = Number(String(c.source.point ?? '').replace('slot-', ''));
      if (c.kind === 'swap.thermal') raisedAt.set(slot, performance.now());
      return raise(c);
    };
    outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
    service = new SwapService({
      cabinets: [
        SwapCabinetConfig.parse({
          id: 'bench-swap',
          bus: { tcp: { host: '127.0.0.1', port: sims.tcpPort('bench-swap') } },
          slots: 12,
          pollMs: POLL_MS,
        }),
      ],
      swap: SwapConfig.parse({}),
      outbox,
      sink,
      clock,
      timers: realTimers,
      log: silentLogger(),
    });
    const unit = service.unit('bench-swap');
    let readAt: number[] = [];
    const onReading = unit.onReading.bind(unit);
    unit.onReading = (r: SwapReading, at: number) => {
      readAt.push(performance.now());
      onReading(r, at);
    };
    service.start();
    await until(() => unit.last, 'first reading');
    const nextRead: number[] = [];
    const isolated: number[] = [];
    for (let i = 0; i < trials; i++) {
      const slot = 1 + (i % 10);
      isolatedAt.delete(slot);
      raisedAt.delete(slot);
      await sleep(Math.random() * POLL_MS);
      readAt = [];
      const t0 = performance.now();
      sim.slot(slot).pack!.temperature = 70;
      const done = await until(
        () => isolatedAt.has(slot) && raisedAt.has(slot) && Math.max(isolatedAt.get(slot)!, raisedAt.get(slot)!),
        'isolation',
      );
      const read = await until(() => readAt.find((t) => t > t0), 'next read');
      nextRead.push(read - t0);
      isolated.push(done - t0);
      sim.slot(slot).pack!.temperature = 22;
      await until(() => unit.last?.slots[slot - 1]?.temperature === 22, 'cooled reading');
      await unit.release(slot, 'bench');
    }
    const n = pct(nextRead);
    const iso = pct(isolated);
    return { trials, nextRead: n, isolated: iso, thermalRatio: iso.p99 / n.p99 };
  } finally {
    await service?.stop();
    outbox?.close();
    await sims?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function wire(
  quick: boolean,
): Promise<Pick<SwapBenchResult, 'slots' | 'bytesPerPoll' | 'wireMs' | 'polls' | 'pollMs24' | 'wireRatio'>> {
  const slots = 24;
  const plan = swapPollPlan(slots);
  const bytesPerPoll = plan.reduce((sum, r) => sum + 8 + 5 + 2 * r.count, 0);
  const wireMs = (bytesPerPoll * 11 * 1000) / BAUD;
  const pty = await createPtyPair();
  let sims: SimulatedSwapCabinets | undefined;
  let bus: ModbusBus | undefined;
  try {
    sims = await startSimulatedSwapCabinets({
      rtu: { path: pty.b, baudRate: BAUD, emulateWire: true, units: [{ id: 'swap-24', slots, unitId: 1 }] },
      tickMs: 0,
      stock: {},
    });
    bus = new ModbusBus({
      transport: { kind: 'rtu', path: pty.a, baudRate: BAUD },
      name: 'bench-swap',
      clock: systemClock({ forceState: 'synced' }),
      timers: realTimers,
      log: pino({ level: 'silent' }),
    });
    const b = bus;
    b.start();
    await until(() => b.isUp(), 'bus open', 5000);
    const poll = async (): Promise<void> => {
      const answers: number[][] = [];
      for (const r of plan) answers.push(await b.read(1, r.fc, r.address, r.count));
      decodeSwapPoll(slots, answers);
    };
    for (let i = 0; i < 3; i++) await poll(); // warm-up
    const windowMs = quick ? 3000 : 15_000;
    const start = performance.now();
    let polls = 0;
    while (polls < 10 || performance.now() - start < windowMs) {
      await poll();
      polls++;
    }
    const pollMs24 = (performance.now() - start) / polls;
    return { slots, bytesPerPoll, wireMs, polls, pollMs24, wireRatio: pollMs24 / wireMs };
  } finally {
    await bus?.stop();
    await sims?.stop();
    await pty.stop();
  }
}

export async function benchSwap({ quick }: { quick: boolean }): Promise<SwapBenchResult> {
  const t = await thermal(quick);
  const w = await wire(quick);
  return { ...t, ...w, pollMs: POLL_MS };
}
