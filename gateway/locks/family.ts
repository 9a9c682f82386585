/**
 * The locks family: MQTT smart locks that log in to the embedded broker. Declarations only;
 * the code (LockService, the smart-lock driver) is imported by load() when locks exist.
 */
import { z } from 'zod';
import { LockConfig } from '../../config/lock-schema.js';
import type { CompoundConfig } from '../../config/schema.js';
import type { FamilyManifest } from '../families/family.js';

export const locksConfig = {
  locks: z.array(LockConfig).default([]),
};

/** The broker password secret of a lock: the one place its default name is written. */
export const lockPasswordSecret = (lock: Pick<LockConfig, 'id' | 'passwordSecret'>): string => lock.passwordSecret ?? `devices.${lock.id}`;

export const locksFamily: FamilyManifest<CompoundConfig> = {
  name: 'locks',
  config: locksConfig,
  configured: (c) => c.locks.length > 0,
  devices: (c) => c.locks.map((l, i) => ({ id: l.id, path: ['locks', i, 'id'] })),
  secrets: (c) => c.locks.map((l, i) => ({ name: lockPasswordSecret(l), path: ['locks', i, 'passwordSecret'], what: `lock ${l.id}`, required: true })),
  brokerAccounts: (c) => c.locks.map((l) => ({ username: l.id, secret: lockPasswordSecret(l), kind: 'lock' })),
  // The alarm tap still feeds lock conditions to the manager (alarms), until the alarm sink replaces it.
  needs: ['broker', 'presence', 'alarms'],
  load: () => import('./create-locks.js'),
};
