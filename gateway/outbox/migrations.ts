/**
 * The outbox's own tables in outbox.db. Version 1 is the layout of the release before the
 * migration registry (issue 12), which marked it `meta.schema_version = 1`; that marker is
 * still written so a box rolled back to that release opens the database as before.
 */
import type { StoreMigration } from '../families/family.js';

export const OUTBOX_MIGRATIONS: StoreMigration[] = [
  {
    version: 1,
    description: 'events, states, replies and the meta counters',
    up(db) {
      db.exec(`
        CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS events (
          seq INTEGER PRIMARY KEY,
          class TEXT NOT NULL,
          recorded_at INTEGER NOT NULL,
          synced INTEGER NOT NULL,
          pinned INTEGER NOT NULL DEFAULT 0,
          body TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS events_by_class ON events(class, seq);
        CREATE TABLE IF NOT EXISTS states (
          device TEXT PRIMARY KEY,
          body TEXT NOT NULL,
          updated_at INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS replies (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          topic TEXT NOT NULL,
          body TEXT NOT NULL,
          created_at INTEGER NOT NULL
        );
        INSERT OR IGNORE INTO meta (k, v) VALUES ('schema_version', 1);
      `);
    },
  },
];

export const OUTBOX_BASELINE = ['meta', 'events', 'states', 'replies'];
