/**
 * Field-by-field decoding and the supervision rules, as pure logic: register words written
 * by hand from docs/cabinet-register-map.md §7 with one field broken at a time, and the
 * interlock's answers to readings with unknown safety fields and to blind polls.
 */
import { describe, expect, it } from 'vitest';
import { ChargingSafetyConfig } from '../../config/schema.js';
import { decodePollFields } from '../../drivers/cabinet/reading-decode.js';
import type { CabinetReading, PortReading } from '../../drivers/cabinet/types.js';
import { FAULT_REPORT_MS, FaultReporter } from '../../gateway/charging/cabinet-supervision.js';
import { SafetyInterlock } from '../../gateway/charging/safety.js';
import type { AnyEventInput } from '../../gateway/core/events.js';

const hex = (s: string): number[] =>
  s
    .trim()
    .split(/\s+/)
    .map((h) => parseInt(h, 16));
const PORT3 = hex('0002 0222 0140 00AF 0001 1170 013B 1234 5678 0000 0190 0000 0000 0000 0000 0000');
const CAB = hex('0900 0001 FFC9 0000 0000 0001 0001 0001 86A0 0000 0000 0000 0000 0000 0000 0000');
const IDLE = hex('0000 0000 0000 0000 0000 0000 00C8 0000 0000 0000 0000 0000 0000 0000 0000 0000');
/** The one read of a 3-port cabinet: cabinet block, port 1, port 2, port 3. */
const poll = (cab = CAB, p1 = IDLE, p2 = IDLE, p3 = PORT3) => [[...cab, ...p1, ...p2, ...p3]];
const set = (w: number[], i: number, v: number) => w.map((x, j) => (j === i ? v : x));

describe('decodePollFields', () => {
  it('decodes a clean poll with no faults', () => {
    const r = decodePollFields(3, poll());
    expect(r.faults).toEqual([]);
    expect(r.status).toMatchObject({ mainsVoltage: 230.4, temperature: -5.5, smoke: false, powerOn: true });
    expect(r.ports[2]).toMatchObject({ port: 3, state: 'charging', current: 3.2, temperature: 31.5 });
  });

  it('a port state code outside the map invalidates that state only', () => {
    const r = decodePollFields(3, poll(CAB, IDLE, set(IDLE, 0, 9)));
    expect(r.faults).toEqual([{ field: 'port2.state', address: 0x0110, raw: 9, safety: false, port: 2, message: 'unknown state code 9' }]);
    expect(r.ports[1]).toMatchObject({ port: 2, state: 'unknown', temperature: 20 });
    expect(r.ports[2]!.state).toBe('charging');
    expect(r.status.smoke).toBe(false);
  });

  it('smoke holding 2, mains present holding 7 and an open temperature sensor are safety faults with address and raw value', () => {
    const cab = set(set(set(CAB, 3, 2), 1, 7), 2, 0x8000);
    const r = decodePollFields(3, poll(cab));
    expect(r.faults.map((f) => [f.field, f.address, f.raw, f.safety])).toEqual([
      ['mainsPresent', 0x00f1, 7, true],
      ['temperature', 0x00f2, 0x8000, true],
      ['smoke', 0x00f3, 2, true],
    ]);
    expect(Number.isNaN(r.status.temperature)).toBe(true);
    expect(r.ports[2]!.state).toBe('charging');
  });

  it('an unknown power-on value reads as on (a latched cut keeps being sent); a port temperature fault is per port', () => {
    const r = decodePollFields(3, poll(set(CAB, 6, 3), IDLE, IDLE, set(PORT3, 6, 0xfc00)));
    expect(r.status.powerOn).toBe(true);
    expect(r.faults.map((f) => f.field)).toEqual(['powerOn', 'port3.temperature']);
    expect(r.faults[0]!.safety).toBe(false);
    expect(r.faults[1]!.safety).toBe(true);
  });

  it('an answer of the wrong size is still a DEVICE_PROTOCOL error', () => {
    expect(() => decodePollFields(3, [poll()[0]!.slice(1)])).toThrow(/expected 64 registers/);
  });
});

const cfg = ChargingSafetyConfig.parse({});
const port = (n: number, over: Partial<PortReading> = {}): PortReading => ({
  port: n,
  state: 'charging',
  voltage: 54,
  current: 3,
  power: 160,
  energyWh: 0,
  temperature: 30,
  sessionId: 0,
  faultCode: 0,
  powerLimit: 0,
  ...over,
});
function reading(
  over: Partial<CabinetReading['status']> = {},
  ports: PortReading[] = [port(1)],
  faults: CabinetReading['faults'] = undefined,
): CabinetReading {
  return {
    cabinet: 'c',
    at: 0,
    status: { mainsVoltage: 230, mainsPresent: true, temperature: 25, smoke: false, doorOpen: false, fanOn: false, powerOn: true, ...over },
    ports,
    ...(faults ? { faults } : {}),
  };
}
const smokeFault = [{ field: 'smoke', address: 0xf3, raw: 2, safety: true, message: '' }];

describe('supervision rules', () => {
  it('smoke cuts even when a port state is unknown, and the unknown port gets a stop', () => {
    const s = new SafetyInterlock(cfg);
    const actions = s.evaluate(
      reading(
        { smoke: true },
        [port(1), port(2, { state: 'unknown', current: 0 })],
        [{ field: 'port2.state', address: 0x110, raw: 9, safety: false, message: '' }],
      ),
      [],
      0,
    );
    expect(actions[0]).toEqual({ kind: 'cutCabinet', reason: 'smoke' });
    expect(actions).toContainEqual({ kind: 'stopPort', port: 2, reason: 'smoke' });
  });

  it('an unknown safety field for unsupervisedAfterPolls polls raises unsupervised and cuts (policy cut)', () => {
    const s = new SafetyInterlock(cfg);
    expect(s.evaluate(reading({}, [port(1)], smokeFault), [], 0)).toEqual([]);
    expect(s.evaluate(reading({}, [port(1)], smokeFault), [], 1000)).toEqual([]);
    const third = s.evaluate(reading({}, [port(1)], smokeFault), [], 2000);
    expect(third).toEqual([
      { kind: 'cutCabinet', reason: 'unsupervised' },
      { kind: 'stopPort', port: 1, reason: 'unsupervised' },
      { kind: 'raiseAlarm', alarm: 'unsupervised', priority: 'high', value: 3 },
    ]);
    expect(s.latched()).toBe('unsupervised');
    // Supervision back: the alarm clears, the latch stays.
    expect(s.evaluate(reading({ powerOn: false }, [port(1, { state: 'plugged', current: 0 })]), [], 3000)).toEqual([
      { kind: 'restoreAlarm', alarm: 'unsupervised' },
    ]);
    expect(s.latched()).toBe('unsupervised');
  });

  it('policy alarm raises without cutting; a clean poll in between restarts the count', () => {
    const s = new SafetyInterlock(ChargingSafetyConfig.parse({ unsupervisedPolicy: 'alarm', unsupervisedAfterPolls: 2 }));
    expect(s.blind(0)).toEqual([]);
    expect(s.evaluate(reading(), [], 100)).toEqual([]);
    expect(s.blind(200)).toEqual([]);
    expect(s.blind(300)).toEqual([{ kind: 'raiseAlarm', alarm: 'unsupervised', priority: 'high', value: 2 }]);
    expect(s.latched()).toBeNull();
  });

  it('blind polls re-assert a latched cut every reassertAfterMs, since the contactor cannot be seen', () => {
    const s = new SafetyInterlock(cfg, 'smoke');
    expect(s.blind(0)).toEqual([{ kind: 'cutCabinet', reason: 'smoke' }]);
    expect(s.blind(1000)).toEqual([]);
    expect(s.blind(5000)).toContainEqual({ kind: 'cutCabinet', reason: 'smoke' });
  });

  it('a persisted latch is re-asserted on the first reading with the contactor on', () => {
    const s = new SafetyInterlock(cfg, 'over_temperature');
    expect(s.evaluate(reading({}, []), [], 0)).toEqual([{ kind: 'cutCabinet', reason: 'over_temperature' }]);
    expect(s.evaluate(reading({ powerOn: false }, []), [], 100)).toEqual([]);
  });

  it('smoke during an unsupervised cut raises the fire alarm and takes over as the cause', () => {
    const s = new SafetyInterlock(cfg, 'unsupervised');
    const a = s.evaluate(reading({ smoke: true, powerOn: false }, []), [], 0);
    expect(a).toContainEqual({ kind: 'raiseAlarm', alarm: 'fire', priority: 'critical', cause: 'smoke', value: 1 });
    expect(s.latched()).toBe('smoke');
  });

  it('unknown mains is not a mains loss, nor a restore', () => {
    const s = new SafetyInterlock(cfg);
    expect(
      s.evaluate(reading({ mainsPresent: true }, [], [{ field: 'mainsPresent', address: 0xf1, raw: 7, safety: true, message: '' }]), [], 0),
    ).toEqual([]);
  });
});

describe('FaultReporter', () => {
  it('reports a fault once, then at most every FAULT_REPORT_MS with the repeats; a new raw value at once', () => {
    const out: AnyEventInput[] = [];
    const r = new FaultReporter('c', (e) => out.push(e));
    const f = { field: 'smoke', address: 0xf3, raw: 2, safety: true, message: 'smoke must be 0 or 1, got 2' };
    for (let t = 0; t < 100; t++) r.report([f], t * 1000);
    expect(out).toHaveLength(1);
    expect(out[0]!.data).toMatchObject({ field: 'smoke', register: '0x00F3', raw: 2, repeats: 0 });
    r.report([f], FAULT_REPORT_MS);
    expect(out).toHaveLength(2);
    expect(out[1]!.data!.repeats).toBe(99);
    r.report([{ ...f, raw: 3 }], FAULT_REPORT_MS + 1);
    expect(out).toHaveLength(3);
  });
});
