/**
 * How `discover --modbus` classifies what answers at a unit id (drivers/modbus/scan.ts), on
 * an in-memory transport: the cases a simulator on a real line does not produce (a TCP
 * gateway's "target failed to respond", a garbled frame, a newer register map, a line that
 * goes away). The real-line cases are in tests/integration/cli-discover-modbus.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { encodeIdentity } from '../../drivers/cabinet/registers.js';
import { identifyUnit, scanUnits } from '../../drivers/modbus/scan.js';
import { ModbusTransportError, type ModbusTransport } from '../../drivers/modbus/transport.js';

type Handler = (fc: number, address: number, count: number) => number[] | boolean[];

/** Units by id; a handler throws ModbusTransportError to refuse, time out or garble. */
function transport(units: Record<number, Handler>): ModbusTransport & { asked: string[] } {
  const asked: string[] = [];
  const call = async <T>(unitId: number, fc: number, address: number, count: number): Promise<T> => {
    asked.push(`${unitId}:${fc}:${address}:${count}`);
    const h = units[unitId];
    if (!h) throw new ModbusTransportError('timeout', 'Timed out');
    return h(fc, address, count) as T;
  };
  return {
    asked,
    open: async () => undefined,
    close: async () => undefined,
    onClose: () => undefined,
    describe: () => 'memory',
    read: (u, fc, a, c) => call<number[]>(u, fc, a, c),
    readBits: (u, fc, a, c) => call<boolean[]>(u, fc, a, c),
    write: async () => undefined,
    writeSingle: async () => undefined,
    writeCoils: async () => undefined,
  };
}

const exception = (code: number) => () => {
  throw new ModbusTransportError('exception', `Modbus exception ${code}`, code);
};
const identity = (major = 1) =>
  encodeIdentity({ vendor: 'ACME', model: 'EBC-4', serial: 'SN-1', firmware: '1.0', mapVersion: { major, minor: 0 }, portCount: 4 });
const cabinet: Handler = (fc, address, count) => {
  if (fc !== 4) throw new ModbusTransportError('exception', 'x', 1);
  return identity().slice(address, address + count);
};
const opts = { probeTimeoutMs: 50, readTimeoutMs: 100 };

describe('identifyUnit', () => {
  it('takes the gateway exceptions 0x0A/0x0B (nobody behind that id) for no unit, other exceptions for a unit', async () => {
    const t = transport({ 1: exception(0x0b), 2: exception(0x0a), 3: exception(2) });
    expect(await identifyUnit(t, 1, opts)).toBeUndefined();
    expect(await identifyUnit(t, 2, opts)).toBeUndefined();
    expect(await identifyUnit(t, 3, opts)).toMatchObject({ kind: 'other', note: expect.stringMatching(/exception 02/) });
  });

  it('asks again once after a garbled answer, and reports a unit that only garbles as a framing problem', async () => {
    let first = true;
    const t = transport({
      1: (fc, a, c) => {
        if (first) {
          first = false;
          throw new ModbusTransportError('bad_frame', 'CRC error');
        }
        return cabinet(fc, a, c);
      },
      2: () => {
        throw new ModbusTransportError('bad_frame', 'CRC error');
      },
    });
    expect(await identifyUnit(t, 1, opts)).toMatchObject({ kind: 'cabinet', identity: { serial: 'SN-1', portCount: 4 } });
    expect(await identifyUnit(t, 2, opts)).toMatchObject({ kind: 'other', note: expect.stringMatching(/garbled.*--baud and --parity/) });
  });

  it('lists a cabinet with our signature but a register map it cannot read as present, saying why', async () => {
    const t = transport({ 1: (_fc, a, c) => identity(2).slice(a, a + c) });
    expect(await identifyUnit(t, 1, opts)).toMatchObject({
      kind: 'other',
      note: expect.stringMatching(/signature but register map 2\.0 is not supported/),
    });
  });

  it('sizes an input module by its discrete inputs and coils', async () => {
    const t = transport({
      4: (fc, a, c) => {
        if (fc === 4) throw new ModbusTransportError('exception', 'x', 2);
        const size = fc === 2 ? 16 : 8;
        if (a + c > size) throw new ModbusTransportError('exception', 'x', 2);
        return new Array<boolean>(c).fill(false);
      },
    });
    expect(await identifyUnit(t, 4, opts)).toEqual({ unitId: 4, kind: 'input-module', channels: 16, coils: 8 });
  });
});

describe('scanUnits', () => {
  it('stops before the next id when asked to, with what was found so far', async () => {
    const t = transport({ 2: cabinet, 5: cabinet });
    let stop = false;
    const seen: number[] = [];
    const r = await scanUnits(t, {
      ...opts,
      units: [1, 2, 3, 4, 5],
      stopped: () => stop,
      onUnit: (id, _i, unit) => {
        seen.push(id);
        if (unit) stop = true;
      },
    });
    expect(r).toMatchObject({ scanned: 2, interrupted: true });
    expect(r.found.map((u) => u.unitId)).toEqual([2]);
    expect(seen).toEqual([1, 2]);
  });

  it('rejects when the line goes away (nothing more can be read)', async () => {
    const t = transport({
      1: () => {
        throw new ModbusTransportError('closed', 'Port Not Open');
      },
    });
    await expect(scanUnits(t, { ...opts, units: [1, 2] })).rejects.toMatchObject({ kind: 'closed' });
  });
});
