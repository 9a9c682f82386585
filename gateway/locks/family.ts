/**
 * The locks family: MQTT smart locks that log in to the embedded broker. Declarations only;
 * the code (LockService, the smart-lock driver) is imported by load() when locks exist.
 */
import { z } from 'zod';
import { LockConfig } from '../../config/lock-schema.js';
import type { CompoundConfig } from '../../config/schema.js';
import type { FamilyManifest } from '../families/family.js';
import { ALARM_KINDS } from './alarm-kinds.js';
import { locksConsole } from './console.js';
import { lockPasswordSecret } from '../../config/lock-schema.js';
export { lockPasswordSecret };

export const locksConfig = {
  locks: z.array(LockConfig).default([]),
};

export const locksFamily: FamilyManifest<CompoundConfig> = {
  name: 'locks',
  config: locksConfig,
  configured: (c) => c.locks.length > 0,
  devices: (c) => c.locks.map((l, i) => ({ id: l.id, path: ['locks', i, 'id'] })),
  summary: (c) => `${c.locks.length} lock(s)`,
  secrets: (c) =>
    c.locks.map((l, i) => ({ name: lockPasswordSecret(l), path: ['locks', i, 'passwordSecret'], what: `lock ${l.id}`, required: true })),
  brokerAccounts: (c) => c.locks.map((l) => ({ username: l.id, secret: lockPasswordSecret(l), kind: 'lock' })),
  // Tamper and offline locks are reported to the alarm sink (alarms).
  needs: ['broker', 'presence', 'alarms'],
  alarms: ALARM_KINDS,
  console: locksConsole,
  events: async () => (await import('./event-schemas.js')).LOCK_EVENTS,
  // The live check (`gatehouse check --devices`), loaded like the code: only by that command or the daemon's probe request.
  probe: () => import('./probe.js'),
  load: () => import('./create-locks.js'),
};
