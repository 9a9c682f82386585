/** The console's tables in outbox.db: accounts, sessions and the one-time setup token. */
import type { StoreMigration } from '../families/family.js';

export const CONSOLE_MIGRATIONS: StoreMigration[] = [
  {
    version: 1,
    description: 'console users, sessions and setup token',
    up(db) {
      db.exec(`
        CREATE TABLE IF NOT EXISTS console_users (
          username TEXT PRIMARY KEY,
          role TEXT NOT NULL CHECK (role IN ('guard', 'installer', 'admin')),
          password_hash TEXT NOT NULL,
          disabled INTEGER NOT NULL DEFAULT 0,
          created_at INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS console_sessions (
          id_hash TEXT PRIMARY KEY,
          username TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          last_seen INTEGER NOT NULL,
          csrf TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS console_sessions_by_user ON console_sessions(username);
        CREATE TABLE IF NOT EXISTS console_setup (
          token_hash TEXT PRIMARY KEY,
          expires_at INTEGER NOT NULL
        );
      `);
    },
  },
];

export const CONSOLE_BASELINE = ['console_users', 'console_sessions', 'console_setup'];
