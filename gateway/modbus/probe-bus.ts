/**
 * What the live checks of Modbus units (charging cabinets, perimeter input modules) share:
 * a bus of their own when the daemon is stopped (opened, waited for, closed), the time limit
 * per unit, and the advice for each way a unit can fail to answer.
 */
import { ModbusBus } from '../../drivers/modbus/bus.js';
import { ModbusSerialTransport, type TransportConfig } from '../../drivers/modbus/transport.js';
import { toGatehouseError } from '../core/errors.js';
import type { ProbeContext } from '../families/family.js';

/** Where a unit is, for people: `unit 3 on /dev/ttyUSB0` or `unit 1 on 10.0.0.5:502`. */
export function unitWhere(transport: TransportConfig, unitId: number): string {
  return `unit ${unitId} on ${transport.kind === 'rtu' ? transport.path : `${transport.host}:${transport.port}`}`;
}

/**
 * Opens one bus per distinct line for the units given, runs `fn` per unit with its bus (or
 * the reason the line did not open), and closes them. Bounded: a line that is not open
 * within the device timeout has failed.
 */
export async function withProbeBuses<U, R>(
  ctx: ProbeContext<unknown>,
  units: readonly U[],
  line: (u: U) => { key: string; transport: TransportConfig },
  fn: (u: U, bus: ModbusBus | { lineError: string }) => Promise<R>,
): Promise<R[]> {
  const buses = new Map<string, { bus: ModbusBus; up: Promise<string | undefined> }>();
  for (const u of units) {
    const { key, transport } = line(u);
    if (buses.has(key)) continue;
    // The transport's own open, watched: the bus retries a failed open quietly, a check reports the first failure.
    let openFailed: (reason: string) => void = () => undefined;
    const wire = new ModbusSerialTransport(transport);
    const open = wire.open.bind(wire);
    wire.open = () =>
      open().catch((err: unknown) => {
        openFailed(err instanceof Error ? err.message : String(err));
        throw err;
      });
    const bus = new ModbusBus({
      transport: wire,
      name: key,
      clock: ctx.clock,
      timers: ctx.timers,
      log: ctx.log,
      timeoutMs: Math.min(1000, ctx.deviceTimeoutMs),
      retries: 1,
      openTimeoutMs: ctx.deviceTimeoutMs,
      // Never declared dead during a check: every unit gets its own attempts.
      deadAfter: 1000,
    });
    const up = new Promise<string | undefined>((resolve) => {
      const timer = ctx.timers.setTimeout(() => resolve(`not open within ${ctx.deviceTimeoutMs} ms`), ctx.deviceTimeoutMs);
      openFailed = (reason) => {
        timer.cancel();
        resolve(reason);
      };
      bus.once('busUp', () => {
        timer.cancel();
        resolve(undefined);
      });
    });
    buses.set(key, { bus, up });
    bus.start();
  }
  try {
    // Units on one line one after the other (half duplex); lines in parallel.
    const byLine = new Map<string, U[]>();
    for (const u of units) byLine.set(line(u).key, [...(byLine.get(line(u).key) ?? []), u]);
    const results = new Map<U, R>();
    await Promise.all(
      [...byLine].map(async ([key, onLine]) => {
        const b = buses.get(key)!;
        const lineError = await b.up;
        for (const u of onLine) results.set(u, await fn(u, lineError !== undefined ? { lineError } : b.bus));
      }),
    );
    return units.map((u) => results.get(u)!);
  } finally {
    await Promise.all([...buses.values()].map((b) => b.bus.stop().catch(() => undefined)));
  }
}

/** A failed read, as a status word and what to do. */
export function modbusFailure(err: unknown, where: string, what: string): { status: string; detail: string; advice: string } {
  const e = toGatehouseError(err);
  if (e.code === 'CMD_TIMEOUT' || (e.code === 'DEVICE_OFFLINE' && e.details?.reason === 'unit_dead'))
    return {
      status: 'NO ANSWER',
      detail: `no answer at ${where}`,
      advice: `no answer at ${where}: check the ${what}'s power, its unit id, the baud rate and parity, and the A/B wiring`,
    };
  if (e.code === 'DEVICE_OFFLINE')
    return { status: 'NO LINE', detail: e.message, advice: `the line to ${where} is down: check the adapter or the network` };
  if (e.code === 'DEVICE_REFUSED')
    return {
      status: 'REFUSED',
      detail: `${where} ${e.message.replace(/^unit \d+ /, '')}`,
      advice: `${where} answers but refuses the read: another device has this unit id, or it is not the ${what} configured`,
    };
  if (e.code === 'CMD_FAILED')
    return {
      status: 'BAD ANSWER',
      detail: e.message,
      advice: `garbled answers from ${where}: check the baud rate and parity, termination resistors and the A/B wiring`,
    };
  return {
    status: 'BAD ANSWER',
    detail: e.message,
    advice: `${where} answers, but not as a ${what} should: check the model and its register map`,
  };
}

/** The advice for a line that did not open. */
export function lineFailure(lineError: string, transport: TransportConfig): { status: string; detail: string; advice: string } {
  if (transport.kind === 'rtu')
    return {
      status: 'NO LINE',
      detail: `cannot open ${transport.path}: ${lineError}`,
      advice: `plug in the RS-485 adapter (${transport.path}) or correct the bus path in the compound file`,
    };
  return {
    status: 'UNREACHABLE',
    detail: `cannot connect to ${transport.host}:${transport.port}: ${lineError}`,
    advice: `check that the device or its Modbus TCP gateway at ${transport.host}:${transport.port} is powered and on the network`,
  };
}
