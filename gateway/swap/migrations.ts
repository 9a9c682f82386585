/** The swap cabinets' tables in outbox.db: swap transactions, isolated slots, the packs the compound knows. */
import type { StoreMigration } from '../families/family.js';

export const SWAP_MIGRATIONS: StoreMigration[] = [
  {
    version: 1,
    description: 'swap transactions, isolated slots, known packs',
    up(db) {
      db.exec(`
        CREATE TABLE IF NOT EXISTS swap_transactions (
          swap_id INTEGER PRIMARY KEY,
          cabinet TEXT NOT NULL,
          phase TEXT NOT NULL,
          authorized_by TEXT NOT NULL,
          principal TEXT,
          started_at INTEGER NOT NULL,
          phase_at INTEGER NOT NULL,
          return_slot INTEGER NOT NULL,
          returned TEXT,
          issue_slot INTEGER,
          issued TEXT,
          ended_at INTEGER,
          outcome TEXT
        );
        CREATE UNIQUE INDEX IF NOT EXISTS swap_transactions_one_open ON swap_transactions(cabinet) WHERE ended_at IS NULL;
        CREATE TABLE IF NOT EXISTS swap_isolated (cabinet TEXT NOT NULL, slot INTEGER NOT NULL, reason TEXT NOT NULL, since INTEGER NOT NULL,
          PRIMARY KEY (cabinet, slot));
        CREATE TABLE IF NOT EXISTS swap_packs (battery_id TEXT PRIMARY KEY, first_seen INTEGER NOT NULL, cabinet TEXT NOT NULL);
      `);
    },
  },
  {
    version: 2,
    description: 'swap cabinet serial numbers, for device.replaced across restarts',
    up(db) {
      db.exec('CREATE TABLE IF NOT EXISTS swap_serials (cabinet TEXT PRIMARY KEY, serial TEXT NOT NULL, seen INTEGER NOT NULL)');
    },
  },
];

export const SWAP_BASELINE = ['swap_transactions', 'swap_isolated', 'swap_packs', 'swap_serials'];
