/**
 * The polled Modbus unit (gateway/modbus/polled-unit.ts) that cabinets and input modules
 * share, on a real ModbusBus over the in-memory transport, driven by a ManualClock: poll
 * cadence, offline after the bus's N misses, the dead unit's probe backoff, recovery, the
 * boot grace, a unit that answers badly, and one unit's failure kept from the others.
 */
import { describe, expect, it } from 'vitest';
import { ModbusBus } from '../../drivers/modbus/bus.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import { PolledUnit, type PolledUnitOptions } from '../../gateway/modbus/polled-unit.js';
import { FakeModbusTransport } from '../helpers/fake-modbus-transport.js';

const POLL_MS = 1000;
/** Lets promise chains (fake answers, bus settle) run; no time passes on the ManualClock. */
const tick = () => new Promise((r) => setImmediate(r));

function rig() {
  const clock = new ManualClock();
  const transport = new FakeModbusTransport();
  // Three misses make a unit dead; its probes then wait 1, 2, 4, 8 s.
  const bus = new ModbusBus({
    transport,
    name: 'line',
    timeoutMs: 100,
    probeTimeoutMs: 100,
    retries: 0,
    deadAfter: 3,
    backoff: { minMs: 1000, maxMs: 8000 },
    clock,
    timers: clock,
    log: silentLogger(),
  });
  /** Monotonic time of every request that reached the wire, per unit id. */
  const wire = new Map<number, number[]>();
  const read = transport.read.bind(transport);
  transport.read = (unitId, fc, address, count) => {
    wire.set(unitId, [...(wire.get(unitId) ?? []), clock.monotonic()]);
    return read(unitId, fc, address, count);
  };
  const units: { unit: PolledUnit<number[]>; said: string[]; readings: number; bad: string[]; forgets: number }[] = [];
  const add = (unitId: number, extra: Partial<PolledUnitOptions<number[]>> = {}) => {
    const u = { unit: undefined as unknown as PolledUnit<number[]>, said: [] as string[], readings: 0, bad: [] as string[], forgets: 0 };
    u.unit = new PolledUnit<number[]>({
      id: `unit-${unitId}`,
      unitId,
      pollMs: POLL_MS,
      bus,
      clock,
      timers: clock,
      log: silentLogger(),
      family: 'module',
      logKey: 'module',
      label: 'test unit',
      announce: (a) => u.said.push(a.online ? 'online' : `offline:${a.reason ?? ''}`),
      read: () => bus.read(unitId, 3, 0, 1),
      onReading: () => void u.readings++,
      answeredBadly: (_err, code) => void u.bad.push(code),
      forget: () => void u.forgets++,
      ...extra,
    });
    units.push(u);
    return u;
  };
  /** Advances to monotonic `to` in 50 ms steps, letting the answers settle after each. */
  const until = async (to: number) => {
    while (clock.monotonic() < to) {
      clock.advance(Math.min(50, to - clock.monotonic()));
      await tick();
      await tick();
    }
  };
  /** Opens the line first, as the services do, so the first poll at 0 reaches the wire. */
  const start = async () => {
    bus.start();
    await tick();
    for (const u of units) u.unit.start();
  };
  const stop = async () => {
    for (const u of units) u.unit.stop();
    await bus.stop();
  };
  return { clock, transport, bus, wire, add, until, start, stop };
}

describe('PolledUnit', () => {
  it('polls at its cadence, counted from when a poll began, not from when a slow one ended', async () => {
    const r = rig();
    const a = r.add(1);
    await r.start();
    await r.until(10_000);
    // Polls at 0, 1000, ..., 10 000.
    expect(r.wire.get(1)).toEqual(Array.from({ length: 11 }, (_, i) => i * POLL_MS));
    expect(a.unit.polls).toBe(11);
    expect(a.readings).toBe(11);
    expect(a.said).toEqual(['online']);
    expect(a.unit.online).toBe(true);
    // A poll answered 300 ms late: the next one still begins 1000 ms after it began.
    r.transport.units.set(1, { kind: 'manual' });
    await r.until(11_300);
    r.transport.release();
    r.transport.units.set(1, { kind: 'answer' });
    await r.until(12_500);
    expect(r.wire.get(1)!.slice(-2)).toEqual([11_000, 12_000]);
    await r.stop();
  });

  it('keeps its cadence when timers fire late: lateness does not add up from one period to the next', async () => {
    const r = rig();
    // Every timer of the unit fires `late` ms after it was due (a busy event loop).
    let late = 30;
    const timers = { ...r.clock, setTimeout: (fn: () => void, ms: number) => r.clock.setTimeout(fn, ms + late) };
    r.add(1, { timers: timers as typeof r.clock });
    await r.start();
    await r.until(20_000);
    const at = r.wire.get(1)!;
    // Each poll within 30 ms of its place on the grid, so 20 polls in 20 s; drifting by 30 ms a period, the 20th would be 570 ms late.
    expect(at).toHaveLength(20);
    at.forEach((t, i) => expect(t - i * POLL_MS, `poll ${i} at ${t}`).toBeLessThanOrEqual(30));
    // A stall of more than a period (a blocked loop): the grid starts again from the late poll, no burst of missed polls.
    late = 2500;
    await r.until(23_000);
    late = 30;
    await r.until(25_000);
    // 20 030: the poll due at 20 000 (its timer set before the stall). The one due at 21 000 fires at 23 500,
    // after 22 000 was due too: the next is a period after it (+30 late), not at once.
    expect(r.wire.get(1)!.slice(at.length)).toEqual([20_030, 23_500, 24_530]);
    await r.stop();
  });

  it('goes offline once after the bus declares it dead, is probed with a doubling backoff, and comes back', async () => {
    const r = rig();
    const a = r.add(1);
    const b = r.add(2);
    await r.start();
    await r.until(2500);
    expect(b.said).toEqual(['online']);
    const forgetsBefore = b.forgets;
    r.transport.units.set(2, { kind: 'silent' });
    // Misses at 3000, 4000 and 5000 (100 ms each): dead after the third.
    await r.until(5050);
    expect(b.said).toEqual(['online']);
    await r.until(5200);
    expect(b.said).toEqual(['online', 'offline:timeout']);
    expect(b.unit.online).toBe(false);
    // It may be another device when it answers again: forget what was read of it (the cabinet's identity).
    expect(b.forgets).toBeGreaterThan(forgetsBefore);
    await r.until(30_000);
    // Polls go on at the cadence, but only one probe per backoff step reaches the wire: 1, 2, 4, 8 s after each miss.
    expect(r.wire.get(2)!.filter((t) => t > 5100)).toEqual([7000, 10_000, 15_000, 24_000]);
    // Failing fast is not news: still one offline announcement.
    expect(b.said).toEqual(['online', 'offline:timeout']);
    // The other unit on the line never missed a poll.
    expect(r.wire.get(1)).toHaveLength(31);
    expect(a.said).toEqual(['online']);
    // Back: the next probe (24 000 + 8000 -> the poll at 33 000) finds it answering.
    r.transport.units.set(2, { kind: 'answer' });
    await r.until(32_500);
    const forgetsDead = b.forgets;
    await r.until(33_500);
    expect(b.said).toEqual(['online', 'offline:timeout', 'online']);
    expect(b.unit.online).toBe(true);
    // The bus's unitOnline: it may be another device now, forget what was read of it again.
    expect(b.forgets).toBe(forgetsDead + 1);
    await r.until(34_500);
    expect(r.wire.get(2)!.slice(-2)).toEqual([33_000, 34_000]);
    await r.stop();
  });

  it('is not reported offline during the boot grace while its line cannot open, then is', async () => {
    const r = rig();
    r.transport.refuseOpen = true;
    const a = r.add(1);
    await r.start();
    await r.until(4950);
    expect(a.said).toEqual([]);
    expect(a.unit.online).toBeNull();
    await r.until(5100);
    expect(a.said).toEqual(['offline:no_answer']);
    await r.until(9000);
    expect(a.said).toEqual(['offline:no_answer']);
    await r.stop();
  });

  it('a unit answering with an exception is alive: the family judges it, it is never offline', async () => {
    const r = rig();
    const a = r.add(1);
    r.transport.units.set(1, { kind: 'exception', code: 4 });
    await r.start();
    await r.until(10_000);
    expect(a.bad).toHaveLength(11);
    expect(new Set(a.bad)).toEqual(new Set(['DEVICE_REFUSED']));
    expect(a.said).toEqual([]);
    expect(a.unit.online).toBeNull();
    await r.stop();
  });

  it('one unit failing on a bus event does not keep it from the other units on the line', async () => {
    const r = rig();
    const a = r.add(1, {
      forget: () => {
        throw new Error('broken unit');
      },
    });
    const b = r.add(2);
    await r.start();
    await r.until(1500);
    expect(a.said).toEqual(['online']);
    expect(b.said).toEqual(['online']);
    // The adapter is pulled: the bus tells every online unit, unit 1 first.
    r.transport.unplug();
    await r.until(1600);
    expect(b.said).toEqual(['online', 'offline:bus_down']);
    await r.stop();
  });

  it('stops polling and stops listening to the bus when stopped', async () => {
    const r = rig();
    const a = r.add(1);
    await r.start();
    await r.until(2500);
    a.unit.stop();
    const polled = r.wire.get(1)!.length;
    r.transport.unplug();
    await r.until(6000);
    expect(r.wire.get(1)).toHaveLength(polled);
    expect(a.said).toEqual(['online']);
    await r.bus.stop();
  });
});
