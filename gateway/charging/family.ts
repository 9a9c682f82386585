/**
 * The cabinets family: Modbus e-bike charging cabinets, their local safety interlocks and
 * charging sessions. Declarations only; load() imports the code when cabinets exist.
 */
import { z } from 'zod';
import { CabinetConfig, ChargingConfig, cabinetBusKey } from '../../config/charging-schema.js';
import type { CompoundConfig } from '../../config/schema.js';
import type { FamilyManifest } from '../families/family.js';
import { ALARM_KINDS } from './alarm-kinds.js';
import { chargingConsole } from './console.js';
import { CHARGING_MIGRATIONS, CHARGING_BASELINE } from './migrations.js';

export const cabinetsConfig = {
  cabinets: z.array(CabinetConfig).default([]),
  charging: ChargingConfig.prefault({}),
};

export const cabinetsFamily: FamilyManifest<CompoundConfig> = {
  name: 'cabinets',
  config: cabinetsConfig,
  check(c, issue) {
    const units = new Map<string, number>();
    c.cabinets.forEach((cab, i) => {
      const k = `${cabinetBusKey(cab.bus)}#${cab.unitId}`;
      if (units.has(k)) issue(['cabinets', i, 'unitId'], `unit id ${cab.unitId} is already used on this bus by cabinets[${units.get(k)}]`);
      else units.set(k, i);
    });
  },
  configured: (c) => c.cabinets.length > 0,
  devices: (c) => c.cabinets.map((cab, i) => ({ id: cab.id, path: ['cabinets', i, 'id'] })),
  summary: (c) => `${c.cabinets.length} cabinet(s)`,
  idleStatus: () => ({}),
  // Fire, port faults and offline cabinets are reported to the alarm sink (alarms).
  needs: ['presence', 'alarms'],
  alarms: ALARM_KINDS,
  console: chargingConsole,
  events: async () => (await import('./event-schemas.js')).CHARGING_EVENTS,
  store: [{ owner: 'charging', migrations: CHARGING_MIGRATIONS, tables: CHARGING_BASELINE }],
  // The live check (`gatehouse check --devices`), loaded like the code: only by that command or the daemon's probe request.
  probe: () => import('./probe.js'),
  load: () => import('./create-cabinets.js'),
};
