/**
 * A module's handle on its own tables in outbox.db. The database is shared (one file, one
 * WAL, one fsync per group commit), but no module holds the connection itself any more:
 * each gets a scope with what it needs (prepare, exec, transaction) and the name of the
 * owner it writes for, so its tables come from its migrations and nowhere else, and no
 * module can close, re-pragma or checkpoint the outbox's connection.
 */
import type { Database, Statement, Transaction } from 'better-sqlite3';

export interface StoreScope {
  /** The schema_migrations owner whose tables this scope is for. */
  readonly owner: string;
  prepare<BindParameters extends unknown[] | {} = unknown[], Result = unknown>(sql: string): Statement<BindParameters, Result>;
  exec(sql: string): void;
  transaction<F extends (...args: any[]) => unknown>(fn: F): Transaction<F>;
}

export function scopeOf(db: Database, owner: string): StoreScope {
  return {
    owner,
    prepare: (sql) => db.prepare(sql),
    exec: (sql) => {
      db.exec(sql);
    },
    transaction: (fn) => db.transaction(fn),
  };
}
