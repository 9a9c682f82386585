/**
 * outbox.db for tests that build one module on its own: a real SQLite database (a file or
 * `:memory:`) brought to the current layout by the store migrations, as the daemon does at
 * start, and scoped handles on it. Tests that inspect or break the outbox's own connection
 * (a page cap to fake a full disk, query_only) get it from outboxConnection(): production
 * code has no such access, the outbox keeps it private.
 */
import Database, { type Database as Db } from 'better-sqlite3';
import type { Outbox } from '../../gateway/outbox/outbox.js';
import { applyPragmas, migrate } from '../../gateway/outbox/schema.js';
import { scopeOf, type StoreScope } from '../../gateway/store/scope.js';
import type { StoreOwnerName } from '../../gateway/store/owners.js';

export function migratedDb(file = ':memory:'): Db {
  const db = new Database(file);
  if (file !== ':memory:') applyPragmas(db);
  migrate(db);
  return db;
}

export function scoped(db: Db, owner: StoreOwnerName): StoreScope {
  return scopeOf(db, owner);
}

export function outboxConnection(outbox: Outbox): Db {
  return (outbox as unknown as { db: Db }).db;
}
