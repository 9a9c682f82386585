/** The perimeter in the guard console: the zones page (zones and partitions); input modules under Devices. */
import type { CompoundConfig } from '../../config/schema.js';
import type { FamilyConsole } from '../families/family.js';

export const perimeterConsole: FamilyConsole<Pick<CompoundConfig, 'inputModules' | 'zones' | 'partitions'>> = {
  views: [{ route: 'zones', module: 'zones.js', order: 30 }],
  devices: (c) => [
    ...c.inputModules.map((m) => ({ id: m.id, kind: 'module' })),
    ...c.zones.map((z) => ({ id: z.id, kind: 'zone' })),
    ...c.partitions.map((p) => ({ id: p.id, kind: 'partition' })),
  ],
};
