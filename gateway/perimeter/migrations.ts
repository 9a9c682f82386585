/**
 * The perimeter's tables in outbox.db (partition arming, zone bypasses) and the DC-09
 * receiver's replay guard (high-water marks, recently seen digests). Two owners: the DC-09
 * receiver runs without input modules and the other way round.
 */
import type { StoreMigration } from '../families/family.js';

export const PERIMETER_MIGRATIONS: StoreMigration[] = [
  {
    version: 1,
    description: 'partition arming state and zone bypasses',
    up(db) {
      db.exec(`
        CREATE TABLE IF NOT EXISTS perimeter_partitions (
          partition TEXT PRIMARY KEY,
          armed INTEGER NOT NULL,
          by TEXT NOT NULL,
          since INTEGER NOT NULL,
          override INTEGER NOT NULL,
          schedule_at INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS perimeter_bypasses (zone TEXT PRIMARY KEY, until INTEGER NOT NULL, by TEXT NOT NULL);
      `);
    },
  },
];

export const PERIMETER_BASELINE = ['perimeter_partitions', 'perimeter_bypasses'];

export const DC09_MIGRATIONS: StoreMigration[] = [
  {
    version: 1,
    description: 'DC-09 replay guard: high-water marks and seen digests',
    up(db) {
      db.exec(`
        CREATE TABLE IF NOT EXISTS dc09_high_water (account TEXT PRIMARY KEY, ts INTEGER NOT NULL, floor INTEGER NOT NULL, seq TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS dc09_seen (
          account TEXT NOT NULL, digest TEXT NOT NULL, ts INTEGER NOT NULL, PRIMARY KEY (account, digest)
        ) WITHOUT ROWID;
      `);
    },
  },
];

export const DC09_BASELINE = ['dc09_high_water', 'dc09_seen'];
