/** Access control's tables in outbox.db: credentials, their staging during a sync, anti-passback. */
import type { StoreMigration } from '../families/family.js';

export const ACCESS_MIGRATIONS: StoreMigration[] = [
  {
    version: 1,
    description: 'credentials, credential staging, anti-passback positions',
    up(db) {
      db.exec(`
        CREATE TABLE IF NOT EXISTS access_credentials (
          id TEXT PRIMARY KEY,
          mode TEXT NOT NULL,
          card_hash BLOB,
          card_mask TEXT,
          pin_hash BLOB,
          pin_lookup BLOB,
          groups TEXT NOT NULL,
          doors TEXT NOT NULL,
          schedule TEXT,
          valid_from INTEGER,
          valid_to INTEGER,
          revoked_at INTEGER
        );
        CREATE UNIQUE INDEX IF NOT EXISTS access_credentials_card ON access_credentials(card_hash) WHERE card_hash IS NOT NULL AND revoked_at IS NULL;
        CREATE UNIQUE INDEX IF NOT EXISTS access_credentials_pin ON access_credentials(pin_lookup) WHERE pin_lookup IS NOT NULL AND revoked_at IS NULL;
        CREATE INDEX IF NOT EXISTS access_credentials_revoked ON access_credentials(revoked_at) WHERE revoked_at IS NOT NULL;
        CREATE TABLE IF NOT EXISTS access_meta (k TEXT PRIMARY KEY, v INTEGER);
        CREATE TABLE IF NOT EXISTS access_staging (
          version INTEGER NOT NULL,
          chunk INTEGER NOT NULL,
          id TEXT NOT NULL,
          mode TEXT NOT NULL,
          card_hash BLOB,
          card_mask TEXT,
          pin_hash BLOB,
          pin_lookup BLOB,
          groups TEXT NOT NULL,
          doors TEXT NOT NULL,
          schedule TEXT,
          valid_from INTEGER,
          valid_to INTEGER,
          revoked_at INTEGER,
          PRIMARY KEY (version, chunk, id)
        );
        CREATE TABLE IF NOT EXISTS access_staging_chunks (
          version INTEGER NOT NULL,
          chunk INTEGER NOT NULL,
          chunks INTEGER NOT NULL,
          PRIMARY KEY (version, chunk)
        );
        CREATE TABLE IF NOT EXISTS access_apb (
          area TEXT NOT NULL,
          credential_id TEXT NOT NULL,
          inside INTEGER NOT NULL,
          moved_at INTEGER NOT NULL,
          PRIMARY KEY (area, credential_id)
        );
      `);
    },
  },
];

export const ACCESS_BASELINE = ['access_credentials', 'access_meta', 'access_staging', 'access_staging_chunks', 'access_apb'];
