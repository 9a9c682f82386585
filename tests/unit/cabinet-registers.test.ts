/**
 * The cabinet codec against register words written out by hand from
 * docs/cabinet-register-map.md (section 7 and the tables), not produced by our encoder;
 * then round trips through the cabinet-side encoder for the rest of the value space.
 */
import { describe, expect, it } from 'vitest';
import { isGatehouseError } from '../../gateway/core/errors.js';
import {
  decodeIdentity,
  decodePoll,
  decodePort,
  decodePortControl,
  decodeStatus,
  encodeCommand,
  encodeIdentity,
  encodePort,
  encodeStatus,
  identityRead,
  pollPlan,
  decodeCabinetControl,
} from '../../drivers/cabinet/registers.js';
import type { CabinetCommand } from '../../drivers/cabinet/types.js';

const hex = (s: string): number[] =>
  s
    .trim()
    .split(/\s+/)
    .map((h) => parseInt(h, 16));

function expectCode(fn: () => unknown, code: 'DEVICE_PROTOCOL' | 'CMD_INVALID'): void {
  try {
    fn();
  } catch (err) {
    expect(isGatehouseError(err, code), String(err)).toBe(true);
    return;
  }
  throw new Error(`expected ${code}`);
}

const PORT3 = hex('0002 0222 0140 00AF 0001 1170 013B 1234 5678 0000 0190 0000 0000 0000 0000 0000');
const CAB = hex('0900 0001 FFC9 0000 0000 0001 0001 0001 86A0 0000 0000 0000 0000 0000 0000 0000');
// "GC", 1.0, 12 ports, "ACME", "EBC-12", "SN0001", "2.4.1"
const IDENT = hex(`
  4743 0001 0000 000C
  4143 4D45 0000 0000 0000 0000 0000 0000
  4542 432D 3132 0000 0000 0000 0000 0000
  534E 3030 3031 0000 0000 0000 0000 0000
  322E 342E 3100 0000`);

describe('decoding the doc examples', () => {
  it('port block (section 7)', () => {
    expect(decodePort(PORT3, 3)).toEqual({
      port: 3,
      state: 'charging',
      voltage: 54.6,
      current: 3.2,
      power: 175,
      energyWh: 70_000,
      temperature: 31.5,
      sessionId: 0x12345678,
      faultCode: 0,
      powerLimit: 400,
    });
  });

  it('cabinet block with a negative temperature and a 32-bit uptime', () => {
    expect(decodeStatus(CAB)).toEqual({
      mainsVoltage: 230.4,
      mainsPresent: true,
      temperature: -5.5,
      smoke: false,
      doorOpen: false,
      fanOn: true,
      powerOn: true,
      uptimeS: 100_000,
    });
  });

  it('identity block: ASCII high byte first, NUL padded', () => {
    expect(decodeIdentity(IDENT)).toEqual({
      vendor: 'ACME',
      model: 'EBC-12',
      serial: 'SN0001',
      firmware: '2.4.1',
      mapVersion: { major: 1, minor: 0 },
      portCount: 12,
    });
    expect(identityRead()).toEqual({ fc: 4, address: 0, count: 32 });
  });

  it('every state code of the table', () => {
    const states = ['available', 'plugged', 'charging', 'finishing', 'fault', 'disabled'];
    states.forEach((s, code) => expect(decodePort([code, ...PORT3.slice(1)], 1).state).toBe(s));
  });
});

describe('refusing what is outside the map', () => {
  it('unknown state code, non-boolean flag, wrong length, non-words', () => {
    expectCode(() => decodePort([6, ...PORT3.slice(1)], 3), 'DEVICE_PROTOCOL');
    expectCode(() => decodeStatus([...CAB.slice(0, 3), 7, ...CAB.slice(4)]), 'DEVICE_PROTOCOL');
    expectCode(() => decodePort(PORT3.slice(0, 15), 3), 'DEVICE_PROTOCOL');
    expectCode(() => decodePort([...PORT3.slice(0, 15), 0x10000], 3), 'DEVICE_PROTOCOL');
    expectCode(() => decodePort(PORT3, 25), 'DEVICE_PROTOCOL');
  });

  it('wrong signature, unknown major, bad port count, garbage text', () => {
    expectCode(() => decodeIdentity([0x4744, ...IDENT.slice(1)]), 'DEVICE_PROTOCOL');
    expectCode(() => decodeIdentity([IDENT[0]!, 2, ...IDENT.slice(2)]), 'DEVICE_PROTOCOL');
    expectCode(() => decodeIdentity([...IDENT.slice(0, 3), 25, ...IDENT.slice(4)]), 'DEVICE_PROTOCOL');
    expectCode(() => decodeIdentity([...IDENT.slice(0, 3), 0, ...IDENT.slice(4)]), 'DEVICE_PROTOCOL');
    const bad = [...IDENT];
    bad[4] = 0x4101; // control character
    expectCode(() => decodeIdentity(bad), 'DEVICE_PROTOCOL');
    const afterNul = [...IDENT];
    afterNul[5] = 0x4d00; // "ACM" then NUL...
    afterNul[6] = 0x4141; // ...then text again: not padding
    expectCode(() => decodeIdentity(afterNul), 'DEVICE_PROTOCOL');
  });

  it('a newer minor version is accepted', () => {
    expect(decodeIdentity([IDENT[0]!, 1, 7, ...IDENT.slice(3)]).mapVersion).toEqual({ major: 1, minor: 7 });
  });
});

describe('poll plan (section 6)', () => {
  it('12 ports: 2 reads; 24 ports: 4 reads; never more than 125 registers', () => {
    expect(pollPlan(12)).toEqual([
      { fc: 4, address: 0x00f0, count: 112 },
      { fc: 4, address: 0x0160, count: 96 },
    ]);
    expect(pollPlan(24)).toEqual([
      { fc: 4, address: 0x00f0, count: 112 },
      { fc: 4, address: 0x0160, count: 112 },
      { fc: 4, address: 0x01d0, count: 112 },
      { fc: 4, address: 0x0240, count: 64 },
    ]);
    expect(pollPlan(1)).toEqual([{ fc: 4, address: 0x00f0, count: 32 }]);
    for (let n = 1; n <= 24; n++) {
      const plan = pollPlan(n);
      expect(plan.reduce((s, r) => s + r.count, 0)).toBe(16 * (n + 1));
      for (const r of plan) expect(r.count).toBeLessThanOrEqual(125);
    }
    expectCode(() => pollPlan(0), 'CMD_INVALID');
    expectCode(() => pollPlan(25), 'CMD_INVALID');
  });

  it('decodePoll splits the answers into the cabinet and its ports', () => {
    // 3-port cabinet: one read of 64 registers = cabinet + ports 1..3, port 3 from the doc.
    const idle = hex('0000 0000 0000 0000 0000 0000 00C8 0000 0000 0000 0000 0000 0000 0000 0000 0000');
    const answer = [...CAB, ...idle, ...idle, ...PORT3];
    const { status, ports } = decodePoll(3, [answer]);
    expect(status.mainsVoltage).toBe(230.4);
    expect(ports.map((p) => p.state)).toEqual(['available', 'available', 'charging']);
    expect(ports[0]!.temperature).toBe(20);
    expect(ports[2]!.sessionId).toBe(0x12345678);
    expectCode(() => decodePoll(3, [answer.slice(1)]), 'DEVICE_PROTOCOL');
    expectCode(() => decodePoll(3, []), 'DEVICE_PROTOCOL');
  });
});

describe('commands (section 7)', () => {
  it('encode to the exact writes of the doc', () => {
    expect(encodeCommand({ kind: 'start', port: 3, sessionId: 0x12345678, powerLimitW: 400, maxDurationMin: 480 })).toEqual([
      { fc: 16, address: 0x1110, values: hex('1234 5678 0190 01E0 0001') },
    ]);
    expect(encodeCommand({ kind: 'stop', port: 3 })).toEqual([{ fc: 6, address: 0x1114, values: [2] }]);
    expect(encodeCommand({ kind: 'setLimit', port: 3, powerLimitW: 250 })).toEqual([
      { fc: 16, address: 0x1112, values: hex('00FA 0000 0003') },
    ]);
    expect(encodeCommand({ kind: 'enable', port: 24, enabled: false })).toEqual([{ fc: 6, address: 0x11bc, values: [5] }]);
    expect(encodeCommand({ kind: 'enable', port: 1, enabled: true })).toEqual([{ fc: 6, address: 0x1104, values: [4] }]);
    expect(encodeCommand({ kind: 'cabinetPower', on: false })).toEqual([{ fc: 6, address: 0x1000, values: [1] }]);
    expect(encodeCommand({ kind: 'cabinetPower', on: true })).toEqual([{ fc: 6, address: 0x1000, values: [2] }]);
  });

  it('refuse values the map cannot carry', () => {
    const start = { kind: 'start', port: 1, sessionId: 1, powerLimitW: 100, maxDurationMin: 60 } as const;
    expectCode(() => encodeCommand({ ...start, sessionId: 0 }), 'CMD_INVALID');
    expectCode(() => encodeCommand({ ...start, sessionId: 2 ** 32 }), 'CMD_INVALID');
    expectCode(() => encodeCommand({ ...start, sessionId: 1.5 }), 'CMD_INVALID');
    expectCode(() => encodeCommand({ ...start, powerLimitW: 70_000 }), 'CMD_INVALID');
    expectCode(() => encodeCommand({ ...start, powerLimitW: -1 }), 'CMD_INVALID');
    expectCode(() => encodeCommand({ ...start, maxDurationMin: 0 }), 'CMD_INVALID');
    expectCode(() => encodeCommand({ ...start, maxDurationMin: 1441 }), 'CMD_INVALID');
    expectCode(() => encodeCommand({ ...start, port: 0 }), 'CMD_INVALID');
    expectCode(() => encodeCommand({ ...start, port: 13 }, 12), 'CMD_INVALID');
    expectCode(() => encodeCommand({ kind: 'setLimit', port: 1, powerLimitW: NaN }), 'CMD_INVALID');
  });

  it('round trip: what the gateway writes is what the cabinet executes', () => {
    const cmds: CabinetCommand[] = [
      { kind: 'start', port: 7, sessionId: 0xffffffff, powerLimitW: 0, maxDurationMin: 1440 },
      { kind: 'start', port: 24, sessionId: 1, powerLimitW: 65535, maxDurationMin: 1 },
      { kind: 'stop', port: 2 },
      { kind: 'setLimit', port: 12, powerLimitW: 333 },
      { kind: 'enable', port: 5, enabled: true },
      { kind: 'enable', port: 5, enabled: false },
    ];
    for (const cmd of cmds) {
      const [w] = encodeCommand(cmd);
      const port = (cmd as { port: number }).port;
      const block = new Array<number>(8).fill(0);
      w!.values.forEach((v, i) => (block[w!.address - (0x1100 + (port - 1) * 8) + i] = v));
      expect(decodePortControl(port, block)).toEqual({ ok: true, command: cmd });
    }
    expect(decodeCabinetControl(1)).toEqual({ ok: true, command: { kind: 'cabinetPower', on: false } });
    expect(decodeCabinetControl(9)).toMatchObject({ ok: false, exception: 3 });
    expect(decodePortControl(1, [0, 0, 0, 60, 1, 0, 0, 0])).toMatchObject({ ok: false, exception: 3 });
    expect(decodePortControl(1, [0, 1, 0, 0, 1, 0, 0, 0])).toMatchObject({ ok: false, exception: 3 });
    expect(decodePortControl(1, [0, 0, 0, 0, 9, 0, 0, 0])).toMatchObject({ ok: false, exception: 3 });
  });

  it('round trip: readings encoded by the cabinet side decode to the same values', () => {
    expect(encodePort(decodePort(PORT3, 3))).toEqual(PORT3);
    expect(encodeStatus(decodeStatus(CAB))).toEqual(CAB);
    expect(encodeIdentity(decodeIdentity(IDENT))).toEqual(IDENT);
    const r = {
      port: 9,
      state: 'fault' as const,
      voltage: 0,
      current: 0,
      power: 0,
      energyWh: 4_000_000_000,
      temperature: -40,
      sessionId: 0,
      faultCode: 0x8001,
      powerLimit: 0,
    };
    expect(decodePort(encodePort(r), 9)).toEqual(r);
    // Measurements saturate instead of wrapping.
    expect(decodePort(encodePort({ ...r, voltage: 9999, current: 1000, temperature: 5000 }), 9)).toMatchObject({
      voltage: 6553.5,
      current: 655.35,
      temperature: 3276.7,
    });
  });
});
