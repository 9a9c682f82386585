import { describe, expect, it } from 'vitest';
import { ChargingSafetyConfig } from '../../config/schema.js';
import type { CabinetReading, PortReading } from '../../drivers/cabinet/types.js';
import { SafetyInterlock, evaluate, initialSafetyState, type ActiveSession, type SafetyAction } from '../../gateway/charging/safety.js';

const cfg = ChargingSafetyConfig.parse({});
const MIN = 60_000;

function port(n: number, over: Partial<PortReading> = {}): PortReading {
  return {
    port: n,
    state: 'available',
    voltage: 0,
    current: 0,
    power: 0,
    energyWh: 0,
    temperature: 25,
    sessionId: 0,
    faultCode: 0,
    powerLimit: 0,
    ...over,
  };
}
/** A port charging a typical e-bike battery: 54.6 V, 3 A, 164 W. */
function charging(n: number, over: Partial<PortReading> = {}): PortReading {
  return port(n, {
    state: 'charging',
    voltage: 54.6,
    current: 3,
    power: 164,
    energyWh: 100,
    temperature: 35,
    sessionId: 1000 + n,
    ...over,
  });
}
function reading(ports: PortReading[], status: Partial<CabinetReading['status']> = {}, at = 0): CabinetReading {
  return {
    cabinet: 'cab-1',
    at,
    status: {
      mainsVoltage: 230,
      mainsPresent: true,
      temperature: 30,
      smoke: false,
      doorOpen: false,
      fanOn: false,
      powerOn: true,
      ...status,
    },
    ports,
  };
}
const sessions = (...ports: number[]): ActiveSession[] => ports.map((p) => ({ port: p, startedAt: 0 }));

describe('charging safety config', () => {
  it('has the safe defaults', () => {
    expect(cfg).toEqual({
      portMaxTempC: 60,
      portMaxCurrentA: 10,
      cabinetMaxTempC: 55,
      perPortPowerCapW: 600,
      fullPowerW: 10,
      fullForMin: 10,
      maxSessionMin: 480,
      mainsMinV: 180,
      reassertAfterMs: 5000,
      unsupervisedAfterPolls: 3,
      unsupervisedPolicy: 'cut',
    });
    expect(() => ChargingSafetyConfig.parse({ portMaxTempC: 150 })).toThrow();
    expect(() => ChargingSafetyConfig.parse({ bogus: 1 })).toThrow();
  });
});

describe('charging safety rules', () => {
  it('does nothing for a healthy cabinet', () => {
    const s = new SafetyInterlock(cfg);
    expect(s.evaluate(reading([charging(1), port(2)]), sessions(1), 0)).toEqual([]);
    expect(s.evaluate(reading([charging(1), port(2)]), sessions(1), 1000)).toEqual([]);
  });

  it('smoke: cuts the cabinet first, stops every energised or in-session port, raises one critical fire alarm, and stays latched', () => {
    const s = new SafetyInterlock(cfg);
    s.evaluate(reading([charging(1), charging(2), port(3)]), sessions(1, 2), 0);
    const acts = s.evaluate(reading([charging(1), charging(2), port(3)], { smoke: true }), sessions(1, 2), 1000);
    expect(acts).toEqual<SafetyAction[]>([
      { kind: 'cutCabinet', reason: 'smoke' },
      { kind: 'stopPort', port: 1, reason: 'smoke' },
      { kind: 'stopPort', port: 2, reason: 'smoke' },
      { kind: 'raiseAlarm', alarm: 'fire', priority: 'critical', cause: 'smoke', value: 1 },
    ]);
    // Cabinet obeyed: contactor off, ports idle. Nothing repeats, even once the smoke clears.
    const off = reading([port(1), port(2), port(3)], { smoke: true, powerOn: false });
    expect(s.evaluate(off, sessions(1, 2), 2000)).toEqual([]);
    expect(s.evaluate(reading([port(1), port(2), port(3)], { powerOn: false }), [], 60_000)).toEqual([]);
    expect(s.latched()).toBe('smoke');
    // Someone switches the contactor back on while latched: it is cut again.
    expect(s.evaluate(reading([port(1)], { powerOn: true }), [], 61_000)).toEqual([{ kind: 'cutCabinet', reason: 'smoke' }]);
    s.resetCut();
    expect(s.latched()).toBeNull();
    expect(s.evaluate(reading([port(1)]), [], 70_000)).toEqual([]);
  });

  it('cabinet over-temperature: the same cut with cause over_temperature and the reading as value', () => {
    const { actions } = evaluate(initialSafetyState(), undefined, reading([charging(4)], { temperature: 55 }), sessions(4), cfg, 0);
    expect(actions).toEqual([
      { kind: 'cutCabinet', reason: 'over_temperature' },
      { kind: 'stopPort', port: 4, reason: 'over_temperature' },
      { kind: 'raiseAlarm', alarm: 'fire', priority: 'critical', cause: 'over_temperature', value: 55 },
    ]);
    expect(evaluate(initialSafetyState(), undefined, reading([charging(4)], { temperature: 54.9 }), sessions(4), cfg, 0).actions).toEqual(
      [],
    );
  });

  it('re-sends the cut when the contactor is still on after reassertAfterMs, not before', () => {
    const s = new SafetyInterlock(cfg);
    s.evaluate(reading([charging(1)], { smoke: true }), sessions(1), 0);
    const still = reading([charging(1)], { smoke: true });
    expect(s.evaluate(still, sessions(1), 4999)).toEqual([]);
    expect(s.evaluate(still, sessions(1), 5000)).toEqual([
      { kind: 'cutCabinet', reason: 'smoke' },
      { kind: 'stopPort', port: 1, reason: 'smoke' },
    ]);
  });

  it('port over-temperature: stops that port only, one high alarm, restore below the hysteresis', () => {
    const s = new SafetyInterlock(cfg);
    const hot = reading([charging(1, { temperature: 61 }), charging(2)]);
    expect(s.evaluate(hot, sessions(1, 2), 0)).toEqual([
      { kind: 'stopPort', port: 1, reason: 'over_temperature' },
      { kind: 'raiseAlarm', alarm: 'port_over_temperature', priority: 'high', port: 1, value: 61 },
    ]);
    // Stopped but still hot; no repeat. Cooling to 56 is inside the hysteresis: still no restore.
    expect(s.evaluate(reading([port(1, { temperature: 62 }), charging(2)]), sessions(2), 1000)).toEqual([]);
    expect(s.evaluate(reading([port(1, { temperature: 56 }), charging(2)]), sessions(2), 2000)).toEqual([]);
    expect(s.evaluate(reading([port(1, { temperature: 54 }), charging(2)]), sessions(2), 3000)).toEqual([
      { kind: 'restoreAlarm', alarm: 'port_over_temperature', port: 1, value: 54 },
    ]);
    // A new episode later is acted on again.
    expect(s.evaluate(reading([charging(1, { temperature: 60 }), charging(2)]), sessions(1, 2), 4000).map((a) => a.kind)).toEqual([
      'stopPort',
      'raiseAlarm',
    ]);
  });

  it('re-sends a port stop the cabinet ignored, but only after reassertAfterMs', () => {
    const s = new SafetyInterlock(cfg);
    const hot = reading([charging(1, { temperature: 65 })]);
    expect(s.evaluate(hot, sessions(1), 0).map((a) => a.kind)).toEqual(['stopPort', 'raiseAlarm']);
    expect(s.evaluate(hot, sessions(1), 3000)).toEqual([]);
    expect(s.evaluate(hot, sessions(1), 5000)).toEqual([{ kind: 'stopPort', port: 1, reason: 'over_temperature' }]);
  });

  it('over-current: a short acts on one reading, a mild excess needs two polls running (inrush is not a fault)', () => {
    const short = new SafetyInterlock(cfg);
    expect(short.evaluate(reading([charging(1, { current: 16 })]), sessions(1), 0)).toEqual([
      { kind: 'stopPort', port: 1, reason: 'over_current' },
      { kind: 'raiseAlarm', alarm: 'port_over_current', priority: 'high', port: 1, value: 16 },
    ]);

    const mild = new SafetyInterlock(cfg);
    expect(mild.evaluate(reading([charging(1, { current: 11 })]), sessions(1), 0)).toEqual([]);
    expect(mild.evaluate(reading([charging(1, { current: 3 })]), sessions(1), 1000)).toEqual([]);
    expect(mild.evaluate(reading([charging(1, { current: 11 })]), sessions(1), 2000)).toEqual([]);
    expect(mild.evaluate(reading([charging(1, { current: 11.5 })]), sessions(1), 3000).map((a) => a.kind)).toEqual([
      'stopPort',
      'raiseAlarm',
    ]);
    expect(mild.evaluate(reading([port(1)]), [], 4000)).toEqual([{ kind: 'restoreAlarm', alarm: 'port_over_current', port: 1, value: 0 }]);
  });

  it('over-current outranks over-temperature as the stop reason, and a worse cause found later re-stops with it', () => {
    const s = new SafetyInterlock(cfg);
    expect(s.evaluate(reading([charging(1, { temperature: 70, current: 20 })]), sessions(1), 0)[0]).toEqual({
      kind: 'stopPort',
      port: 1,
      reason: 'over_current',
    });
    const t = new SafetyInterlock(cfg);
    t.evaluate(reading([charging(1, { temperature: 61 })]), sessions(1), 0);
    const acts = t.evaluate(reading([charging(1, { temperature: 61 })], { smoke: true }), sessions(1), 500);
    expect(acts.slice(0, 2)).toEqual([
      { kind: 'cutCabinet', reason: 'smoke' },
      { kind: 'stopPort', port: 1, reason: 'smoke' },
    ]);
  });

  it('port fault during a session: stop with reason fault and a high alarm', () => {
    const s = new SafetyInterlock(cfg);
    expect(s.evaluate(reading([port(2, { state: 'fault', faultCode: 17 })]), sessions(2), 0)).toEqual([
      { kind: 'stopPort', port: 2, reason: 'fault' },
      { kind: 'raiseAlarm', alarm: 'port_fault', priority: 'high', port: 2, value: 17 },
    ]);
    expect(s.evaluate(reading([port(2, { state: 'fault', faultCode: 17 })]), sessions(2), 10_000)).toEqual([]);
  });

  it('power above the cap: limits the port to the cap once, again only if still over after the reassert delay', () => {
    const s = new SafetyInterlock(cfg);
    expect(s.evaluate(reading([charging(1, { power: 700, current: 6 })]), sessions(1), 0)).toEqual([
      { kind: 'limitPower', port: 1, powerLimitW: 600 },
    ]);
    expect(s.evaluate(reading([charging(1, { power: 690, current: 6, powerLimit: 600 })]), sessions(1), 2000)).toEqual([]);
    expect(s.evaluate(reading([charging(1, { power: 590, current: 5, powerLimit: 600 })]), sessions(1), 4000)).toEqual([]);
    expect(s.evaluate(reading([charging(1, { power: 650, current: 6, powerLimit: 600 })]), sessions(1), 6000)).toEqual([
      { kind: 'limitPower', port: 1, powerLimitW: 600 },
    ]);
  });

  it('full: power under the threshold for fullForMin while charging stops with reason full; a rise resets the timer', () => {
    const s = new SafetyInterlock(cfg);
    const low = (t: number) => s.evaluate(reading([charging(1, { power: 6, current: 0.1 })]), sessions(1), t);
    expect(low(0)).toEqual([]);
    expect(low(9 * MIN)).toEqual([]);
    expect(s.evaluate(reading([charging(1, { power: 40 })]), sessions(1), 9.5 * MIN)).toEqual([]);
    expect(low(10 * MIN)).toEqual([]);
    expect(low(19.9 * MIN)).toEqual([]);
    expect(low(20 * MIN)).toEqual([{ kind: 'stopPort', port: 1, reason: 'full' }]);
    // The port goes to plugged (stopped): no repeat, no stop without a session.
    expect(s.evaluate(reading([port(1, { state: 'plugged' })]), sessions(1), 21 * MIN)).toEqual([]);
    expect(s.evaluate(reading([port(1, { state: 'plugged' })]), [], 40 * MIN)).toEqual([]);
  });

  it('does not call a port full when it is merely plugged (not charging) with low power', () => {
    const s = new SafetyInterlock(cfg);
    for (let t = 0; t <= 30 * MIN; t += MIN)
      expect(s.evaluate(reading([port(1, { state: 'plugged', power: 0 })]), sessions(1), t)).toEqual([]);
  });

  it('max duration: stops a session at maxSessionMin, counted from its start', () => {
    const s = new SafetyInterlock(cfg);
    const ses = [{ port: 3, startedAt: 1000 }];
    expect(s.evaluate(reading([charging(3)]), ses, 1000 + 480 * MIN - 1)).toEqual([]);
    expect(s.evaluate(reading([charging(3)]), ses, 1000 + 480 * MIN)).toEqual([{ kind: 'stopPort', port: 3, reason: 'max_duration' }]);
    expect(s.evaluate(reading([charging(3)]), ses, 1000 + 480 * MIN + 1000)).toEqual([]);
  });

  it('mains: lost once when under mainsMinV or absent, restored once back above it with hysteresis', () => {
    const s = new SafetyInterlock(cfg);
    expect(s.evaluate(reading([], { mainsVoltage: 170 }), [], 0)).toEqual([{ kind: 'mainsLost', voltage: 170 }]);
    expect(s.evaluate(reading([], { mainsVoltage: 0, mainsPresent: false }), [], 1000)).toEqual([]);
    expect(s.evaluate(reading([], { mainsVoltage: 185 }), [], 2000)).toEqual([]);
    expect(s.evaluate(reading([], { mainsVoltage: 229 }), [], 3000)).toEqual([{ kind: 'mainsRestored', voltage: 229 }]);
    expect(s.evaluate(reading([], { mainsVoltage: 230, mainsPresent: false }), [], 4000)).toEqual([{ kind: 'mainsLost', voltage: 230 }]);
  });

  it('evaluate is pure: the state passed in is not modified', () => {
    const state = initialSafetyState();
    const snapshot = JSON.stringify(state);
    const r = evaluate(state, undefined, reading([charging(1, { temperature: 70 })], { smoke: true }), sessions(1), cfg, 0);
    expect(JSON.stringify(state)).toBe(snapshot);
    expect(r.state.cut).toEqual({ reason: 'smoke', at: 0 });
    // Same input, same answer.
    expect(evaluate(state, undefined, reading([charging(1, { temperature: 70 })], { smoke: true }), sessions(1), cfg, 0)).toEqual(r);
  });
});
