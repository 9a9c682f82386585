/** The command router's table in outbox.db: command ids already seen, so a replay is refused. */
import type { StoreMigration } from '../families/family.js';

export const COMMANDS_MIGRATIONS: StoreMigration[] = [
  {
    version: 1,
    description: 'command ids seen (replay refusal)',
    up(db) {
      db.exec(`
        CREATE TABLE IF NOT EXISTS commands_seen (
          id TEXT PRIMARY KEY,
          seen_at INTEGER NOT NULL,
          keep_until INTEGER NOT NULL,
          synced INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS commands_seen_keep ON commands_seen(keep_until);
      `);
    },
  },
];

export const COMMANDS_BASELINE = ['commands_seen'];
