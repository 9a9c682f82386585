/**
 * `startSimulatedSwapCabinets`: battery-swap cabinets implementing register map v1.1 as
 * Modbus TCP servers (one per cabinet) and as RTU units on one serial line, with pack
 * physics on injected timers and scripted riders, runaway packs and smoke.
 */
import { pino } from 'pino';
import { realTimers, type TimerHandle, type Timers } from '../../gateway/core/clock.js';
import { CABINET } from '../../drivers/cabinet/register-map.js';
import type { Logger } from '../../gateway/core/log.js';
import { startFleet, startTick } from '../modbus/fleet.js';
import { SimSwapCabinet, type SimSwapCabinetOptions } from './sim-swap-cabinet.js';
import type { SimPack } from './physics.js';

export { SimSwapCabinet } from './sim-swap-cabinet.js';
export type { SimPack } from './physics.js';

type Spec = { id: string; slots: number } & Omit<SimSwapCabinetOptions, 'id' | 'slots'>;

export interface SimulatedSwapOptions {
  tcp?: (Spec & { port: number; host?: string })[];
  rtu?: { path: string; baudRate: number; emulateWire?: boolean; units: (Spec & { unitId: number })[] };
  timers?: Timers;
  now?: () => number;
  /** Physics tick; 0 = never (tests call `step`). Default 1000. */
  tickMs?: number;
  /** Stock every cabinet: full packs in all slots but the last `empty` (default 2). */
  stock?: { empty?: number; soc?: number };
  log?: Logger;
}

export type SwapInjection =
  /** A rider returns a pack into an unlocked slot (flat by default; any id, so also a foreign pack). */
  | { kind: 'return'; cabinet: string; slot: number; pack: Partial<SimPack> & { id: string }; close?: boolean }
  | { kind: 'take'; cabinet: string; slot: number }
  /** A pack starts thermal runaway at `cPerS` °C/s, accelerating. */
  | { kind: 'runaway'; cabinet: string; slot: number; cPerS?: number }
  | { kind: 'smoke'; cabinet: string; active?: boolean }
  | { kind: 'cabinetTemperature'; cabinet: string; celsius?: number }
  | { kind: 'bmsFault'; cabinet: string; slot: number; flags: number }
  | { kind: 'dead'; cabinet: string; active?: boolean }
  /** An input register forced to a raw word (a slot state code 9, smoke holding 2...); no `raw` releases it. */
  | { kind: 'register'; cabinet: string; address: number; raw?: number }
  /** Reads touching the cabinet block (0x00F0-0x00FF) answer `exception` (default 04); active false ends it. */
  | { kind: 'safetyUnreadable'; cabinet: string; active?: boolean; exception?: number }
  /** Controller restart: silent for `downMs` (default 2000), TCP connections dropped; `newSerial`: a swapped controller. */
  | { kind: 'reboot'; cabinet: string; downMs?: number; newSerial?: string };

export interface SimulatedSwapCabinets {
  cabinets: SimSwapCabinet[];
  cabinet(id: string): SimSwapCabinet;
  tcpPort(id: string): number;
  inject(i: SwapInjection): unknown;
  step(ms: number): void;
  stop(): Promise<void>;
}

/** Pack ids of the simulated fleet: `GH-{cabinet}-{slot}`, cut to the 16 characters the map carries. */
export const fleetPackId = (cabinet: string, slot: number): string => `GH-${cabinet}`.slice(0, 12) + `-${slot}`;

export async function startSimulatedSwapCabinets(opts: SimulatedSwapOptions): Promise<SimulatedSwapCabinets> {
  const timers = opts.timers ?? realTimers;
  const fleet = await startFleet<Spec, SimSwapCabinet>({
    noun: 'swap cabinet',
    ...(opts.tcp ? { tcp: opts.tcp } : {}),
    ...(opts.rtu ? { rtu: opts.rtu } : {}),
    make: (spec) => {
      const c = new SimSwapCabinet(spec);
      if (opts.stock) {
        const filled = Math.max(0, spec.slots - (opts.stock.empty ?? 2));
        for (let s = 1; s <= filled; s++) c.stock(s, { id: fleetPackId(spec.id, s), soc: (opts.stock.soc ?? 0.95) - s * 0.01 });
      }
      return c;
    },
    timers,
    log: opts.log ?? pino({ level: 'silent' }),
  });
  const cabinets = fleet.devices;
  const cabinet = (id: string): SimSwapCabinet => fleet.device(id);
  const pending = new Set<TimerHandle>();
  const tick = startTick(cabinets, timers, opts.now ?? (() => performance.now()), opts.tickMs ?? 1000);
  return {
    cabinets,
    cabinet,
    tcpPort: (id) => fleet.tcpPort(id),
    step(ms) {
      for (const c of cabinets) c.step(ms);
    },
    inject(i) {
      const c = cabinet(i.cabinet);
      switch (i.kind) {
        case 'return':
          return c.riderReturns(i.slot, i.pack, i.close ?? true);
        case 'take':
          return c.riderTakes(i.slot);
        case 'runaway': {
          const p = c.slot(i.slot).pack;
          if (!p) throw new Error(`slot ${i.slot} of ${i.cabinet} is empty`);
          p.runawayCPerS = i.cPerS ?? 0.5;
          return true;
        }
        case 'smoke':
          c.smoke = i.active ?? true;
          return true;
        case 'cabinetTemperature':
          c.temperatureOverride = i.celsius;
          if (i.celsius !== undefined) c.temperature = i.celsius;
          return true;
        case 'bmsFault': {
          const p = c.slot(i.slot).pack;
          if (p) p.bmsFaults = i.flags;
          return p !== undefined;
        }
        case 'dead':
          c.dead = i.active ?? true;
          return true;
        case 'register':
          if (i.raw === undefined) c.rawRegisters.delete(i.address);
          else c.rawRegisters.set(i.address, i.raw);
          return true;
        case 'safetyUnreadable':
          c.unreadable =
            i.active === false
              ? undefined
              : { from: CABINET.address, to: CABINET.address + CABINET.count - 1, exception: i.exception ?? 4 };
          return true;
        case 'reboot': {
          c.dead = true;
          fleet.tcpServer(c.id)?.dropConnections();
          if (i.newSerial !== undefined) c.serial = i.newSerial;
          const h = timers.setTimeout(() => {
            pending.delete(h);
            c.dead = false;
          }, i.downMs ?? 2000);
          pending.add(h);
          return true;
        }
      }
    },
    async stop() {
      tick?.cancel();
      for (const h of pending) h.cancel();
      await fleet.stop();
    },
  };
}
