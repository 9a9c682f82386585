/**
 * The access family: OSDP readers on RS-485 lines, doors, and the decision rules. Declarations
 * only; load() imports the code (OSDP driver, serial port, decider) when readers or doors exist.
 */
import { z } from 'zod';
import { AccessConfig, DoorConfig, OsdpBusConfig, ReaderConfig, checkAccessReferences } from '../../config/access-schema.js';
import type { CompoundConfig } from '../../config/schema.js';
import type { FamilyManifest } from '../families/family.js';
import { ALARM_KINDS } from './alarm-kinds.js';
import { accessConsole } from './console.js';
import { readerKeySecret } from '../../config/access-schema.js';
import { ACCESS_MIGRATIONS, ACCESS_BASELINE } from './migrations.js';
export { readerKeySecret };

export const accessConfig = {
  /** Access control (issue 4): RS-485 lines with OSDP readers, doors and decision rules. */
  osdpBuses: z.array(OsdpBusConfig).default([]),
  readers: z.array(ReaderConfig).default([]),
  doors: z.array(DoorConfig).default([]),
  access: AccessConfig.prefault({}),
};

export const accessFamily: FamilyManifest<CompoundConfig> = {
  name: 'access',
  config: accessConfig,
  check: (c, issue) => checkAccessReferences(c, issue),
  configured: (c) => c.osdpBuses.length + c.readers.length + c.doors.length > 0,
  summary: (c) => `${c.doors.length} door(s) with ${c.readers.length} reader(s)`,
  devices: (c) => [
    ...c.osdpBuses.map((b, i) => ({ id: b.id, path: ['osdpBuses', i, 'id'] })),
    ...c.readers.map((r, i) => ({ id: r.id, path: ['readers', i, 'id'] })),
    ...c.doors.map((d, i) => ({ id: d.id, path: ['doors', i, 'id'] })),
  ],
  // Optional: a key installed by `secure: install` is kept in the data directory instead (checked by `gatehouse check`).
  secrets: (c) =>
    c.readers.flatMap((r, i) =>
      r.secure === 'off'
        ? []
        : [{ name: readerKeySecret(r), path: ['readers', i, 'keySecret'], what: `reader ${r.id}`, kind: 'key', required: false }],
    ),
  idleStatus: () => ({ doors: {}, readers: {}, lines: {}, credentials: null }),
  // Door, reader and fire conditions are reported to the alarm sink (alarms).
  needs: ['presence', 'alarms', 'uplink-status'],
  provides: ['door-grants'],
  alarms: ALARM_KINDS,
  console: accessConsole,
  events: async () => (await import('./event-schemas.js')).ACCESS_EVENTS,
  store: [{ owner: 'access', migrations: ACCESS_MIGRATIONS, tables: ACCESS_BASELINE }],
  // The live check (`gatehouse check --devices`), loaded like the code: only by that command or the daemon's probe request.
  probe: () => import('./probe.js'),
  load: () => import('./create-access.js'),
};
