/**
 * The simulated cabinet without a transport: its answers follow the register map (read
 * through the gateway-side codec) and its physics behave like a pack on a CC/CV charger.
 */
import { describe, expect, it } from 'vitest';
import { decodePoll, decodePort, encodeCommand, pollPlan } from '../../drivers/cabinet/registers.js';
import type { CabinetCommand } from '../../drivers/cabinet/types.js';
import type { ModbusResponse } from '../../drivers/modbus/pdu.js';
import { SimCabinet } from '../../sim/cabinet/sim-cabinet.js';

function send(c: SimCabinet, cmd: CabinetCommand): ModbusResponse {
  const [w] = encodeCommand(cmd);
  return w!.fc === 6
    ? c.handle({ fc: 6, address: w!.address, value: w!.values[0]! })
    : c.handle({ fc: 16, address: w!.address, values: w!.values });
}

function poll(c: SimCabinet) {
  const answers = pollPlan(c.ports.length).map((r) => {
    const res = c.handle({ fc: 4, address: r.address, count: r.count });
    if (!('values' in res)) throw new Error(`exception ${JSON.stringify(res)}`);
    return res.values;
  });
  return decodePoll(c.ports.length, answers);
}

const port = (c: SimCabinet, n: number) => {
  const res = c.handle({ fc: 4, address: 0x100 + (n - 1) * 16, count: 16 });
  if (!('values' in res)) throw new Error('exception');
  return decodePort(res.values, n);
};

describe('simulated cabinet', () => {
  it('charges constant-current, then constant-voltage tapering to near zero, integrating energy', () => {
    const c = new SimCabinet({ id: 'c', ports: 2 });
    c.plug(1, { soc: 0.5, capacityWh: 500 });
    expect(send(c, { kind: 'start', port: 1, sessionId: 42, powerLimitW: 0, maxDurationMin: 1440 })).toEqual({
      fc: 16,
      address: 0x1100,
      count: 5,
    });
    c.step(1000);
    const cc = port(c, 1);
    expect(cc).toMatchObject({ state: 'charging', sessionId: 42, current: 3.5 });
    expect(cc.power).toBeGreaterThan(150);
    let prevPower = Infinity;
    let sawFinishing = false;
    for (let minute = 0; minute < 600; minute++) {
      c.step(60_000);
      const r = port(c, 1);
      if (r.state === 'finishing') {
        sawFinishing = true;
        expect(r.voltage).toBe(54.6);
        expect(r.power).toBeLessThanOrEqual(prevPower);
        prevPower = r.power;
      }
    }
    const end = port(c, 1);
    expect(sawFinishing).toBe(true);
    expect(end.state).toBe('finishing');
    expect(end.power).toBeLessThanOrEqual(2);
    // Half a 500 Wh pack went in (plus the trickle), and the meter counted it.
    expect(end.energyWh).toBeGreaterThan(240);
    expect(end.energyWh).toBeLessThan(300);
    expect(end.temperature).toBeLessThan(21);
  });

  it('port temperature follows power; the power limit caps the current', () => {
    const c = new SimCabinet({ id: 'c', ports: 1, ambientC: 10 });
    c.plug(1, { soc: 0.1 });
    send(c, { kind: 'start', port: 1, sessionId: 1, powerLimitW: 100, maxDurationMin: 60 });
    for (let i = 0; i < 20; i++) c.step(60_000);
    const r = port(c, 1);
    expect(r.power).toBeLessThanOrEqual(100);
    expect(r.powerLimit).toBe(100);
    expect(r.temperature).toBeGreaterThan(12);
    expect(r.temperature).toBeLessThan(14);
    // The session ran for its 60 minutes and the cabinet ended it.
    for (let i = 0; i < 41; i++) c.step(60_000);
    expect(port(c, 1)).toMatchObject({ state: 'plugged', sessionId: 0, power: 0 });
  });

  it('refuses commands in the wrong state with exception 04, bad values with 03, bad addresses with 02', () => {
    const c = new SimCabinet({ id: 'c', ports: 2 });
    expect(send(c, { kind: 'start', port: 1, sessionId: 1, powerLimitW: 0, maxDurationMin: 60 })).toEqual({ fc: 16, exception: 4 });
    expect(send(c, { kind: 'setLimit', port: 1, powerLimitW: 10 })).toEqual({ fc: 16, exception: 4 });
    expect(send(c, { kind: 'stop', port: 1 })).toEqual({ fc: 6, address: 0x1104, value: 2 });
    c.plug(1);
    expect(c.handle({ fc: 16, address: 0x1100, values: [0, 0, 0, 60, 1] })).toEqual({ fc: 16, exception: 3 });
    expect(c.handle({ fc: 6, address: 0x1104, value: 77 })).toEqual({ fc: 6, exception: 3 });
    expect(c.handle({ fc: 4, address: 0x0120, count: 16 })).toEqual({ fc: 4, exception: 2 }); // port 3 of a 2-port cabinet
    expect(c.handle({ fc: 4, address: 0x0020, count: 1 })).toEqual({ fc: 4, exception: 2 });
    expect(c.handle({ fc: 6, address: 0x0100, value: 1 })).toEqual({ fc: 6, exception: 2 });
    expect(c.handle({ fc: 6, address: 0x1105, value: 1 })).toEqual({ fc: 6, exception: 2 });
    send(c, { kind: 'start', port: 1, sessionId: 9, powerLimitW: 0, maxDurationMin: 60 });
    expect(send(c, { kind: 'enable', port: 1, enabled: false })).toEqual({ fc: 6, exception: 4 });
    // Stop and the cabinet power cut are never refused.
    send(c, { kind: 'cabinetPower', on: false });
    expect(poll(c).status.powerOn).toBe(false);
    expect(poll(c).ports[0]).toMatchObject({ state: 'plugged', sessionId: 0 });
    expect(send(c, { kind: 'start', port: 1, sessionId: 9, powerLimitW: 0, maxDurationMin: 60 })).toEqual({ fc: 16, exception: 4 });
    // FC 03 reads back the staged parameters, the command register reads 0.
    expect(c.handle({ fc: 3, address: 0x1100, count: 5 })).toEqual({ fc: 3, values: [0, 9, 0, 60, 0] });
  });

  it('faults: unplug mid-session, short, overheating, smoke, mains loss, disable/enable', () => {
    const c = new SimCabinet({ id: 'c', ports: 3 });
    for (const p of [1, 2, 3]) {
      c.plug(p);
      send(c, { kind: 'start', port: p, sessionId: p, powerLimitW: 0, maxDurationMin: 60 });
    }
    c.unplug(1);
    c.port(2).shorted = true;
    c.port(3).overheatC = 70;
    c.smoke = true;
    c.step(600_000);
    const { status, ports } = poll(c);
    expect(ports[0]).toMatchObject({ state: 'available', sessionId: 0 });
    expect(ports[1]!.current).toBe(25);
    expect(ports[2]!.temperature).toBeGreaterThan(60);
    expect(status).toMatchObject({ smoke: true, fanOn: true, powerOn: true });
    c.setMains(false);
    expect(poll(c).ports[2]).toMatchObject({ state: 'fault', faultCode: 6 });
    expect(poll(c).status).toMatchObject({ mainsPresent: false, mainsVoltage: 0 });
    c.setMains(true);
    expect(poll(c).ports[2]).toMatchObject({ state: 'plugged', faultCode: 0 });
    expect(send(c, { kind: 'enable', port: 3, enabled: false })).toMatchObject({ fc: 6 });
    expect(poll(c).ports[2]!.state).toBe('disabled');
    send(c, { kind: 'enable', port: 3, enabled: true });
    expect(poll(c).ports[2]!.state).toBe('plugged');
  });
});
