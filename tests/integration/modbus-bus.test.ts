/**
 * The bus on a real modbus-serial client against a real modbus-serial ServerTCP on
 * loopback: several unit ids behind one endpoint with one of them silent, and the device
 * "rebooting" (server closed, connections dropped, started again on the same port).
 */
import { createServer } from 'node:net';
import ModbusSerial from 'modbus-serial';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ModbusBus } from '../../drivers/modbus/bus.js';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import { GatehouseError } from '../../gateway/core/errors.js';
import { waitFor } from '../helpers/wait.js';

const { ServerTCP } = ModbusSerial;
type Server = InstanceType<typeof ServerTCP>;
const log = pino({ level: 'silent' });

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Units 1..n answer with address+unit*1000; `silent` units never call back. */
function startServer(port: number, silent: Set<number>, memory: Map<string, number>): Promise<Server> {
  const value = (unit: number, addr: number) => memory.get(`${unit}:${addr}`) ?? unit * 1000 + addr;
  const server = new ServerTCP(
    {
      getHoldingRegister: (addr: number, unit: number, cb: (e: Error | null, v: number) => void) => {
        if (!silent.has(unit)) cb(null, value(unit, addr));
      },
      getMultipleHoldingRegisters: (addr: number, len: number, unit: number, cb: (e: Error | null, v: number[]) => void) => {
        if (!silent.has(unit))
          cb(
            null,
            Array.from({ length: len }, (_, i) => value(unit, addr + i)),
          );
      },
      setRegisterArray: (addr: number, values: number[], unit: number, cb: (e: Error | null) => void) => {
        if (silent.has(unit)) return;
        values.forEach((v, i) => memory.set(`${unit}:${addr + i}`, v));
        cb(null);
      },
    },
    { host: '127.0.0.1', port },
  );
  return new Promise((resolve, reject) => {
    server.on('initialized', () => resolve(server));
    server.on('serverError', reject);
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

describe('ModbusBus over real Modbus TCP', () => {
  it('reads and writes several units on one endpoint, isolates a silent one, and the others keep answering', async () => {
    const port = await freePort();
    const silent = new Set([3]);
    const server = await startServer(port, silent, new Map());
    cleanup.push(() => closeServer(server));
    const bus = new ModbusBus({
      transport: { kind: 'tcp', host: '127.0.0.1', port },
      timeoutMs: 150,
      retries: 1,
      deadAfter: 2,
      backoff: { minMs: 400, maxMs: 1600 },
      clock: systemClock({ forceState: 'synced' }),
      timers: realTimers,
      log,
    });
    cleanup.push(() => bus.stop());
    const offline: [number, string][] = [];
    const online: number[] = [];
    bus.on('unitOffline', (u, r) => offline.push([u, r]));
    bus.on('unitOnline', (u) => online.push(u));
    bus.start();
    await waitFor(() => bus.isUp(), 'bus up', 5000);

    expect(await bus.read(1, 3, 10, 3)).toEqual([1010, 1011, 1012]);
    await bus.write(2, 100, [7, 8]);
    expect(await bus.read(2, 3, 99, 3)).toEqual([2099, 7, 8]);

    const err = await bus.read(3, 3, 0, 2).catch((e: GatehouseError) => e);
    expect(err).toMatchObject({ code: 'DEVICE_OFFLINE', details: { reason: 'unit_dead' } });
    expect(offline).toEqual([[3, 'timeout']]);

    // While unit 3 is dead, a poll cycle of the healthy units is not slowed by it.
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) {
      const results = await Promise.allSettled([bus.read(1, 3, 0, 2), bus.read(2, 3, 0, 2), bus.read(3, 3, 0, 2)]);
      expect(results[0]!.status).toBe('fulfilled');
      expect(results[1]!.status).toBe('fulfilled');
    }
    const elapsed = performance.now() - t0;
    // 20 cycles; at most a couple of 150 ms probes may land in them.
    expect(elapsed).toBeLessThan(1500);
    const u3 = bus.stats().units.find((u) => u.unitId === 3)!;
    expect(u3.dead).toBe(true);

    // The unit comes back: a probe finds it and it is online again.
    silent.delete(3);
    await waitFor(
      () => {
        void bus.read(3, 3, 0, 2).catch(() => undefined);
        return online.includes(3);
      },
      'unit 3 back online',
      5000,
    );
    expect(await bus.read(3, 3, 5, 2)).toEqual([3005, 3006]);
  });

  it('survives the TCP device rebooting: fails fast while it is gone and reconnects on its own', async () => {
    const port = await freePort();
    const memory = new Map<string, number>();
    let server = await startServer(port, new Set(), memory);
    const bus = new ModbusBus({
      transport: { kind: 'tcp', host: '127.0.0.1', port },
      timeoutMs: 300,
      retries: 0,
      deadAfter: 3,
      backoff: { minMs: 100, maxMs: 400 },
      clock: systemClock({ forceState: 'synced' }),
      timers: realTimers,
      log,
    });
    cleanup.push(() => bus.stop());
    const events: string[] = [];
    bus.on('busDown', () => events.push('down'));
    bus.on('busUp', () => events.push('up'));
    bus.on('unitOffline', (u, r) => events.push(`offline:${u}:${r}`));
    bus.on('unitOnline', (u) => events.push(`online:${u}`));
    bus.start();
    await waitFor(() => bus.isUp(), 'bus up', 5000);
    expect(await bus.read(1, 3, 0, 2)).toEqual([1000, 1001]);

    await closeServer(server);
    await waitFor(() => events.includes('down'), 'bus down after the device went away', 5000);
    const t0 = performance.now();
    const err = await bus.read(1, 3, 0, 2).catch((e: GatehouseError) => e);
    expect(err).toMatchObject({ code: 'DEVICE_OFFLINE', details: { reason: 'bus_down' } });
    expect(performance.now() - t0).toBeLessThan(50);

    // Several refused reconnects, then the device is back on the same port.
    await new Promise((r) => setTimeout(r, 500));
    server = await startServer(port, new Set(), memory);
    cleanup.push(() => closeServer(server));
    await waitFor(() => bus.isUp(), 'bus up again', 5000);
    expect(await bus.read(1, 3, 0, 2)).toEqual([1000, 1001]);
    expect(events).toEqual(['up', 'online:1', 'offline:1:bus_down', 'down', 'up', 'online:1']);
    expect(bus.stats().reconnects).toBe(1);
  });

  it('keeps retrying when nothing listens at start', async () => {
    const port = await freePort();
    const bus = new ModbusBus({
      transport: { kind: 'tcp', host: '127.0.0.1', port },
      timeoutMs: 200,
      backoff: { minMs: 50, maxMs: 200 },
      clock: systemClock({ forceState: 'synced' }),
      timers: realTimers,
      log,
    });
    cleanup.push(() => bus.stop());
    bus.start();
    await waitFor(() => bus.stats().state === 'down', 'bus down', 5000);
    const server = await startServer(port, new Set(), new Map());
    cleanup.push(() => closeServer(server));
    await waitFor(() => bus.isUp(), 'bus up once the device listens', 5000);
    expect(await bus.read(4, 3, 1, 2)).toEqual([4001, 4002]);
  });
});
