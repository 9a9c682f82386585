/**
 * The bus on a real serial line: a socat pseudo-terminal pair with a modbus-serial
 * ServerSerial on the far end. Killing socat is what unplugging a USB-RS485 adapter looks
 * like to the gateway (the tty goes away under an open port); starting it again on the
 * same paths is plugging it back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ModbusSerial from 'modbus-serial';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ModbusBus } from '../../drivers/modbus/bus.js';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import type { GatehouseError } from '../../gateway/core/errors.js';
import { createPtyPair, type PtyPair } from '../helpers/pty.js';
import { waitFor } from '../helpers/wait.js';

const { ServerSerial } = ModbusSerial;
type Server = InstanceType<typeof ServerSerial>;
const log = pino({ level: 'silent' });

function startServer(path: string): Promise<Server> {
  const server = new ServerSerial(
    {
      getHoldingRegister: (addr: number, unit: number) => unit * 1000 + addr,
      getMultipleHoldingRegisters: (addr: number, len: number, unit: number) =>
        Array.from({ length: len }, (_, i) => unit * 1000 + addr + i),
    },
    { path, baudRate: 115200, unitID: 5 },
  );
  return new Promise((resolve, reject) => {
    server.on('initialized', () => resolve(server));
    server.on('error', reject);
  });
}
const closeServer = (s: Server) =>
  new Promise<void>((r) => {
    try {
      s.close(() => r());
    } catch {
      r();
    }
    setTimeout(r, 500);
  });

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

describe('ModbusBus over a real serial line (pty)', () => {
  it('survives the adapter being unplugged and plugged back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-rtu-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    let pty: PtyPair = await createPtyPair({ dir });
    let server = await startServer(pty.b);
    const bus = new ModbusBus({
      transport: { kind: 'rtu', path: pty.a, baudRate: 115200 },
      timeoutMs: 300,
      retries: 1,
      deadAfter: 3,
      backoff: { minMs: 100, maxMs: 400 },
      clock: systemClock({ forceState: 'synced' }),
      timers: realTimers,
      log,
    });
    cleanup.push(async () => {
      await bus.stop();
      await closeServer(server);
      await pty.stop();
    });
    const events: string[] = [];
    bus.on('busDown', () => events.push('down'));
    bus.on('busUp', () => events.push('up'));
    bus.start();
    await waitFor(() => bus.isUp(), 'serial bus up', 5000);
    expect(await bus.read(5, 3, 10, 2)).toEqual([5010, 5011]);

    // Unplug: the tty disappears under the open port.
    await closeServer(server);
    await pty.stop();
    await waitFor(
      () => events.includes('down'),
      'bus down after the tty went away',
      5000,
      () => bus.stats(),
    );
    const err = await bus.read(5, 3, 10, 2).catch((e: GatehouseError) => e);
    expect(err).toMatchObject({ code: 'DEVICE_OFFLINE', details: { reason: 'bus_down' } });
    await new Promise((r) => setTimeout(r, 300)); // a few refused reopens

    // Plug back on the same device path.
    pty = await createPtyPair({ dir });
    server = await startServer(pty.b);
    await waitFor(
      () => bus.isUp(),
      'serial bus up again',
      5000,
      () => bus.stats(),
    );
    expect(await bus.read(5, 3, 20, 2)).toEqual([5020, 5021]);
    expect(bus.stats().reconnects).toBe(1);
  });
});
