/**
 * The bit function codes through the real stack: ModbusBus → modbus-serial transport →
 * Modbus TCP → the simulated input module (our own codec on the server side). Reads coils
 * (01) and discrete inputs (02), writes one coil (05) and several (15), and an exception
 * for an address the module does not have.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModbusBus } from '../../drivers/modbus/bus.js';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import { startSimulatedInputModules, type SimulatedInputModules } from '../../sim/perimeter/index.js';
import { waitFor } from '../helpers/wait.js';

describe('Modbus bit function codes end to end (TCP)', () => {
  let sims: SimulatedInputModules;
  let bus: ModbusBus;

  beforeAll(async () => {
    sims = await startSimulatedInputModules({ tcp: [{ id: 'm', channels: 16, port: 0, coils: 10 }] });
    bus = new ModbusBus({
      transport: { kind: 'tcp', host: '127.0.0.1', port: sims.tcpPort('m') },
      clock: systemClock(),
      timers: realTimers,
      log: silentLogger(),
      timeoutMs: 500,
    });
    bus.start();
    await waitFor(() => bus.isUp(), 'bus up');
  });

  afterAll(async () => {
    await bus?.stop();
    await sims?.stop();
  });

  it('FC 02 reads exactly the inputs asked for, channel 0 first', async () => {
    const m = sims.module('m');
    m.setInput(0, true);
    m.setInput(9, true);
    m.setInput(15, true);
    expect(await bus.readBits(1, 2, 0, 16)).toEqual([
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      true,
      false,
      false,
      false,
      false,
      false,
      true,
    ]);
    expect(await bus.readBits(1, 2, 9, 3)).toEqual([true, false, false]);
  });

  it('FC 05 writes one coil, FC 15 several, FC 01 reads them back', async () => {
    await bus.writeCoils(1, 3, [true]);
    expect(sims.coil('m', 3)).toBe(true);
    await bus.writeCoils(1, 0, [true, false, true, true, false, false, true, true, true, false]);
    expect(sims.module('m').coils).toEqual([true, false, true, true, false, false, true, true, true, false]);
    expect(await bus.readBits(1, 1, 0, 10)).toEqual([true, false, true, true, false, false, true, true, true, false]);
    expect(sims.module('m').coilLog.slice(0, 1)).toEqual([expect.objectContaining({ index: 3, on: true })]);
  });

  it('an address the module does not have is a Modbus exception: DEVICE_REFUSED, the unit stays online', async () => {
    await expect(bus.readBits(1, 2, 10, 8)).rejects.toMatchObject({ code: 'DEVICE_REFUSED', details: { modbusCode: 2 } });
    await expect(bus.writeCoils(1, 20, [true])).rejects.toMatchObject({ code: 'DEVICE_REFUSED' });
    expect(bus.isReachable(1)).toBe(true);
  });

  it('requests outside the spec limits are refused before the wire', async () => {
    await expect(bus.readBits(1, 2, 0, 2001)).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(bus.writeCoils(1, 0, [])).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});
