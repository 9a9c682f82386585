/**
 * The charging cabinets report their own conditions (issue 12, one way to raise an alarm):
 * a CabinetUnit fed readings on a ManualClock, a real outbox (SQLite file) and the real
 * AlarmManager with the kinds charging declares. The raw `charging.*` alarm events are still
 * recorded as the contract documents them (with `active` and `priority`), before the
 * lifecycle events they cause; an announced outage is one device.offline alarm.
 */
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CabinetConfig, ChargingSafetyConfig } from '../../config/schema.js';
import type { CabinetReading } from '../../drivers/cabinet/types.js';
import { ModbusBus } from '../../drivers/modbus/bus.js';
import { AlarmManager } from '../../gateway/alarms/alarm-manager.js';
import { ALARM_KINDS } from '../../gateway/charging/alarm-kinds.js';
import { CabinetUnit } from '../../gateway/charging/cabinet-unit.js';
import { CabinetLatches, CabinetSerials } from '../../gateway/charging/latches.js';
import { ChargingSessions } from '../../gateway/charging/sessions.js';
import { ManualClock } from '../../gateway/core/clock.js';
import type { Envelope } from '../../gateway/core/events.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { validateMessage } from '../helpers/asyncapi.js';
import { FakeModbusTransport } from '../helpers/fake-modbus-transport.js';
import { alarmTestbed } from '../helpers/alarm-testbed.js';

const reading = (at: number, opts: { smoke?: boolean; portTemp?: number } = {}): CabinetReading => ({
  cabinet: 'cab-a',
  at,
  status: {
    mainsVoltage: 230,
    mainsPresent: true,
    temperature: 25,
    smoke: opts.smoke ?? false,
    doorOpen: false,
    fanOn: false,
    powerOn: true,
    uptimeS: 5,
  },
  ports: [
    {
      port: 1,
      state: 'available',
      voltage: 0,
      current: 0,
      power: 0,
      energyWh: 0,
      temperature: opts.portTemp ?? 24,
      sessionId: 0,
      faultCode: 0,
      powerLimit: 0,
    },
  ],
});

describe('cabinets raise their alarms on the sink', () => {
  let dir: string;
  let clock: ManualClock;
  let outbox: Outbox;
  let manager: AlarmManager;
  let bus: ModbusBus;
  let unit: CabinetUnit;

  const open = () =>
    manager.list({ limit: 500 }).map((a) => ({ kind: a.kind, source: a.source, priority: a.priority, state: a.state, active: a.active }));
  const declared = (kind: string) => ALARM_KINDS.find((k) => k.kind === kind)!.priority;
  const recorded = async (): Promise<(Envelope & { class: string; body: string })[]> => {
    await new Promise((r) => setImmediate(r));
    outbox.flush();
    return outbox.readEvents(0, 10_000).map((r) => ({ ...(JSON.parse(r.body) as Envelope), class: r.class, body: r.body }));
  };

  beforeEach(() => {
    ({ dir, clock, outbox, manager } = alarmTestbed('gh-cabinet-alarms-'));
    manager.declareKinds(ALARM_KINDS);
    manager.start();
    bus = new ModbusBus({ transport: new FakeModbusTransport(), clock, timers: clock, log: silentLogger() });
    unit = new CabinetUnit({
      cfg: CabinetConfig.parse({ id: 'cab-a', bus: { tcp: { host: '127.0.0.1', port: 1502 } }, ports: 1 }),
      bus,
      sessions: new ChargingSessions({ db: outbox.scope('charging'), clock }),
      outbox,
      sink: manager,
      clock,
      timers: clock,
      log: silentLogger(),
      safety: ChargingSafetyConfig.parse({}),
      latches: new CabinetLatches(outbox.scope('charging'), clock),
      serials: new CabinetSerials(outbox.scope('charging'), clock),
      liveStateMs: 60_000,
    });
  });
  afterEach(async () => {
    await manager.stop();
    await bus.stop();
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a hot port raises and clears charging.port_over_temperature per port at its declared priority; the raw events go out first', async () => {
    unit.onReading(reading(clock.monotonic()));
    clock.advance(1000);
    unit.onReading(reading(clock.monotonic(), { portTemp: 70 }));
    expect(open()).toEqual([
      {
        kind: 'charging.port_over_temperature',
        source: { device: 'cab-a', point: 'port-1' },
        priority: declared('charging.port_over_temperature'),
        state: 'raised',
        active: true,
      },
    ]);
    expect(manager.list()[0]!.data).toEqual({ cabinet: 'cab-a', port: 1, value: 70 });
    clock.advance(1000);
    unit.onReading(reading(clock.monotonic(), { portTemp: 40 }));
    expect(open().map((a) => [a.kind, a.state, a.active])).toEqual([['charging.port_over_temperature', 'cleared', false]]);
    const alarmTopic = (await recorded()).filter((e) => e.class === 'alarm');
    expect(alarmTopic.map((e) => [e.type, e.data.active])).toEqual([
      ['charging.port_over_temperature', true],
      ['alarm.raised', true],
      ['charging.port_over_temperature', false],
      ['alarm.cleared', false],
    ]);
    expect(alarmTopic[0]!.data).toEqual({ cabinet: 'cab-a', active: true, priority: 'high', port: 1, value: 70 });
    for (const e of alarmTopic) expect(validateMessage(`gatehouse/v1/c/g/evt/${e.class}`, e.body).errors).toEqual([]);
  });

  it('smoke raises charging.fire as critical (declared, and in the raw event)', async () => {
    unit.onReading(reading(clock.monotonic(), { smoke: true }));
    expect(open()).toEqual([
      { kind: 'charging.fire', source: { device: 'cab-a' }, priority: declared('charging.fire'), state: 'raised', active: true },
    ]);
    expect(declared('charging.fire')).toBe('critical');
    const fire = (await recorded()).find((e) => e.type === 'charging.fire')!;
    expect(fire.data).toMatchObject({ active: true, priority: 'critical', cause: 'smoke' });
  });

  it('an announced outage is one device.offline alarm (medium, declared), cleared and closed when the cabinet answers again', async () => {
    unit.onReading(reading(clock.monotonic()));
    unit.markOffline('no_answer');
    unit.markOffline('no_answer');
    expect(open()).toEqual([
      { kind: 'device.offline', source: { device: 'cab-a' }, priority: declared('device.offline'), state: 'raised', active: true },
    ]);
    expect(declared('device.offline')).toBe('medium');
    expect(manager.list()[0]!.data).toEqual({ family: 'cabinet', reason: 'no_answer' });
    clock.advance(1000);
    unit.onReading(reading(clock.monotonic()));
    expect(open()).toEqual([]);
    expect((await recorded()).map((e) => e.type)).toEqual([
      'device.online',
      'device.offline',
      'alarm.raised',
      'device.online',
      'alarm.cleared',
      'alarm.closed',
    ]);
  });
});
