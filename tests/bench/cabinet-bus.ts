/**
 * Cabinet bus benchmarks over a real serial line: a socat pty pair, ModbusBus (on
 * modbus-serial) at one end, 16 simulated 12-port cabinets sharing the other end as RTU
 * units at 115,200 baud.
 *
 * A pty has no real baud rate: bytes cross it as fast as the kernel copies them. The wire
 * limit is enforced by the simulator instead (`emulateWire`), which holds each answer for
 * the wire time of request + response at 11 bits per character. So the baseline here is
 * computed, not measured: the bytes of one cycle over the baud rate, and the figure is how
 * close the gateway's bus scheduling gets to it.
 *
 * - poll cycle: every cabinet runs its full poll (the pollPlan(12) block reads, one after
 *   the other, decoded with decodePoll) concurrently with the others, as independent
 *   pollers would, all through one ModbusBus; a cycle ends when all 16 are done.
 * - dead unit: the cycle of the 15 healthy units with unit 16 silent on the bus (after the
 *   bus has marked it dead), against the cycle of the same 15 units without it. The bus
 *   runs with its defaults (timeout, retries, deadAfter, probe backoff): each probe of the
 *   dead unit costs one full timeout, and probes that fall in the window are counted in.
 */
import { pino } from 'pino';
import { ModbusBus } from '../../drivers/modbus/bus.js';
import { decodePoll, pollPlan } from '../../drivers/cabinet/registers.js';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import { createPtyPair, startSimulatedCabinets } from '../../sim/cabinet/index.js';

const BAUD = 115_200;
const BITS_PER_CHAR = 11;
const CABINETS = 16;
const PORTS = 12;
const DEAD_UNIT = CABINETS;
/** ModbusBus's default, passed explicitly so the report can name it; retries, deadAfter and backoff stay at their defaults. */
const TIMEOUT_MS = 1000;

export interface CabinetBusResult {
  cabinets: number;
  ports: number;
  baud: number;
  /** Request + response frame bytes of one full cycle of all cabinets. */
  bytesPerCycle: number;
  /** bytesPerCycle × 11 bits over the baud rate. */
  wireMsPerCycle: number;
  cycles: number;
  cycleMs: number;
  cyclesPerSec: number;
  /** wireMsPerCycle / cycleMs. */
  utilisation: number;
  /** Polls of healthy cabinets that failed during the measured windows (should be 0). */
  healthyFailures: number;
  dead: {
    baselineCycles: number;
    /** Mean cycle of the 15 healthy units, the dead one not on the bus. */
    baselineCycleMs: number;
    cycles: number;
    /** Mean cycle of the 15 healthy units plus the dead one, after warm-up. */
    cycleMs: number;
    /** Median of the same: the cycle without a probe in it. */
    medianCycleMs: number;
    ratio: number;
    warmupMs: number;
    /** Probes of the dead unit (each one timeout) inside the measured window. */
    probes: number;
    timeoutMs: number;
  };
}

/** RTU frame bytes of one read: request 8 (unit, fc, address, count, CRC); response 5 + 2×count. */
function bytesPerPoll(ports: number): number {
  return pollPlan(ports).reduce((sum, r) => sum + 8 + 5 + 2 * r.count, 0);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

export async function benchCabinetBus({ quick }: { quick: boolean }): Promise<CabinetBusResult> {
  const windowMs = quick ? 5_000 : 20_000;
  const minCycles = quick ? 5 : 20;
  const log = pino({ level: 'silent' });
  const pty = await createPtyPair();
  const units = Array.from({ length: CABINETS }, (_, i) => ({ id: `c${i + 1}`, unitId: i + 1, ports: PORTS }));
  const plugged = Object.fromEntries(units.map((u) => [u.id, [1, 5, 9]]));
  let sim: Awaited<ReturnType<typeof startSimulatedCabinets>> | undefined;
  let bus: ModbusBus | undefined;
  try {
    sim = await startSimulatedCabinets({ rtu: { path: pty.b, baudRate: BAUD, emulateWire: true, units }, plugged, tickMs: 1000 });
    bus = new ModbusBus({
      transport: { kind: 'rtu', path: pty.a, baudRate: BAUD },
      name: 'bench-cabinets',
      timeoutMs: TIMEOUT_MS,
      clock: systemClock({ forceState: 'synced' }),
      timers: realTimers,
      log,
    });
    const b = bus;
    b.start();
    const t0 = performance.now();
    while (!b.isUp()) {
      if (performance.now() - t0 > 5000) throw new Error('cabinet bench: bus did not open within 5 s');
      await new Promise((r) => setTimeout(r, 10));
    }

    let healthyFailures = 0;
    let counting = false;
    const plan = pollPlan(PORTS);
    /** One cabinet's full poll: its block reads one after the other, then decoded. */
    const poll = async (unitId: number): Promise<boolean> => {
      try {
        const answers: number[][] = [];
        for (const r of plan) answers.push(await b.read(unitId, r.fc, r.address, r.count));
        decodePoll(PORTS, answers);
        return true;
      } catch {
        if (counting && unitId !== DEAD_UNIT) healthyFailures++;
        return false;
      }
    };
    const cycle = async (unitIds: number[]): Promise<number> => {
      const start = performance.now();
      await Promise.all(unitIds.map(poll));
      return performance.now() - start;
    };
    const run = async (unitIds: number[]): Promise<number[]> => {
      const times: number[] = [];
      const start = performance.now();
      counting = true;
      while (times.length < minCycles || performance.now() - start < windowMs) times.push(await cycle(unitIds));
      counting = false;
      return times;
    };

    const all = units.map((u) => u.unitId);
    const healthy = all.filter((u) => u !== DEAD_UNIT);

    // 1. Full bus, every unit healthy.
    await cycle(all); // warm-up: the first open, JIT
    const full = await run(all);
    const bytesPerCycle = bytesPerPoll(PORTS) * CABINETS;
    const wireMsPerCycle = ((bytesPerCycle * BITS_PER_CHAR) / BAUD) * 1000;
    const cycleMs = mean(full);

    // 2. Baseline: the 15 healthy units alone.
    const base = await run(healthy);

    // 3. The 16th unit goes silent; warm up until the bus has marked it dead.
    sim.inject({ kind: 'dead', cabinet: `c${DEAD_UNIT}` });
    const w0 = performance.now();
    const deadStats = () => b.stats().units.find((u) => u.unitId === DEAD_UNIT);
    while (!deadStats()?.dead) {
      if (performance.now() - w0 > 30_000) throw new Error('cabinet bench: the silent unit was not marked dead within 30 s');
      await cycle(all);
    }
    const warmupMs = performance.now() - w0;
    const timeoutsBefore = deadStats()?.timeouts ?? 0;
    const withDead = await run(all);
    const probes = (deadStats()?.timeouts ?? 0) - timeoutsBefore;

    return {
      cabinets: CABINETS,
      ports: PORTS,
      baud: BAUD,
      bytesPerCycle,
      wireMsPerCycle,
      cycles: full.length,
      cycleMs,
      cyclesPerSec: 1000 / cycleMs,
      utilisation: wireMsPerCycle / cycleMs,
      healthyFailures,
      dead: {
        baselineCycles: base.length,
        baselineCycleMs: mean(base),
        cycles: withDead.length,
        cycleMs: mean(withDead),
        medianCycleMs: median(withDead),
        ratio: mean(withDead) / mean(base),
        warmupMs,
        probes,
        timeoutMs: TIMEOUT_MS,
      },
    };
  } finally {
    await bus?.stop();
    await sim?.stop();
    await pty.stop();
  }
}
