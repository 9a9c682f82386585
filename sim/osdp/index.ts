/**
 * `startSimulatedReaders`: OSDP readers sharing one serial line (the far end of a socat pty
 * pair from the gateway's control panel), each with its door, for tests, benches and demos.
 *
 *   const pty = await createPtyPair();
 *   const sim = await startSimulatedReaders({ path: pty.b, baudRate: 115200, readers: [{ address: 1 }, { address: 2, key }] });
 *   sim.reader(1).swipe('2000001');  sim.door(1).force();  sim.reader(2).unplug();
 *   await sim.close();
 */
import { pino } from 'pino';
import { realTimers, type Timers } from '../../gateway/core/clock.js';
import type { Logger } from '../../gateway/core/log.js';
import { SimOsdpLine, type TapListener } from './sim-line.js';
import { SimPd } from './sim-pd.js';
import { SimReader, type SimReaderOptions } from './sim-reader.js';
import type { SimDoor } from './door.js';

export { SimReader, type SimReaderOptions } from './sim-reader.js';
export { SimDoor } from './door.js';
export { SimPd } from './sim-pd.js';
export { SimOsdpLine, type TapListener } from './sim-line.js';

export interface SimulatedReadersOptions {
  path: string;
  baudRate: number;
  readers: SimReaderOptions[];
  /** Hold each reply for the wire time of command + reply at baudRate (default true). */
  emulateWire?: boolean;
  timers?: Timers;
  log?: Logger;
}

export interface SimulatedReaders {
  reader(address: number): SimReader;
  door(address: number): SimDoor;
  pd(address: number): SimPd;
  readers: SimReader[];
  line: SimOsdpLine;
  /** Every byte the readers receive and send. Returns the remover. */
  tap(listener: TapListener): () => void;
  close(): Promise<void>;
}

export async function startSimulatedReaders(opts: SimulatedReadersOptions): Promise<SimulatedReaders> {
  const timers = opts.timers ?? realTimers;
  const log = opts.log ?? pino({ level: 'silent' });
  const line = new SimOsdpLine({
    path: opts.path,
    baudRate: opts.baudRate,
    timers,
    log,
    ...(opts.emulateWire !== undefined ? { emulateWire: opts.emulateWire } : {}),
  });
  const pds = new Map<number, SimPd>();
  for (const spec of opts.readers) {
    const pd = new SimPd(new SimReader(spec, timers));
    line.attach(pd);
    pds.set(spec.address, pd);
  }
  await line.start();
  const pd = (address: number): SimPd => {
    const p = pds.get(address);
    if (!p) throw new Error(`no simulated reader at address ${address}`);
    return p;
  };
  return {
    reader: (a) => pd(a).reader,
    door: (a) => pd(a).reader.door,
    pd,
    readers: [...pds.values()].map((p) => p.reader),
    line,
    tap: (l) => line.tap(l),
    async close() {
      for (const p of pds.values()) p.reader.stop();
      await line.stop();
    },
  };
}
