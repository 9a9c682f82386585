/** The charging cabinets' tables in outbox.db: sessions, safety latches, cabinet serials. */
import type { StoreMigration } from '../families/family.js';

export const CHARGING_MIGRATIONS: StoreMigration[] = [
  {
    version: 1,
    description: 'charging sessions, cabinet latches, cabinet serials',
    up(db) {
      db.exec(`
        CREATE TABLE IF NOT EXISTS charging_sessions (
          session_id INTEGER PRIMARY KEY,
          cabinet TEXT NOT NULL,
          port INTEGER NOT NULL,
          started_at INTEGER NOT NULL,
          started_synced INTEGER NOT NULL,
          started_via TEXT NOT NULL,
          started_principal TEXT,
          meter_start_wh INTEGER NOT NULL,
          power_limit_w INTEGER,
          max_duration_min INTEGER,
          last_meter_wh INTEGER NOT NULL,
          energy_wh INTEGER NOT NULL DEFAULT 0,
          elapsed_ms INTEGER NOT NULL DEFAULT 0,
          stopped_at INTEGER,
          meter_stop_wh INTEGER,
          stop_reason TEXT
        );
        CREATE UNIQUE INDEX IF NOT EXISTS charging_sessions_one_active ON charging_sessions(cabinet, port) WHERE stopped_at IS NULL;
        CREATE INDEX IF NOT EXISTS charging_sessions_stopped ON charging_sessions(stopped_at) WHERE stopped_at IS NOT NULL;
        CREATE TABLE IF NOT EXISTS charging_latches (
          cabinet TEXT PRIMARY KEY,
          reason TEXT NOT NULL,
          since INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS cabinet_serials (cabinet TEXT PRIMARY KEY, serial TEXT NOT NULL, seen INTEGER NOT NULL);
      `);
    },
  },
];

export const CHARGING_BASELINE = ['charging_sessions', 'charging_latches', 'cabinet_serials'];
