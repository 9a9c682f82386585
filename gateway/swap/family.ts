/**
 * The battery-swap family: Modbus swap cabinets (register map v1.1 section 10), their
 * local thermal and fire interlocks and durable swap transactions. Declarations only;
 * load() imports the code when swap cabinets exist.
 */
import { z } from 'zod';
import { SwapCabinetConfig, SwapConfig } from '../../config/swap-schema.js';
import type { CompoundConfig } from '../../config/schema.js';
import type { FamilyManifest } from '../families/family.js';
import { SWAP_ALARM_KINDS } from './alarm-kinds.js';
import { swapConsole } from './console.js';
import { SWAP_BASELINE, SWAP_MIGRATIONS } from './migrations.js';

export const swapConfig = {
  swapCabinets: z.array(SwapCabinetConfig).default([]),
  swap: SwapConfig.prefault({}),
};

const busKey = (bus: SwapCabinetConfig['bus']): string => ('rtu' in bus ? `rtu:${bus.rtu.path}` : `tcp:${bus.tcp.host}:${bus.tcp.port}`);

export const swapFamily: FamilyManifest<CompoundConfig> = {
  name: 'swap',
  config: swapConfig,
  check(c, issue) {
    const units = new Map<string, number>();
    c.swapCabinets.forEach((cab, i) => {
      const k = `${busKey(cab.bus)}#${cab.unitId}`;
      if (units.has(k))
        issue(['swapCabinets', i, 'unitId'], `unit id ${cab.unitId} is already used on this bus by swapCabinets[${units.get(k)}]`);
      else units.set(k, i);
      if (cab.door !== undefined && !c.doors.some((d) => d.id === cab.door))
        issue(['swapCabinets', i, 'door'], `no door "${cab.door}" in doors: the cabinet's reader is an access door`);
      // Each family opens its own serial port: one RS-485 path cannot carry both kinds.
      if (
        'rtu' in cab.bus &&
        c.cabinets.some((ch) => 'rtu' in ch.bus && ch.bus.rtu.path === (cab.bus as { rtu: { path: string } }).rtu.path)
      )
        issue(
          ['swapCabinets', i, 'bus'],
          `RS-485 path ${cab.bus.rtu.path} is used by a charging cabinet: give swap cabinets their own line`,
        );
    });
  },
  configured: (c) => c.swapCabinets.length > 0,
  devices: (c) => c.swapCabinets.map((cab, i) => ({ id: cab.id, path: ['swapCabinets', i, 'id'] })),
  summary: (c) => `${c.swapCabinets.length} swap cabinet(s)`,
  idleStatus: () => ({}),
  needs: ['presence', 'alarms'],
  // A cabinet with a reader (`door`) is authorised by the access family's local decisions.
  wants: ['door-grants'],
  alarms: SWAP_ALARM_KINDS,
  console: swapConsole,
  events: async () => (await import('./event-schemas.js')).SWAP_EVENTS,
  store: [{ owner: 'swap', migrations: SWAP_MIGRATIONS, tables: SWAP_BASELINE }],
  load: () => import('./create-swap.js'),
  // The live check (`gatehouse check --devices`), loaded like the code: only by that command or the daemon's probe request.
  probe: () => import('./probe.js'),
};
