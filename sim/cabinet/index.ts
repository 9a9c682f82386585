/**
 * `startSimulatedCabinets`: charging cabinets implementing register map v1.0 as Modbus TCP
 * servers (one per cabinet) and as RTU units sharing one serial line, with battery and heat
 * physics on injected timers and fault injection for tests and demos.
 */
import { pino } from 'pino';
import { realTimers, type TimerHandle, type Timers } from '../../gateway/core/clock.js';
import type { Logger } from '../../gateway/core/log.js';
import { CABINET } from '../../drivers/cabinet/register-map.js';
import type { CabinetRtuBus } from './servers.js';
import { startFleet, startTick } from '../modbus/fleet.js';
import { SimCabinet, type SimCabinetOptions } from './sim-cabinet.js';

export { SimCabinet } from './sim-cabinet.js';
export { CabinetRtuBus, CabinetTcpServer } from './servers.js';
export { createPtyPair, requireSocat, type PtyPair } from './pty.js';

type CabinetSpec = { id: string; ports: number } & Omit<SimCabinetOptions, 'id' | 'ports'>;

export interface SimulatedCabinetsOptions {
  /** One Modbus TCP server per cabinet; port 0 picks a free one (see `tcpPort(id)`). */
  tcp?: (CabinetSpec & { port: number; host?: string })[];
  /** Several units on one serial line (e.g. the `b` end of a createPtyPair). */
  rtu?: { path: string; baudRate: number; emulateWire?: boolean; units: (CabinetSpec & { unitId: number })[] };
  /** Timers for the physics tick and for slow replies; a ManualClock in tests. */
  timers?: Timers;
  /** Monotonic ms; the physics steps by the difference between ticks. */
  now?: () => number;
  /** Physics tick period; 0 = never tick (tests call `cabinet(id).step(ms)`). Default 1000. */
  tickMs?: number;
  /** Cabinets with something plugged in from the start: id -> ports. */
  plugged?: Record<string, number[]>;
  log?: Logger;
}

export type CabinetInjection =
  | { kind: 'plug'; cabinet: string; port: number; soc?: number; capacityWh?: number }
  | { kind: 'unplug'; cabinet: string; port: number }
  | { kind: 'smoke'; cabinet: string; active?: boolean }
  | { kind: 'door'; cabinet: string; open?: boolean }
  /** A port heating beyond what its power explains (a loose contact): `extraC` above normal. */
  | { kind: 'overheat'; cabinet: string; port: number; extraC?: number }
  /** The cabinet air itself too hot (undefined `celsius` returns to physics). */
  | { kind: 'cabinetTemperature'; cabinet: string; celsius?: number }
  | { kind: 'short'; cabinet: string; port: number; active?: boolean }
  | { kind: 'mains'; cabinet: string; present: boolean }
  | { kind: 'dead'; cabinet: string; active?: boolean; forMs?: number }
  /** The next `count` answers go out with a broken CRC (RTU only). */
  | { kind: 'crc'; cabinet: string; count?: number }
  /** Every answer waits `delayMs` first (0 clears). */
  | { kind: 'slow'; cabinet: string; delayMs: number }
  /** Controller restart: silent for `downMs`, TCP connections dropped, sessions gone. */
  | { kind: 'reboot'; cabinet: string; downMs?: number; newSerial?: string }
  /** An input register forced to a raw word (e.g. a port state code 9, smoke holding 2); no `raw` releases it. */
  | { kind: 'register'; cabinet: string; address: number; raw?: number }
  /** Reads touching the cabinet block (0x00F0-0x00FF) answer `exception` (default 04); active false ends it. */
  | { kind: 'safetyUnreadable'; cabinet: string; active?: boolean; exception?: number }
  /** The next `count` requests answer exception 06 (busy). */
  | { kind: 'busy'; cabinet: string; count: number }
  /** FC 06 answers exception 01 (a firmware that only implements FC 16). */
  | { kind: 'noFc6'; cabinet: string; active?: boolean };

export interface SimulatedCabinets {
  cabinets: SimCabinet[];
  cabinet(id: string): SimCabinet;
  /** The TCP port a cabinet listens on. */
  tcpPort(id: string): number;
  rtuBus: CabinetRtuBus | undefined;
  inject(fault: CabinetInjection): void;
  /** Steps every cabinet's physics by `ms` now (independent of the tick). */
  step(ms: number): void;
  stop(): Promise<void>;
}

export async function startSimulatedCabinets(opts: SimulatedCabinetsOptions): Promise<SimulatedCabinets> {
  const timers = opts.timers ?? realTimers;
  const now = opts.now ?? (() => performance.now());
  const log = opts.log ?? pino({ level: 'silent' });
  const fleet = await startFleet<CabinetSpec, SimCabinet>({
    noun: 'cabinet',
    ...(opts.tcp ? { tcp: opts.tcp } : {}),
    ...(opts.rtu ? { rtu: opts.rtu } : {}),
    make: (spec) => {
      const c = new SimCabinet(spec);
      for (const p of opts.plugged?.[spec.id] ?? []) c.plug(p);
      return c;
    },
    timers,
    log,
  });
  const cabinets = fleet.devices;
  const cabinet = (id: string): SimCabinet => fleet.device(id);
  const rtuBus = fleet.rtu;
  const pending = new Set<TimerHandle>();
  const later = (ms: number, fn: () => void) => {
    const h = timers.setTimeout(() => {
      pending.delete(h);
      fn();
    }, ms);
    pending.add(h);
  };

  const tick = startTick(cabinets, timers, now, opts.tickMs ?? 1000);

  return {
    cabinets,
    cabinet,
    rtuBus,
    tcpPort: (id) => fleet.tcpPort(id),
    step(ms) {
      for (const c of cabinets) c.step(ms);
    },
    inject(f) {
      const c = cabinet(f.cabinet);
      switch (f.kind) {
        case 'plug':
          return c.plug(f.port, {
            ...(f.soc !== undefined ? { soc: f.soc } : {}),
            ...(f.capacityWh !== undefined ? { capacityWh: f.capacityWh } : {}),
          });
        case 'unplug':
          return c.unplug(f.port);
        case 'smoke':
          c.smoke = f.active ?? true;
          return;
        case 'door':
          c.doorOpen = f.open ?? true;
          return;
        case 'overheat':
          c.port(f.port).overheatC = f.extraC ?? 70;
          return;
        case 'cabinetTemperature':
          c.temperatureOverride = f.celsius;
          if (f.celsius !== undefined) c.temperature = f.celsius;
          return;
        case 'short':
          c.port(f.port).shorted = f.active ?? true;
          return;
        case 'mains':
          return c.setMains(f.present);
        case 'dead':
          c.dead = f.active ?? true;
          if (f.forMs !== undefined) later(f.forMs, () => (c.dead = false));
          return;
        case 'crc':
          c.corruptNext = f.count ?? 1;
          return;
        case 'slow':
          c.slowMs = Math.max(0, f.delayMs);
          return;
        case 'register':
          if (f.raw === undefined) c.rawRegisters.delete(f.address);
          else c.rawRegisters.set(f.address, f.raw);
          return;
        case 'safetyUnreadable':
          c.unreadable =
            f.active === false
              ? undefined
              : { from: CABINET.address, to: CABINET.address + CABINET.count - 1, exception: f.exception ?? 4 };
          return;
        case 'busy':
          c.busyNext = f.count;
          return;
        case 'noFc6':
          c.noFc6 = f.active ?? true;
          return;
        case 'reboot':
          c.dead = true;
          fleet.tcpServer(c.id)?.dropConnections();
          c.reboot();
          // A swapped controller: same unit id, another serial number.
          if (f.newSerial !== undefined) c.identity.serial = f.newSerial;
          later(f.downMs ?? 2000, () => (c.dead = false));
          return;
      }
    },
    async stop() {
      tick?.cancel();
      for (const h of pending) h.cancel();
      await fleet.stop();
    },
  };
}
