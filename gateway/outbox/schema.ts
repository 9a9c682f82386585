/**
 * The outbox database layout and its pragmas. Kept apart from the logic so the layout
 * and the durability decision are in one readable place.
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

export const OUTBOX_SCHEMA_VERSION = 1;

export function applyPragmas(db: Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // After a TRUNCATE checkpoint the WAL file is cut back; this bounds it between checkpoints.
  db.pragma('journal_size_limit = 67108864');
  db.pragma('wal_autocheckpoint = 1000');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = OFF');
}

export function migrate(db: Database): void {
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
  `);
  const row = db.prepare('SELECT v FROM meta WHERE k = ?').get('schema_version') as { v: number } | undefined;
  if (!row) db.prepare('INSERT INTO meta (k, v) VALUES (?, ?)').run('schema_version', OUTBOX_SCHEMA_VERSION);
  else if (row.v > OUTBOX_SCHEMA_VERSION) {
    throw new Error(`outbox database has schema version ${row.v}, newer than this gatehouse (${OUTBOX_SCHEMA_VERSION}); upgrade gatehouse or move the data directory aside`);
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
      migrate(db);
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
