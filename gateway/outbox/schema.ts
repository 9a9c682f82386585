/**
 * Opening outbox.db: its pragmas and the store migrations (every owner's tables, see
 * gateway/store/). Kept apart from the outbox's logic so the durability decision and the
 * upgrade path are in one readable place.
 *
 * Durability decision: journal_mode=WAL with synchronous=FULL. better-sqlite3 leaves WAL at
 * SQLite's synchronous=NORMAL, where a commit is durable against a process crash but the
 * last transactions can roll back on a power cut because the WAL is not fsynced per
 * commit. CONTRACT.md promises that a recorded event survives a power cut, so every commit
 * fsyncs the WAL. Group commit (many events per transaction) pays for that fsync.
 */
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { GatehouseError } from '../core/errors.js';
import { isStorageError, sqliteCode } from './disk-space.js';
import { OUTBOX_MIGRATIONS } from './migrations.js';
import { migrateStore, type AppliedMigration, type StoreOwner } from '../store/migrate.js';
import { STORE_OWNERS } from '../store/owners.js';

/** The outbox owner's version this code knows (its migrations live in ./migrations.ts). */
export const OUTBOX_SCHEMA_VERSION = OUTBOX_MIGRATIONS.length;

export function applyPragmas(db: Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // After a TRUNCATE checkpoint the WAL file is cut back; this bounds it between checkpoints.
  db.pragma('journal_size_limit = 67108864');
  db.pragma('wal_autocheckpoint = 1000');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = OFF');
}

/**
 * Brings outbox.db to the layout of every owner this code knows (gateway/store/owners.ts),
 * in one transaction. The marker of the release before the registry (`meta.schema_version`)
 * is still honoured: a database it says is newer is refused like one schema_migrations says is.
 */
export function migrate(db: Database, owners: readonly StoreOwner[] = STORE_OWNERS, now: () => number = Date.now): AppliedMigration[] {
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
  const legacy = hasMeta ? (db.prepare("SELECT v FROM meta WHERE k = 'schema_version'").get() as { v: number } | undefined) : undefined;
  if (legacy && legacy.v > OUTBOX_SCHEMA_VERSION) {
    throw new GatehouseError(
      'STORE_SCHEMA_NEWER',
      `outbox.db holds the "outbox" tables at version ${legacy.v}, but this Gatehouse knows versions up to ${OUTBOX_SCHEMA_VERSION}: ` +
        'it was written by a newer Gatehouse. Upgrade Gatehouse, or restore a backup of the data directory made by this release.',
      { owner: 'outbox', recorded: legacy.v, known: OUTBOX_SCHEMA_VERSION },
    );
  }
  return migrateStore(db, [...owners], now);
}

/**
 * On a full disk a database that is already current opens (nothing to write); one that
 * needs a migration cannot be migrated. When the outbox's own tables are there it opens all
 * the same, so what is stored is read and sent and the other owners' tables wait for the
 * next start with space (their modules already treat a missing or unwritable table as a
 * storage failure); without them there is nothing to open.
 */
function migrateOrWait(db: Database): void {
  try {
    migrate(db);
  } catch (err) {
    const storage = isStorageError(err) || isStorageError((err as { cause?: unknown }).cause);
    const outboxTables = db
      .prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('meta', 'events', 'states', 'replies')")
      .get() as { n: number };
    if (!storage || outboxTables.n < 4) throw err;
  }
}

/**
 * Opens outbox.db for the daemon. On a full disk a WAL database may not open normally:
 * SQLite must create and size its shared-memory file (`-shm`), and fails with
 * SQLITE_IOERR_SHMSIZE. Then it is opened again in exclusive locking mode, where the WAL
 * index lives in process memory: everything already stored reads as usual and writes fail
 * (and are handled) until space is back. The cost is that no other process (the CLI) can
 * open the database until the daemon restarts. A database that does not exist yet cannot
 * be created on a full disk: that is a coded error saying so.
 */
export function openOutboxDatabase(file: string): { db: Database; exclusive: boolean } {
  const open = (exclusive: boolean): Database => {
    const db = new BetterSqlite3(file);
    try {
      if (exclusive) db.pragma('locking_mode = EXCLUSIVE');
      applyPragmas(db);
      migrateOrWait(db);
      return db;
    } catch (err) {
      db.close();
      throw err;
    }
  };
  try {
    return { db: open(false), exclusive: false };
  } catch (err) {
    if (!isStorageError(err)) throw err;
    try {
      return { db: open(true), exclusive: true };
    } catch (again) {
      if (!isStorageError(again)) throw again;
      throw new GatehouseError(
        'OUTBOX_DISK_FULL',
        `cannot open ${file}: the disk is full or failing (${sqliteCode(again)}); free space on the data partition, then start again`,
        { file, sqlite: sqliteCode(again) },
        { cause: again },
      );
    }
  }
}
