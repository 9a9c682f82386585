/** The alarm lifecycle's table in outbox.db: one row per alarm, open ones survive restarts. */
import type { StoreMigration } from '../families/family.js';

export const ALARMS_MIGRATIONS: StoreMigration[] = [
  {
    version: 1,
    description: 'alarms',
    up(db) {
      db.exec(`
        CREATE TABLE IF NOT EXISTS alarms (
          id TEXT PRIMARY KEY,
          key TEXT NOT NULL,
          state TEXT NOT NULL,
          raised_at INTEGER NOT NULL,
          closed_at INTEGER,
          body TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS alarms_open ON alarms(state) WHERE state != 'closed';
        CREATE INDEX IF NOT EXISTS alarms_closed ON alarms(closed_at) WHERE closed_at IS NOT NULL;
      `);
    },
  },
];

export const ALARMS_BASELINE = ['alarms'];
