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
import type { Database } from 'better-sqlite3';

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
