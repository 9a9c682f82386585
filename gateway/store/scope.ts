/**
 * A module's handle on its own tables in outbox.db. The database is shared (one file, one
 * WAL, one fsync per group commit), but no module holds the connection itself any more:
 * each gets a scope with what it needs (prepare, exec, transaction) and the name of the
 * owner it writes for, so its tables come from its migrations and nowhere else, and no
 * module can close, re-pragma or checkpoint the outbox's connection.
 *
 * A scope also refuses SQL that names another owner's table: one module reading or writing
 * another's rows is how a column change in one owner breaks a second one unnoticed. The check
 * is a word match of the statement against the other owners' table names, at prepare time
 * (statements are prepared once, at construction, almost everywhere).
 */
import type { Database, Statement, Transaction } from 'better-sqlite3';
import { GatehouseError } from '../core/errors.js';
import { STORE_OWNERS } from './owners.js';

export interface StoreScope {
  /** The schema_migrations owner whose tables this scope is for. */
  readonly owner: string;
  // The two signatures below mirror better-sqlite3's own Database methods, `{}` and `any` included.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  prepare<BindParameters extends unknown[] | {} = unknown[], Result = unknown>(sql: string): Statement<BindParameters, Result>;
  exec(sql: string): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  transaction<F extends (...args: any[]) => unknown>(fn: F): Transaction<F>;
  /**
   * Only on the outbox's scopes: runs `write` inside the outbox's next group commit (one fsync
   * for everything recorded in that event-loop turn). `write` may run more than once if the
   * commit is retried (a full disk), so it must write current values, not increments.
   */
  defer?(write: () => void, done: (err?: unknown) => void): void;
}

const foreignCache = new Map<string, { pattern: RegExp; ownerOf: Map<string, string> }>();

/** The other owners' tables as one word-bounded pattern, built once per owner. */
function foreignTables(owner: string): { pattern: RegExp; ownerOf: Map<string, string> } | undefined {
  let f = foreignCache.get(owner);
  if (!f) {
    const ownerOf = new Map<string, string>();
    for (const o of STORE_OWNERS) if (o.owner !== owner) for (const t of o.tables) ownerOf.set(t, o.owner);
    f = { pattern: new RegExp(`\\b(${[...ownerOf.keys()].join('|')})\\b`, 'i'), ownerOf };
    foreignCache.set(owner, f);
  }
  return f.ownerOf.size ? f : undefined;
}

function checkOwn(owner: string, sql: string): void {
  const f = foreignTables(owner);
  const m = f?.pattern.exec(sql);
  if (!m) return;
  const table = m[1]!.toLowerCase();
  throw new GatehouseError('INTERNAL', `store scope "${owner}" may not use table ${table} of owner "${f!.ownerOf.get(table)}"`, {
    owner,
    table,
  });
}

export function scopeOf(db: Database, owner: string): StoreScope {
  // Owner names are plain strings (a family declares its own): a typo fails here, at start.
  if (!STORE_OWNERS.some((o) => o.owner === owner)) {
    throw new GatehouseError(
      'INTERNAL',
      `no store owner "${owner}": declare it in a family manifest's store (or the core's in gateway/store/owners.ts)`,
      { owner },
    );
  }
  return {
    owner,
    prepare: (sql) => {
      checkOwn(owner, sql);
      return db.prepare(sql);
    },
    exec: (sql) => {
      checkOwn(owner, sql);
      db.exec(sql);
    },
    transaction: (fn) => db.transaction(fn),
  };
}
