/** The `cabinets` and `charging` sections of the compound file: defaults and the id checks. */
import { describe, expect, it } from 'vitest';
import { CompoundConfig, cabinetBusKey } from '../../config/schema.js';

const base = { compound: { id: 'maple-court' }, gateway: { id: 'gw-1' } };
const tcp = (port: number) => ({ tcp: { host: '10.0.0.5', port } });

describe('cabinet config', () => {
  it('has safe defaults', () => {
    const cfg = CompoundConfig.parse({ ...base, cabinets: [{ id: 'cab-1', bus: { rtu: { path: '/dev/ttyUSB0' } }, ports: 12 }] });
    expect(cfg.cabinets[0]).toEqual({
      id: 'cab-1',
      bus: { rtu: { path: '/dev/ttyUSB0', baudRate: 115_200, parity: 'none', stopBits: 1 } },
      unitId: 1,
      ports: 12,
      pollMs: 1000,
    });
    expect(cfg.charging.meterIntervalMs).toBe(60_000);
    expect(cfg.charging.safety).toMatchObject({ portMaxTempC: 60, cabinetMaxTempC: 55, maxSessionMin: 480 });
    expect(CompoundConfig.parse(base).cabinets).toEqual([]);
  });

  it('shares one bus between cabinets on the same line or endpoint', () => {
    expect(cabinetBusKey({ rtu: { path: '/dev/ttyUSB0', baudRate: 9600, parity: 'none', stopBits: 1 } })).toBe('rtu:/dev/ttyUSB0');
    expect(cabinetBusKey(tcp(502))).toBe('tcp:10.0.0.5:502');
  });

  it('refuses a cabinet id used twice, or by a lock, and a unit id used twice on one bus', () => {
    const dup = CompoundConfig.safeParse({
      ...base,
      cabinets: [
        { id: 'cab-1', bus: tcp(502), ports: 4 },
        { id: 'cab-1', bus: tcp(503), ports: 4 },
      ],
    });
    expect(dup.success).toBe(false);
    expect(dup.error!.issues[0]!.message).toMatch(/duplicate device id "cab-1" \(also cabinets\[0\]\)/);
    const withLock = CompoundConfig.safeParse({ ...base, locks: [{ id: 'x' }], cabinets: [{ id: 'x', bus: tcp(502), ports: 4 }] });
    expect(withLock.error!.issues[0]!.message).toMatch(/also locks\[0\]/);
    const unit = CompoundConfig.safeParse({
      ...base,
      cabinets: [
        { id: 'a', bus: tcp(502), ports: 4, unitId: 3 },
        { id: 'b', bus: tcp(502), ports: 4, unitId: 3 },
      ],
    });
    expect(unit.error!.issues[0]!.path).toEqual(['cabinets', 1, 'unitId']);
    expect(
      CompoundConfig.safeParse({
        ...base,
        cabinets: [{ id: 'a', bus: { tcp: { host: 'h', port: 502 }, rtu: { path: '/dev/x' } }, ports: 4 }],
      }).success,
    ).toBe(false);
  });

  it('takes parity and stop bits per RTU line (8N1, 8E1, 8O1, 8N2) and refuses other framings', () => {
    const rtu = (extra: Record<string, unknown>, path = '/dev/ttyUSB0') => ({ rtu: { path, ...extra } });
    const ok = (extra: Record<string, unknown>) =>
      CompoundConfig.safeParse({ ...base, cabinets: [{ id: 'c', bus: rtu(extra), ports: 4 }] });
    for (const [parity, stopBits] of [
      ['none', 1],
      ['even', 1],
      ['odd', 1],
      ['none', 2],
    ] as const) {
      const r = ok({ parity, stopBits });
      expect(r.success, `${parity}/${stopBits}`).toBe(true);
      expect(r.data!.cabinets[0]!.bus).toEqual({ rtu: { path: '/dev/ttyUSB0', baudRate: 115_200, parity, stopBits } });
    }
    expect(ok({ parity: 'even', stopBits: 2 }).error!.issues[0]!.message).toMatch(/not a Modbus framing; use one of 8N1, 8E1, 8O1, 8N2/);
    expect(ok({ parity: 'mark' }).success).toBe(false);
    expect(ok({ stopBits: 1.5 }).success).toBe(false);
  });

  it('refuses devices on one line with different baud rates or framings', () => {
    const mixed = CompoundConfig.safeParse({
      ...base,
      cabinets: [
        { id: 'a', bus: { rtu: { path: '/dev/ttyUSB0', parity: 'even' } }, ports: 4, unitId: 1 },
        { id: 'b', bus: { rtu: { path: '/dev/ttyUSB0' } }, ports: 4, unitId: 2 },
      ],
    });
    expect(mixed.success).toBe(false);
    expect(mixed.error!.issues[0]!.message).toMatch(/\/dev\/ttyUSB0 is opened at 115200 8E1 for cabinets\[0\].*here 115200 8N1/);
    expect(mixed.error!.issues[0]!.path).toEqual(['cabinets', 1, 'bus', 'rtu']);
    const same = CompoundConfig.safeParse({
      ...base,
      cabinets: [
        { id: 'a', bus: { rtu: { path: '/dev/ttyUSB0', parity: 'even' } }, ports: 4, unitId: 1 },
        { id: 'b', bus: { rtu: { path: '/dev/ttyUSB0', parity: 'even' } }, ports: 4, unitId: 2 },
      ],
    });
    expect(same.success).toBe(true);
  });
});
