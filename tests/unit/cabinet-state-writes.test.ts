/**
 * Issue 18: a cabinet's retained state is not rewritten on every poll when nothing in it
 * changed. A CabinetUnit fed readings on a ManualClock, with a real outbox file, counts its
 * setState calls (each one is a row upsert in the next commit and a retained publish):
 *   - a change of state (a port's state, a session, smoke...) is written at once;
 *   - changed live values (power, current) of an energised port at the meter interval;
 *   - the same values again, poll after poll, only every 5 minutes (to refresh lastSeen).
 * The fingerprint the unit compares is checked against the body it stands for.
 */
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CabinetConfig, ChargingSafetyConfig } from '../../config/schema.js';
import type { CabinetReading, PortReading } from '../../drivers/cabinet/types.js';
import { ModbusBus } from '../../drivers/modbus/bus.js';
import type { AlarmManager } from '../../gateway/alarms/alarm-manager.js';
import { ALARM_KINDS } from '../../gateway/charging/alarm-kinds.js';
import { cabinetState, stateFingerprints, stateKey } from '../../gateway/charging/cabinet-events.js';
import { CabinetUnit } from '../../gateway/charging/cabinet-unit.js';
import { CabinetLatches, CabinetSerials } from '../../gateway/charging/latches.js';
import { ChargingSessions } from '../../gateway/charging/sessions.js';
import type { ManualClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import type { Outbox } from '../../gateway/outbox/outbox.js';
import { FakeModbusTransport } from '../helpers/fake-modbus-transport.js';
import { alarmTestbed } from '../helpers/alarm-testbed.js';

const POLL_MS = 200;
const METER_MS = 1000;

const port = (n: number, o: Partial<PortReading> = {}): PortReading => ({
  port: n,
  state: 'charging',
  voltage: 52,
  current: 2.5,
  power: 130,
  energyWh: 1000,
  temperature: 30,
  sessionId: 100 + n,
  faultCode: 0,
  powerLimit: 0,
  ...o,
});

const reading = (at: number, ports: PortReading[], status: Partial<CabinetReading['status']> = {}): CabinetReading => ({
  cabinet: 'cab-a',
  at,
  status: {
    mainsVoltage: 230,
    mainsPresent: true,
    temperature: 25,
    smoke: false,
    doorOpen: false,
    fanOn: false,
    powerOn: true,
    uptimeS: 5,
    ...status,
  },
  ports,
});

describe('cabinet retained state writes', () => {
  let dir: string;
  let clock: ManualClock;
  let outbox: Outbox;
  let manager: AlarmManager;
  let bus: ModbusBus;
  let unit: CabinetUnit;
  let writes: Record<string, unknown>[];

  beforeEach(() => {
    ({ dir, clock, outbox, manager } = alarmTestbed('gh-cabinet-state-'));
    manager.declareKinds(ALARM_KINDS);
    manager.start();
    writes = [];
    bus = new ModbusBus({ transport: new FakeModbusTransport(), clock, timers: clock, log: silentLogger() });
    unit = new CabinetUnit({
      cfg: CabinetConfig.parse({ id: 'cab-a', bus: { tcp: { host: '127.0.0.1', port: 1502 } }, ports: 2, pollMs: POLL_MS }),
      bus,
      sessions: new ChargingSessions({ db: outbox.scope('charging'), clock, meterIntervalMs: METER_MS }),
      outbox: {
        post: (e, failed) => outbox.post(e, failed),
        setState: (device, body) => {
          writes.push(body);
          return outbox.setState(device, body);
        },
      },
      sink: manager,
      clock,
      timers: clock,
      log: silentLogger(),
      safety: ChargingSafetyConfig.parse({}),
      latches: new CabinetLatches(outbox.scope('charging'), clock),
      serials: new CabinetSerials(outbox.scope('charging'), clock),
      liveStateMs: METER_MS,
    });
  });
  afterEach(async () => {
    await manager.stop();
    await bus.stop();
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Feeds `polls` readings POLL_MS apart; returns how many state writes they made. */
  const poll = (polls: number, ports: () => PortReading[], status: Partial<CabinetReading['status']> = {}): number => {
    const before = writes.length;
    for (let i = 0; i < polls; i++) {
      clock.advance(POLL_MS);
      unit.onReading(reading(clock.monotonic(), ports(), status));
    }
    return writes.length - before;
  };
  const charging = () => [port(1), port(2)];

  it('writes no state for polls that change nothing, even with ports charging', () => {
    // First reading: online announced and sessions adopted, state written.
    expect(poll(1, charging)).toBeGreaterThanOrEqual(1);
    expect(writes.at(-1)).toMatchObject({ online: true, ports: [{ port: 1, sessionId: 101, powerW: 130 }, { sessionId: 102 }] });
    // 10 s of identical polls: the meter interval passes ten times, but nothing in the state changed.
    expect(poll(50, charging)).toBe(0);
  });

  it('writes a change of state at once, changed power at the meter interval, and unchanged state every 5 minutes', () => {
    poll(1, charging);
    // A port stops charging: written on that very poll.
    expect(poll(1, () => [port(1), port(2, { state: 'plugged', power: 0, current: 0, voltage: 0 })])).toBe(1);
    const plugged = () => [port(1), port(2, { state: 'plugged', power: 0, current: 0, voltage: 0 })];
    expect(poll(3, plugged)).toBe(0);
    // Power changes on every poll: written once per meter interval (5 polls), with the value of the poll.
    // The last write was 3 polls (600 ms) ago, so the 2nd and the 7th of these 10 polls write (132, then 137).
    let w = 130;
    const drifting = () => [port(1, { power: (w += 1) }), port(2, { state: 'plugged', power: 0, current: 0, voltage: 0 })];
    expect(poll(10, drifting)).toBe(2);
    expect((writes.at(-1)!.ports as { powerW: number }[])[0]!.powerW).toBe(137);
    // Smoke (a change of state) is written on its poll even within the meter interval.
    clock.advance(POLL_MS);
    const n = writes.length;
    unit.onReading(reading(clock.monotonic(), plugged(), { smoke: true }));
    expect(writes.length - n).toBeGreaterThanOrEqual(1);
    expect(writes.at(-1)).toMatchObject({ latched: 'smoke', status: { smoke: true } });
    // Then nothing changes for 5 minutes: one refresh of lastSeen at the 5-minute mark.
    const steady = () => [port(1, { state: 'plugged', power: 0, current: 0 }), port(2, { state: 'plugged', power: 0, current: 0 })];
    poll(1, steady, { smoke: true });
    const afterSettle = writes.length;
    expect(poll((5 * 60_000) / POLL_MS - 10, steady, { smoke: true })).toBe(0);
    expect(poll(20, steady, { smoke: true })).toBe(1);
    expect(writes.length - afterSettle).toBe(1);
  });

  it('the fingerprint changes exactly when the stored key of the body does, and its live part with power or current', () => {
    const sessions = new Map([
      [1, 101],
      [2, 102],
    ]);
    const variants: [string, CabinetReading, Map<number, number>, string | null, boolean][] = [
      ['base', reading(0, charging()), sessions, null, false],
      ['same values, later', reading(5000, charging()), sessions, null, false],
      ['port state', reading(0, [port(1, { state: 'finishing' }), port(2)]), sessions, null, false],
      ['session gone', reading(0, charging()), new Map([[1, 101]]), null, false],
      ['latched', reading(0, charging()), sessions, 'smoke', false],
      ['unsupervised', reading(0, charging()), sessions, null, true],
      ['door', reading(0, charging(), { doorOpen: true }), sessions, null, false],
      ['power off', reading(0, charging(), { powerOn: false }), sessions, null, false],
      ['mains lost', reading(0, charging(), { mainsPresent: false }), sessions, null, false],
      [
        'smoke unreadable',
        { ...reading(0, charging()), faults: [{ field: 'smoke', address: 3, raw: 7, safety: true, message: 'x' }] },
        sessions,
        null,
        false,
      ],
      ['power', reading(0, [port(1, { power: 131 }), port(2)]), sessions, null, false],
      ['current', reading(0, [port(1, { current: 2.51 }), port(2)]), sessions, null, false],
      ['cabinet temperature', reading(0, charging(), { temperature: 26 }), sessions, null, false],
    ];
    const fp = variants.map(([, r, s, latched, unsup]) => stateFingerprints(true, r, latched, (p) => s.get(p), unsup));
    const keys = variants.map(([, r, s, latched, unsup]) => stateKey(cabinetState(true, r, latched, s, 0, unsup)));
    for (let i = 0; i < variants.length; i++)
      for (let j = 0; j < variants.length; j++)
        expect(fp[i]!.coarse === fp[j]!.coarse, `${variants[i]![0]} vs ${variants[j]![0]}`).toBe(keys[i] === keys[j]);
    const live = (name: string) => fp[variants.findIndex((v) => v[0] === name)]!.live;
    expect(live('power')).not.toBe(live('base'));
    expect(live('current')).not.toBe(live('base'));
    expect(live('cabinet temperature')).not.toBe(live('base'));
    expect(live('same values, later')).toBe(live('base'));
    expect(stateFingerprints(false, undefined, null, () => undefined, false).coarse).not.toBe(fp[0]!.coarse);
  });
});
