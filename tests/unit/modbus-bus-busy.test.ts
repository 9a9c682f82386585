/**
 * Exception 06 (busy) and the FC 06 -> FC 16 fallback in the bus scheduler, on the in-memory
 * transport and a ManualClock (the wire-level checks are in
 * tests/integration/cabinet-modbus-wire.test.ts): the backoff steps, that busy never makes a
 * unit dead, what happens after the last retry, and that the fallback is remembered per unit.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BUSY_BACKOFF_MS, BUSY_RETRIES, ModbusBus } from '../../drivers/modbus/bus.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { GatehouseError } from '../../gateway/core/errors.js';
import { FakeModbusTransport } from '../helpers/fake-modbus-transport.js';

const log = pino({ level: 'silent' });
const tick = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

async function started() {
  const clock = new ManualClock();
  const transport = new FakeModbusTransport();
  const bus = new ModbusBus({
    transport,
    name: 'line',
    timeoutMs: 100,
    retries: 0,
    deadAfter: 1,
    backoff: { minMs: 1000, maxMs: 8000 },
    clock,
    timers: clock,
    log,
  });
  const offline: number[] = [];
  bus.on('unitOffline', (u) => offline.push(u));
  bus.start();
  await tick();
  return { clock, transport, bus, offline };
}

describe('ModbusBus: exception 06 (busy)', () => {
  it('sends the request again after 50, 100, 200 ms and succeeds; the unit is never dead', async () => {
    const { clock, transport, bus, offline } = await started();
    transport.units.set(1, { kind: 'exception', code: 6 });
    let result: number[] | undefined;
    void bus.read(1, 4, 0, 2).then((v) => (result = v));
    await tick();
    expect(transport.log).toHaveLength(1);
    clock.advance(BUSY_BACKOFF_MS - 1);
    await tick();
    expect(transport.log).toHaveLength(1);
    clock.advance(1);
    await tick();
    expect(transport.log).toHaveLength(2);
    transport.units.set(1, { kind: 'answer' });
    clock.advance(2 * BUSY_BACKOFF_MS);
    await tick();
    expect(transport.log).toHaveLength(3);
    expect(result).toEqual([0, 1]);
    expect(offline).toEqual([]);
    expect(bus.stats().units[0]).toMatchObject({ dead: false, exceptions: 2, consecutiveFailures: 0 });
  });

  it(`fails as DEVICE_REFUSED with modbusCode 6 after ${BUSY_RETRIES} retries, still not dead`, async () => {
    const { clock, transport, bus, offline } = await started();
    transport.units.set(1, { kind: 'exception', code: 6 });
    let error: GatehouseError | undefined;
    void bus.write(1, 100, [1]).catch((e: GatehouseError) => (error = e));
    // Exactly each backoff step: a bigger step would also run the request's own timeout.
    for (let i = 0; i < BUSY_RETRIES; i++) {
      await tick();
      clock.advance(BUSY_BACKOFF_MS * 2 ** i);
    }
    await tick();
    expect(transport.log).toHaveLength(1 + BUSY_RETRIES);
    expect(error?.code).toBe('DEVICE_REFUSED');
    expect(error?.details?.modbusCode).toBe(6);
    expect(offline).toEqual([]);
    expect(bus.isReachable(1)).toBe(true);
  });

  it('a request waiting out a busy unit fails with the bus when it stops', async () => {
    const { transport, bus } = await started();
    transport.units.set(1, { kind: 'exception', code: 6 });
    let error: GatehouseError | undefined;
    void bus.read(1, 4, 0, 1).catch((e: GatehouseError) => (error = e));
    await tick();
    await bus.stop();
    await tick();
    expect(error?.code).toBe('DEVICE_OFFLINE');
  });
});

describe('ModbusBus: FC 06 with fallback to FC 16', () => {
  it('writes FC 06; a unit answering exception 01 gets FC 16 at once and from then on, others keep FC 06', async () => {
    const { transport, bus } = await started();
    await bus.writeSingle(2, 0x1000, 1);
    transport.noFc6.add(1);
    await bus.writeSingle(1, 0x1000, 1);
    await bus.writeSingle(1, 0x1104, 2);
    await bus.writeSingle(2, 0x1104, 2);
    expect(transport.log.map((r) => `${r.unitId}:${r.op}:${r.address.toString(16)}`)).toEqual([
      '2:write1:1000',
      '1:write1:1000',
      '1:write:1000',
      '1:write:1104',
      '2:write1:1104',
    ]);
  });

  it('other exceptions to FC 06 are not a reason to fall back', async () => {
    const { transport, bus } = await started();
    transport.units.set(1, { kind: 'exception', code: 4 });
    await expect(bus.writeSingle(1, 0x1104, 2)).rejects.toMatchObject({ code: 'DEVICE_REFUSED' });
    expect(transport.log.map((r) => r.op)).toEqual(['write1']);
  });
});
