import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ModbusBus, type UnitOfflineReason } from '../../drivers/modbus/bus.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { GatehouseError } from '../../gateway/core/errors.js';
import { FakeModbusTransport } from '../helpers/fake-modbus-transport.js';

const log = pino({ level: 'silent' });
/** Lets promise chains (fake answers, settle) run; no wall-clock time passes in the bus. */
const tick = () => new Promise((r) => setImmediate(r));

function rig(opts: { retries?: number; deadAfter?: number; timeoutMs?: number } = {}) {
  const clock = new ManualClock();
  const transport = new FakeModbusTransport();
  const bus = new ModbusBus({
    transport,
    name: 'line-1',
    timeoutMs: opts.timeoutMs ?? 100,
    retries: opts.retries ?? 1,
    deadAfter: opts.deadAfter ?? 3,
    backoff: { minMs: 1000, maxMs: 8000 },
    clock,
    timers: clock,
    log,
  });
  const events: string[] = [];
  bus.on('unitOnline', (u) => events.push(`online:${u}`));
  bus.on('unitOffline', (u, r: UnitOfflineReason) => events.push(`offline:${u}:${r}`));
  bus.on('busUp', () => events.push('up'));
  bus.on('busDown', () => events.push('down'));
  return { clock, transport, bus, events };
}

async function started(opts?: Parameters<typeof rig>[0]) {
  const r = rig(opts);
  r.bus.start();
  await tick();
  expect(r.bus.isUp()).toBe(true);
  r.events.length = 0;
  return r;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(GatehouseError);
    return (e as GatehouseError).code + ':' + String((e as GatehouseError).details?.reason ?? '');
  }
}

describe('ModbusBus scheduling', () => {
  it('keeps one request in flight and lets writes jump ahead of queued polls, FIFO within a priority', async () => {
    const { transport, bus } = await started();
    transport.units.set(1, { kind: 'manual' });
    const done: string[] = [];
    const a = bus.read(1, 3, 0, 2).then(() => done.push('a'));
    const b = bus.read(1, 3, 10, 2).then(() => done.push('b'));
    const c = bus.read(1, 4, 20, 2, { priority: 'low' }).then(() => done.push('c'));
    const d = bus.read(1, 3, 30, 2).then(() => done.push('d'));
    const w = bus.write(1, 100, [0]).then(() => done.push('w'));
    expect(transport.log.length).toBe(1);
    for (let i = 0; i < 5; i++) {
      transport.release();
      await tick();
    }
    await Promise.all([a, b, c, d, w]);
    expect(done).toEqual(['a', 'w', 'b', 'd', 'c']);
    expect(transport.log.map((r) => r.address)).toEqual([0, 100, 10, 30, 20]);
    expect(transport.maxInFlight).toBe(1);
    expect(bus.stats().units[0]).toMatchObject({ unitId: 1, ok: 5, dead: false, online: true });
  });

  it('returns the registers read and writes the values given', async () => {
    const { bus, transport } = await started();
    await bus.write(3, 200, [7, 8, 9]);
    expect(await bus.read(3, 3, 199, 4)).toEqual([199, 7, 8, 9]);
    expect(transport.log.at(-2)).toMatchObject({ unitId: 3, op: 'write', address: 200, values: [7, 8, 9] });
  });

  it('times out every attempt, retries a bounded number of times, then answers CMD_TIMEOUT', async () => {
    const { clock, transport, bus } = await started({ retries: 2, deadAfter: 10 });
    transport.units.set(2, { kind: 'silent' });
    const p = codeOf(bus.read(2, 3, 0, 1));
    for (let i = 0; i < 3; i++) {
      await tick();
      clock.advance(100);
    }
    expect(await p).toBe('CMD_TIMEOUT:');
    expect(transport.log.length).toBe(3);
    expect(bus.stats().units[0]).toMatchObject({ timeouts: 3, consecutiveFailures: 3, dead: false });
  });

  it('does not retry a Modbus exception: the unit answered, so it is online and the request is refused', async () => {
    const { transport, bus, events } = await started();
    transport.units.set(4, { kind: 'exception', code: 2 });
    const err = await bus.read(4, 3, 9000, 1).catch((e: GatehouseError) => e);
    expect(err).toMatchObject({ code: 'DEVICE_REFUSED', details: { modbusCode: 2, unitId: 4 } });
    expect(transport.log.length).toBe(1);
    expect(events).toEqual(['online:4']);
  });

  it('retries bad frames and counts them apart from timeouts', async () => {
    const { transport, bus } = await started({ retries: 1, deadAfter: 5 });
    transport.units.set(5, { kind: 'garbage' });
    const err = await bus.read(5, 3, 0, 1).catch((e: GatehouseError) => e);
    expect(err).toMatchObject({ code: 'CMD_FAILED', details: { kind: 'bad_frame', attempts: 2 } });
    expect(bus.stats().units[0]).toMatchObject({ badFrames: 2, timeouts: 0 });
  });

  it('drops a late answer to an attempt that already timed out', async () => {
    const { clock, transport, bus } = await started({ retries: 0 });
    transport.units.set(1, { kind: 'manual' });
    const first = codeOf(bus.read(1, 3, 0, 1));
    const second = bus.read(1, 3, 50, 1);
    clock.advance(100);
    expect(await first).toBe('CMD_TIMEOUT:');
    expect(transport.log.length).toBe(2);
    transport.release(); // the late answer of the first request
    await tick();
    transport.release();
    expect(await second).toEqual([50]);
  });

  it('refuses malformed requests with a coded error before they reach the wire', async () => {
    const { bus, transport } = await started();
    expect(await codeOf(bus.read(1, 3, 0, 126))).toBe('INTERNAL:');
    expect(await codeOf(bus.read(300, 3, 0, 1))).toBe('INTERNAL:');
    expect(await codeOf(bus.read(1, 6 as 3, 0, 1))).toBe('INTERNAL:');
    expect(await codeOf(bus.write(1, 65535, [1, 2]))).toBe('INTERNAL:');
    expect(await codeOf(bus.write(1, 0, [70000]))).toBe('INTERNAL:');
    expect(transport.log.length).toBe(0);
  });
});

describe('ModbusBus dead-unit isolation', () => {
  it('marks a silent unit dead, fails its requests fast, and probes it with exponential backoff', async () => {
    const { clock, transport, bus, events } = await started({ retries: 1, deadAfter: 2 });
    transport.units.set(7, { kind: 'silent' });
    await bus.read(1, 3, 0, 1);
    const p = codeOf(bus.read(7, 3, 0, 1));
    const queuedForDead = codeOf(bus.read(7, 3, 10, 1));
    await tick();
    clock.advance(100);
    await tick();
    clock.advance(100);
    expect(await p).toBe('DEVICE_OFFLINE:unit_dead');
    expect(await queuedForDead).toBe('DEVICE_OFFLINE:unit_dead');
    expect(events).toEqual(['online:1', 'offline:7:timeout']);
    expect(transport.log.filter((r) => r.unitId === 7).length).toBe(2);

    // While dead: no bus time spent on it, the healthy unit is served at once.
    const sent = transport.log.length;
    expect(await codeOf(bus.read(7, 3, 0, 1))).toBe('DEVICE_OFFLINE:unit_dead');
    expect(await bus.read(1, 3, 5, 1)).toEqual([5]);
    expect(transport.log.length).toBe(sent + 1);

    // Probe steps: 1000, then 2000, then 4000 ms; one attempt each, no retries.
    const probeTimes: number[] = [];
    for (let t = 0; t < 8000; t += 100) {
      clock.advance(100);
      const before = transport.log.length;
      const r = codeOf(bus.read(7, 3, 0, 1));
      await tick();
      if (transport.log.length > before) probeTimes.push(clock.monotonic());
      clock.advance(0);
      void r;
    }
    expect(probeTimes.length).toBe(3);
    const base = probeTimes[0]!;
    expect(probeTimes.map((t) => t - base)).toEqual([0, 2100, 6200]); // each waits its step after the previous probe's timeout
    expect(bus.stats().units.find((u) => u.unitId === 7)).toMatchObject({ dead: true, online: false });

    // The unit comes back: the next probe succeeds and it is online again, with backoff reset.
    transport.units.set(7, { kind: 'answer' });
    clock.advance(8000);
    expect(await bus.read(7, 3, 42, 1)).toEqual([42]);
    expect(events.at(-1)).toBe('online:7');
    expect(bus.stats().units.find((u) => u.unitId === 7)).toMatchObject({
      dead: false,
      online: true,
      consecutiveFailures: 0,
      nextProbeAt: null,
    });
    expect(await bus.read(7, 3, 43, 1)).toEqual([43]);
  });

  it('holds the line for a probe only probeTimeoutMs, not the full request timeout', async () => {
    const { clock, transport, bus } = await started({ retries: 0, deadAfter: 1, timeoutMs: 1000 });
    transport.units.set(7, { kind: 'silent' });
    const first = codeOf(bus.read(7, 3, 0, 1));
    await tick();
    clock.advance(1000);
    expect(await first).toBe('DEVICE_OFFLINE:unit_dead');
    clock.advance(1000); // the first probe step
    const probe = codeOf(bus.read(7, 3, 0, 1));
    const healthy = bus.read(1, 3, 3, 1);
    await tick();
    clock.advance(250); // default probeTimeoutMs = min(timeoutMs, 250)
    expect(await probe).toBe('CMD_TIMEOUT:');
    await tick();
    expect(await healthy).toEqual([3]);
  });

  it('keeps only one probe outstanding for a dead unit', async () => {
    const { clock, transport, bus } = await started({ retries: 0, deadAfter: 1 });
    transport.units.set(9, { kind: 'silent' });
    const first = codeOf(bus.read(9, 3, 0, 1));
    clock.advance(100);
    expect(await first).toBe('DEVICE_OFFLINE:unit_dead');
    clock.advance(1000);
    const probe = codeOf(bus.read(9, 3, 0, 1));
    expect(await codeOf(bus.read(9, 3, 0, 1))).toBe('DEVICE_OFFLINE:unit_dead');
    clock.advance(100);
    expect(await probe).toBe('CMD_TIMEOUT:');
    expect(transport.log.length).toBe(2);
  });
});

describe('ModbusBus link loss', () => {
  it('fails fast while the adapter is unplugged, reopens with backoff and serves again once plugged back', async () => {
    const { clock, transport, bus, events } = await started();
    transport.units.set(1, { kind: 'manual' });
    await tick();
    const inFlight = codeOf(bus.read(1, 3, 0, 1));
    const queued = codeOf(bus.write(2, 0, [1]));
    transport.unplug();
    expect(await inFlight).toBe('DEVICE_OFFLINE:bus_down');
    expect(await queued).toBe('DEVICE_OFFLINE:bus_down');
    expect(events).toEqual(['down']);
    expect(await codeOf(bus.read(1, 3, 0, 1))).toBe('DEVICE_OFFLINE:bus_down');

    // Reopen attempts at 1000, then +2000, then +4000 (capped at 8000).
    const opensBefore = transport.opens;
    let attempts = 0;
    const origOpen = transport.open.bind(transport);
    transport.open = () => {
      attempts++;
      return origOpen();
    };
    clock.advance(999);
    await tick();
    expect(attempts).toBe(0);
    clock.advance(1);
    await tick();
    expect(attempts).toBe(1);
    clock.advance(2000);
    await tick();
    expect(attempts).toBe(2);
    clock.advance(3999);
    await tick();
    expect(attempts).toBe(2);
    transport.plugIn();
    transport.units.set(1, { kind: 'answer' });
    clock.advance(1);
    await tick();
    expect(attempts).toBe(3);
    expect(transport.opens).toBe(opensBefore + 1);
    expect(bus.isUp()).toBe(true);
    expect(events).toEqual(['down', 'up']);
    expect(await bus.read(1, 3, 7, 1)).toEqual([7]);
    expect(bus.stats().reconnects).toBe(1);
  });

  it('reports online units offline with reason bus_down when the link drops, and a fresh chance for dead units after', async () => {
    const { clock, transport, bus, events } = await started({ retries: 0, deadAfter: 1 });
    await bus.read(1, 3, 0, 1);
    transport.units.set(2, { kind: 'silent' });
    const p = codeOf(bus.read(2, 3, 0, 1));
    clock.advance(100);
    await p;
    transport.unplug();
    expect(events).toEqual(['online:1', 'offline:2:timeout', 'offline:1:bus_down', 'down']);
    transport.plugIn();
    transport.units.set(2, { kind: 'answer' });
    clock.advance(1000);
    await tick();
    // Unit 2 is tried at once after the reconnect instead of waiting out its probe backoff.
    expect(await bus.read(2, 3, 3, 1)).toEqual([3]);
    expect(await bus.read(1, 3, 4, 1)).toEqual([4]);
    expect(events.slice(4)).toEqual(['up', 'online:2', 'online:1']);
  });

  it('keeps retrying a link that never opened at start', async () => {
    const r = rig();
    r.transport.refuseOpen = true;
    r.bus.start();
    await tick();
    expect(r.bus.stats().state).toBe('down');
    expect(await codeOf(r.bus.read(1, 3, 0, 1))).toBe('DEVICE_OFFLINE:bus_down');
    r.transport.plugIn();
    r.clock.advance(1000);
    await tick();
    expect(r.bus.isUp()).toBe(true);
  });

  it('gives up an open that hangs after openTimeoutMs and retries', async () => {
    const clock = new ManualClock();
    const transport = new FakeModbusTransport();
    let hang = true;
    const orig = transport.open.bind(transport);
    transport.open = () => (hang ? new Promise(() => {}) : orig());
    const bus = new ModbusBus({ transport, openTimeoutMs: 500, backoff: { minMs: 200, maxMs: 1000 }, clock, timers: clock, log });
    bus.start();
    clock.advance(499);
    await tick();
    expect(bus.stats().state).toBe('opening');
    clock.advance(1);
    await tick();
    expect(bus.stats().state).toBe('down');
    hang = false;
    clock.advance(200);
    await tick();
    expect(bus.isUp()).toBe(true);
  });

  it('stop fails everything pending with DEVICE_OFFLINE bus_stopped and refuses new work', async () => {
    const { transport, bus } = await started();
    transport.units.set(1, { kind: 'manual' });
    const a = codeOf(bus.read(1, 3, 0, 1));
    const b = codeOf(bus.read(1, 3, 1, 1));
    await bus.stop();
    expect(await a).toBe('DEVICE_OFFLINE:bus_stopped');
    expect(await b).toBe('DEVICE_OFFLINE:bus_stopped');
    expect(await codeOf(bus.read(1, 3, 0, 1))).toBe('DEVICE_OFFLINE:bus_stopped');
    expect(transport.open_).toBe(false);
  });
});
