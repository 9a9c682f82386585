/**
 * The perimeter service on a ManualClock and an in-memory Modbus transport: the timers the
 * service owns (bypass expiry, timed outputs, schedule arming) and the module.offline
 * condition, without sockets or real time. Inputs live in the fake's register memory:
 * channel n at address n (non-zero = active), the supervision word at 100.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CompoundConfig } from '../../config/schema.js';
import { ModbusBus } from '../../drivers/modbus/bus.js';
import { ManualClock } from '../../gateway/core/clock.js';
import type { EventInput } from '../../gateway/core/events.js';
import { createLoggerFactory, silentLogger } from '../../gateway/core/log.js';
import { createPerimeter } from '../../gateway/perimeter/create-perimeter.js';
import { FakeAlarmSink } from '../helpers/fake-alarm-sink.js';
import { FakeModbusTransport } from '../helpers/fake-modbus-transport.js';
import { migratedDb, scoped } from '../helpers/store.js';

const POLL = 100;
const ALL = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

function rig(reuse: { db?: Database.Database; clock?: ManualClock } = {}) {
  // 2026-11-21 12:00:01 UTC; the `nights` window opens at 13:00 UTC.
  const clock = reuse.clock ?? new ManualClock(Date.UTC(2026, 10, 21, 12, 0, 1));
  const transport = new FakeModbusTransport();
  const inputs = new Array<number>(16).fill(0);
  let supervision = 0;
  transport.units.set(1, {
    kind: 'answer',
    regs: (address, count) => (address === 100 ? [supervision] : inputs.slice(address, address + count)),
  });
  const bus = new ModbusBus({
    transport,
    clock,
    timers: clock,
    log: silentLogger(),
    timeoutMs: 1000,
    probeTimeoutMs: 250,
    retries: 0,
    deadAfter: 2,
    backoff: { minMs: 500, maxMs: 1000 },
  });
  const config = CompoundConfig.parse({
    compound: { id: 'c' },
    gateway: { id: 'gw' },
    inputModules: [
      {
        id: 'mod',
        bus: { tcp: { host: 'fake', port: 502 } },
        channels: 16,
        supervision: { address: 100 },
        outputs: { address: 0, count: 2 },
        pollMs: POLL,
      },
    ],
    zones: [
      { id: 'beam', module: 'mod', channel: 0, type: 'perimeter', contact: 'NC', partition: 'wall', debounceMs: 0 },
      { id: 'fence', module: 'mod', channel: 1, type: 'perimeter', contact: 'NC', partition: 'wall', debounceMs: 0 },
    ],
    partitions: [{ id: 'wall', armSchedule: 'nights' }],
    outputs: [{ id: 'siren', module: 'mod', index: 1 }],
    perimeter: { armSchedules: { nights: { weekly: [{ days: ALL, from: '13:00', to: '14:00' }] } } },
  });
  const events: EventInput[] = [];
  const states = new Map<string, Record<string, unknown>>();
  const db = reuse.db ?? migratedDb();
  const outbox = {
    scope: (owner: 'perimeter') => scoped(db, owner),
    record: async (e: EventInput) => (events.push(e), {} as never),
    setState: async (device: string, body: Record<string, unknown>) => void states.set(device, body),
  };
  const sink = new FakeAlarmSink();
  const perimeter = createPerimeter({
    config,
    outbox,
    sink,
    clock,
    timers: clock,
    logs: createLoggerFactory({ level: 'silent' }),
    buses: new Map([['tcp:fake:502', bus]]),
  });
  const flush = async () => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  /** Advances in poll-sized steps, letting the fake transport's answers settle in between. */
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += POLL) {
      clock.advance(Math.min(POLL, ms - t));
      await flush();
    }
  };
  return {
    clock,
    transport,
    perimeter,
    sink,
    events,
    states,
    run,
    db,
    /** Channel n's raw input (NC zones: 1 = all well). */
    setInput: (ch: number, v: number) => (inputs[ch] = v),
    setSupervision: (w: number) => (supervision = w),
  };
}

describe('PerimeterService (ManualClock, fake transport)', () => {
  it('arms by schedule with a zone in alarm: reported not ready, raised only after it was normal again', async () => {
    const r = rig();
    r.setInput(0, 1);
    r.setInput(1, 0); // the fence loop is open when the night begins
    r.perimeter.start();
    await r.run(3 * POLL);
    expect(r.perimeter.service.states().modules.mod?.online).toBe(true);
    // Coming online clears any module.offline a previous run left open (a no-op otherwise).
    expect(r.sink.log()).toEqual(['clear module.offline mod']);
    r.sink.reset();
    await r.run(60 * 60_000);
    expect(r.events.filter((e) => e.type === 'partition.armed')).toEqual([
      expect.objectContaining({ data: { partition: 'wall', by: 'schedule', notReady: ['fence'] } }),
    ]);
    expect(r.sink.raises()).toEqual([]);
    r.setInput(1, 1);
    await r.run(2 * POLL);
    r.setInput(1, 0);
    await r.run(2 * POLL);
    expect(r.sink.log()).toEqual(['raise zone.alarm fence']);
    expect(r.states.get('wall')).toMatchObject({ armed: true, by: 'schedule', notReady: ['fence'] });
    await r.perimeter.stop();
  });

  it('a bypass ends by its timer: zone.unbypassed by expiry, and what still holds is raised', async () => {
    const r = rig();
    r.setInput(0, 1);
    r.setInput(1, 1);
    r.perimeter.start();
    await r.run(2 * POLL);
    r.sink.reset();
    r.perimeter.service.arm('wall', true, 'guard');
    const res = r.perimeter.service.bypass('beam', 2, 'guard');
    expect(res.until).toBe(new Date(r.clock.now() + 120_000).toISOString());
    r.setInput(0, 0);
    await r.run(119_000);
    expect(r.sink.raises()).toEqual([]);
    expect(r.perimeter.service.states().zones.beam?.state).toBe('bypassed');
    await r.run(1000);
    expect(r.sink.log()).toEqual(['raise zone.alarm beam']);
    expect(r.events.filter((e) => e.type.startsWith('zone.')).map((e) => `${e.type} ${(e.data as { by: string }).by}`)).toEqual([
      'zone.bypassed guard',
      'zone.unbypassed expiry',
    ]);
    await r.perimeter.stop();
  });

  it('a bypass survives a restart with its end time; one that ran out while down is ended at start', async () => {
    const r1 = rig();
    r1.setInput(0, 1);
    r1.setInput(1, 1);
    r1.perimeter.start();
    await r1.run(2 * POLL);
    const { until } = r1.perimeter.service.bypass('beam', 30, 'guard');
    r1.perimeter.service.bypass('fence', 1, 'guard');
    await r1.perimeter.stop();
    r1.clock.advance(10 * 60_000); // the gateway is down for ten minutes
    const r2 = rig({ db: r1.db, clock: r1.clock });
    r2.setInput(0, 1);
    r2.setInput(1, 1);
    r2.perimeter.start();
    await r2.run(2 * POLL);
    expect(r2.perimeter.service.states().zones.beam).toMatchObject({ state: 'bypassed', bypassedUntil: until });
    expect(r2.perimeter.service.states().zones.fence?.bypassedUntil).toBeNull();
    expect(r2.events.filter((e) => e.type === 'zone.unbypassed').map((e) => e.data)).toEqual([{ zone: 'fence', by: 'expiry' }]);
    await r2.run(20 * 60_000);
    expect(r2.events.filter((e) => e.type === 'zone.unbypassed').map((e) => e.data)).toEqual([
      { zone: 'fence', by: 'expiry' },
      { zone: 'beam', by: 'expiry' },
    ]);
    await r2.perimeter.stop();
  });

  it('output.set with seconds: FC 05 on, then off when the time is up', async () => {
    const r = rig();
    r.perimeter.start();
    await r.run(POLL);
    const set = r.perimeter.commands().find((c) => c.name === 'output.set')!;
    expect(set.roles).toEqual(['platform', 'admin']);
    const p = set.handler(set.args.parse({ output: 'siren', on: true, seconds: 30 }), {
      id: 'x',
      caller: { via: 'cli', role: 'admin', principal: 'a' },
      deadline: 1e12,
    });
    await r.run(POLL);
    expect(await p).toMatchObject({ output: 'siren', on: true });
    const writes = () => r.transport.log.filter((l) => l.op === 'write').map((l) => `${l.address}=${l.values!.join(',')}`);
    expect(writes()).toEqual(['1=1']);
    await r.run(29_800);
    expect(writes()).toEqual(['1=1']);
    await r.run(300);
    expect(writes()).toEqual(['1=1', '1=0']);
    expect(r.perimeter.service.outputs.state('siren').on).toBe(false);
    expect(r.states.get('mod')).toMatchObject({ outputs: { siren: { on: false, kind: 'siren' } } });
    await r.perimeter.stop();
  });

  it('a silent module raises module.offline; answering again clears it; a supervision bit is zone.fault', async () => {
    const r = rig();
    r.setInput(0, 1);
    r.setInput(1, 1);
    r.perimeter.start();
    await r.run(2 * POLL);
    r.sink.reset();
    r.transport.units.set(1, { kind: 'silent' });
    await r.run(40 * POLL);
    expect(r.sink.log()).toEqual(['raise module.offline mod']);
    expect(r.sink.calls[0]).toMatchObject({ priority: 'medium', data: { module: 'mod' } });
    r.transport.units.set(1, { kind: 'answer', regs: (address) => (address === 100 ? [0b10] : new Array(16).fill(1)) });
    await r.run(20 * POLL);
    expect(r.sink.log()).toEqual(['raise module.offline mod', 'clear module.offline mod', 'raise zone.fault fence']);
    await r.perimeter.stop();
  });

  it('commands: roles, argument bounds, unknown ids', async () => {
    const r = rig();
    const cmds = Object.fromEntries(r.perimeter.commands().map((c) => [c.name, c]));
    expect(Object.keys(cmds).sort()).toEqual(['output.set', 'partition.arm', 'partition.disarm', 'zone.bypass', 'zone.unbypass']);
    for (const n of ['partition.arm', 'partition.disarm', 'zone.bypass', 'zone.unbypass'])
      expect(cmds[n]!.roles).toEqual(['platform', 'guard', 'admin']);
    expect(cmds['zone.bypass']!.args.safeParse({ zone: 'beam', minutes: 0 }).success).toBe(false);
    expect(cmds['zone.bypass']!.args.safeParse({ zone: 'beam', minutes: 1441 }).success).toBe(false);
    expect(cmds['zone.bypass']!.args.safeParse({ zone: 'beam', minutes: 1440 }).success).toBe(true);
    r.perimeter.start();
    expect(() => r.perimeter.service.arm('nope', true, 'x')).toThrow(expect.objectContaining({ code: 'DEVICE_UNKNOWN' }));
    expect(() => r.perimeter.service.unbypass('nope', 'x')).toThrow(expect.objectContaining({ code: 'DEVICE_UNKNOWN' }));
    await r.perimeter.stop();
  });
});
