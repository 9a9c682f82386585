/**
 * What every simulated Modbus register device family starts the same way (charging cabinets
 * in sim/cabinet, battery-swap cabinets in sim/swap): one TCP server per device and/or one
 * RTU line with several unit ids, ids unique, everything opened so far closed again when a
 * later one fails to open; a physics tick on injected timers; and the Modbus function
 * dispatch of a register device (FC 03/04 read word by word, FC 06/16 write).
 */
import type { Logger } from '../../gateway/core/log.js';
import type { TimerHandle, Timers } from '../../gateway/core/clock.js';
import type { ModbusRequest, ModbusResponse } from '../../drivers/modbus/pdu.js';
import { ModbusRtuLine, ModbusTcpServer, type SimModbusUnit } from './servers.js';

export interface FleetOptions<S extends { id: string }, D extends SimModbusUnit> {
  /** `cabinet`, `swap cabinet`: for the error messages. */
  noun: string;
  tcp?: readonly (S & { port: number; host?: string })[];
  rtu?: { path: string; baudRate: number; emulateWire?: boolean; units: readonly (S & { unitId: number })[] };
  make(spec: S): D;
  timers: Timers;
  log: Logger;
}

export interface Fleet<D extends SimModbusUnit> {
  devices: D[];
  device(id: string): D;
  tcpPort(id: string): number;
  tcpServer(id: string): ModbusTcpServer | undefined;
  rtu: ModbusRtuLine | undefined;
  stop(): Promise<void>;
}

export async function startFleet<S extends { id: string }, D extends SimModbusUnit>(o: FleetOptions<S, D>): Promise<Fleet<D>> {
  const byId = new Map<string, D>();
  const make = (spec: S): D => {
    if (byId.has(spec.id)) throw new Error(`${o.noun} id "${spec.id}" is used twice`);
    const d = o.make(spec);
    byId.set(spec.id, d);
    return d;
  };
  const tcp = new Map<string, ModbusTcpServer>();
  let rtu: ModbusRtuLine | undefined;
  const stop = async (): Promise<void> => {
    await Promise.all([...tcp.values()].map((s) => s.stop()));
    await rtu?.stop();
  };
  try {
    for (const spec of o.tcp ?? []) {
      const server = new ModbusTcpServer(make(spec), { port: spec.port, host: spec.host, timers: o.timers, log: o.log });
      tcp.set(spec.id, server);
      await server.start();
    }
    if (o.rtu) {
      rtu = new ModbusRtuLine({ path: o.rtu.path, baudRate: o.rtu.baudRate, emulateWire: o.rtu.emulateWire, timers: o.timers, log: o.log });
      for (const u of o.rtu.units) rtu.attach(u.unitId, make(u));
      await rtu.start();
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    devices: [...byId.values()],
    device(id) {
      const d = byId.get(id);
      if (!d) throw new Error(`no simulated ${o.noun} "${id}"`);
      return d;
    },
    tcpPort(id) {
      const s = tcp.get(id);
      if (!s) throw new Error(`${o.noun} "${id}" is not served over TCP`);
      return s.port;
    },
    tcpServer: (id) => tcp.get(id),
    rtu,
    stop,
  };
}

/** Steps every device's physics by the monotonic time since the last tick; undefined when `tickMs` is 0 (tests step by hand). */
export function startTick(
  devices: readonly { step(ms: number): void }[],
  timers: Timers,
  now: () => number,
  tickMs: number,
): TimerHandle | undefined {
  if (tickMs <= 0) return undefined;
  let last = now();
  return timers.setInterval(() => {
    const t = now();
    for (const d of devices) d.step(t - last);
    last = t;
  }, tickMs);
}

/** How a register device reads one word (undefined: illegal address) and applies a write (an exception code, or undefined when done). */
export interface RegisterSpace {
  readWord(address: number, fc: 3 | 4): number | undefined;
  write(address: number, values: readonly number[]): number | undefined;
}

/** The register functions of the map; coils and discrete inputs (FC 01/02/05/15) are an illegal function (01). */
export function answerRegisters(req: ModbusRequest, space: RegisterSpace): ModbusResponse {
  switch (req.fc) {
    case 3:
    case 4: {
      const values: number[] = [];
      for (let a = req.address; a < req.address + req.count; a++) {
        const w = space.readWord(a, req.fc);
        if (w === undefined) return { fc: req.fc, exception: 2 };
        values.push(w);
      }
      return { fc: req.fc, values };
    }
    case 6: {
      const r = space.write(req.address, [req.value]);
      return r === undefined ? { fc: 6, address: req.address, value: req.value } : { fc: 6, exception: r };
    }
    case 16: {
      const r = space.write(req.address, req.values);
      return r === undefined ? { fc: 16, address: req.address, count: req.values.length } : { fc: 16, exception: r };
    }
    default:
      return { fc: req.fc, exception: 1 };
  }
}

/** Protocol faults of other makers' firmware, injected by tests (issues 11, 13, 17). */
export interface RegisterFaultKnobs {
  /** Input registers forced to a raw word (an out-of-range state code, smoke holding 2...), by address. */
  readonly rawRegisters: Map<number, number>;
  /** Reads touching [from, to] answer this exception instead (safety registers the controller cannot give). */
  unreadable: { from: number; to: number; exception: number } | undefined;
  /** The next `busyNext` requests answer exception 06 (server device busy). */
  busyNext: number;
}

/** The exception a faulty firmware answers instead of `req`, or undefined to answer normally. */
export function injectedRefusal(req: ModbusRequest, k: RegisterFaultKnobs): ModbusResponse | undefined {
  if (k.busyNext > 0) {
    k.busyNext--;
    return { fc: req.fc, exception: 6 };
  }
  const u = k.unreadable;
  if (u && (req.fc === 3 || req.fc === 4) && req.address <= u.to && req.address + req.count - 1 >= u.from)
    return { fc: req.fc, exception: u.exception };
  return undefined;
}

/** Overwrites the words of an input image that a test forced to a raw value (only where the image has a register). */
export function overlayRaw(image: Map<number, number>, raw: ReadonlyMap<number, number>): Map<number, number> {
  for (const [a, w] of raw) if (image.has(a)) image.set(a, w);
  return image;
}
