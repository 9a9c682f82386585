/** The snapshot index in outbox.db (the JPEG files are in {dataDir}/media/) and its upload queue. */
import type { StoreMigration } from '../families/family.js';

export const MEDIA_MIGRATIONS: StoreMigration[] = [
  {
    version: 1,
    description: 'snapshot index and upload queue',
    up(db) {
      db.exec(`
        CREATE TABLE IF NOT EXISTS media (
          id TEXT PRIMARY KEY,
          camera TEXT NOT NULL,
          alarm_id TEXT,
          created_at INTEGER NOT NULL,
          bytes INTEGER NOT NULL,
          sha256 TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS media_by_alarm ON media(alarm_id);
        CREATE TABLE IF NOT EXISTS media_queue (id TEXT PRIMARY KEY, queued_at INTEGER NOT NULL);
      `);
    },
  },
];

export const MEDIA_BASELINE = ['media', 'media_queue'];
