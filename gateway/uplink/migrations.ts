/**
 * The uplink's table in outbox.db: which certificate-expiry notices were recorded, per
 * certificate (its SHA-256 fingerprint) and stage, so a restart inside the 30-day window
 * does not record `uplink.certificate_expiring` again (issue 15).
 */
import type { StoreMigration } from '../families/family.js';

export const UPLINK_MIGRATIONS: StoreMigration[] = [
  {
    version: 1,
    description: 'certificate-expiry notices recorded, per certificate fingerprint and stage',
    up(db) {
      db.exec(`
        CREATE TABLE IF NOT EXISTS uplink_cert_notices (
          fingerprint TEXT NOT NULL,
          stage TEXT NOT NULL,
          recorded_at INTEGER NOT NULL,
          PRIMARY KEY (fingerprint, stage)
        ) WITHOUT ROWID;
      `);
    },
  },
];

export const UPLINK_TABLES = ['uplink_cert_notices'];
