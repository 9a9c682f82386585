/** Shared fixtures of the access tests: one config, one key, credentials by name. */
import type { Database as Db } from 'better-sqlite3';
import { AccessConfig } from '../../config/access-schema.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { AccessDecider } from '../../gateway/access/decider.js';
import type { Credential } from '../../gateway/access/credential-types.js';
import { migratedDb, scoped } from '../helpers/store.js';

export const KEY = Buffer.alloc(32, 7);
export const DOORS = ['gate', 'lobby', 'gym', 'garage'];

/** Saturday 2026-11-21 12:00 UTC = 13:00 in Berlin. */
export const SAT_NOON = Date.UTC(2026, 10, 21, 12, 0, 0);
/** Monday 2026-11-23 09:00 UTC = 10:00 in Berlin. */
export const MON_10_BERLIN = Date.UTC(2026, 10, 23, 9, 0, 0);

export function accessConfig(over: Record<string, unknown> = {}): AccessConfig {
  return AccessConfig.parse({
    timezone: 'Europe/Berlin',
    doorGroups: { residents: ['gate', 'lobby'], sport: ['gym'] },
    schedules: {
      office: { weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' }] },
    },
    holidays: ['2026-12-25'],
    antiPassback: [{ id: 'compound', doors: ['gate'], mode: 'hard', resetAfterMin: 60 }],
    pinMaxAttempts: 3,
    pinLockoutMs: 60_000,
    ...over,
  });
}

export const creds = {
  alice: { id: 'alice', card: 'a1b2c3d4e5f60718', mode: 'card', groups: ['residents'] },
  bob: { id: 'bob', pin: '4815162', mode: 'pin', groups: ['residents'] },
  carol: { id: 'carol', card: 'C0FFEE0012345678', pin: '9137524', mode: 'card+pin', groups: ['residents', 'sport'] },
  dave: { id: 'dave', card: 'DEADBEEF00000001', mode: 'card', groups: [], doors: ['garage'], schedule: 'office' },
} satisfies Record<string, Credential>;

export function openMemory(): Db {
  return migratedDb();
}

export function makeDecider(opts: { db?: Db; clock?: ManualClock; config?: AccessConfig; credentials?: Credential[] } = {}) {
  const db = opts.db ?? openMemory();
  const clock = opts.clock ?? new ManualClock(SAT_NOON);
  const decider = new AccessDecider({ db: scoped(db, 'access'), hashKey: KEY, config: opts.config ?? accessConfig(), doors: DOORS, clock });
  if (opts.credentials) decider.sync.applySnapshotChunk({ version: 1, chunk: 0, chunks: 1, credentials: opts.credentials });
  return { db, clock, decider };
}
