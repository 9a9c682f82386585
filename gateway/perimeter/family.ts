/**
 * The perimeter family: Modbus input modules, zones, partitions and relay outputs (which
 * linkage rules drive). Declarations only; load() imports the code when any of them exist.
 */
import { z } from 'zod';
import {
  InputModuleConfig,
  OutputConfig,
  PartitionConfig,
  PerimeterConfig,
  ZoneConfig,
  checkPerimeterReferences,
} from '../../config/perimeter-schema.js';
import type { CompoundConfig } from '../../config/schema.js';
import type { FamilyManifest } from '../families/family.js';
import { ALARM_KINDS } from './alarm-kinds.js';
import { perimeterConsole } from './console.js';
import { PERIMETER_MIGRATIONS, PERIMETER_BASELINE } from './migrations.js';

export const perimeterConfig = {
  /** Perimeter alarms (issue 5): Modbus input modules, zones, partitions, outputs (DC-09 panels: gateway/perimeter/dc09-family.ts). */
  inputModules: z.array(InputModuleConfig).default([]),
  zones: z.array(ZoneConfig).default([]),
  partitions: z.array(PartitionConfig).default([]),
  outputs: z.array(OutputConfig).default([]),
  perimeter: PerimeterConfig.prefault({}),
};

export const perimeterFamily: FamilyManifest<CompoundConfig> = {
  name: 'perimeter',
  config: perimeterConfig,
  check: (c, issue) => checkPerimeterReferences(c, issue),
  configured: (c) => c.inputModules.length + c.zones.length + c.partitions.length + c.outputs.length > 0,
  summary: (c) => `${c.inputModules.length} input module(s) with ${c.zones.length} zone(s) in ${c.partitions.length} partition(s)`,
  devices: (c) => [
    ...c.inputModules.map((m, i) => ({ id: m.id, path: ['inputModules', i, 'id'] })),
    ...c.zones.map((z, i) => ({ id: z.id, path: ['zones', i, 'id'] })),
    ...c.partitions.map((p, i) => ({ id: p.id, path: ['partitions', i, 'id'] })),
    ...c.outputs.map((o, i) => ({ id: o.id, path: ['outputs', i, 'id'] })),
  ],
  idleStatus: () => ({ zones: {}, modules: {}, partitions: {} }),
  needs: ['alarms', 'presence'],
  provides: ['outputs'],
  alarms: ALARM_KINDS,
  console: perimeterConsole,
  events: async () => (await import('./event-schemas.js')).PERIMETER_EVENTS,
  store: [{ owner: 'perimeter', migrations: PERIMETER_MIGRATIONS, tables: PERIMETER_BASELINE }],
  // The live check (`gatehouse check --devices`), loaded like the code: only by that command or the daemon's probe request.
  probe: () => import('./probe.js'),
  load: () => import('./create-perimeter.js'),
};
