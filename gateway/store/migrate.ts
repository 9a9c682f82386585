/**
 * The store's migration registry: every owner of tables in outbox.db (the outbox, alarms,
 * access, charging, ...) lists numbered migrations, and they run at open in ONE transaction,
 * recorded in `schema_migrations(owner, version, description, applied_at)`. Either the
 * whole database moves to what this code knows, or nothing changes (a failing step rolls
 * every step back, so a box is never left half-upgraded).
 *
 * A database whose recorded version of an owner is newer than this code knows is refused
 * before anything is written: its tables may hold columns or meanings this code would
 * misread or drop. After the settings-migration idea of zigbee2mqtt, with the refusal added.
 *
 * Databases made before this registry (no schema_migrations, tables made by
 * `CREATE TABLE IF NOT EXISTS` in each module) are recognised by their tables: when an
 * owner's baseline tables all exist, its version 1 is recorded as applied without running
 * it. Version 1 of every owner is that release's DDL, kept idempotent (`IF NOT EXISTS`), so
 * an owner whose tables were only partly created then (some were made lazily) gets the
 * missing ones and keeps the rest.
 */
import type { Database } from 'better-sqlite3';
import { GatehouseError } from '../core/errors.js';
import type { StoreMigration } from '../families/family.js';

export type { StoreMigration };

export interface StoreOwner {
  /** Stable name recorded in schema_migrations; never renamed once shipped. */
  owner: string;
  migrations: StoreMigration[];
  /** Tables whose presence in a pre-registry database means version 1 is already there. */
  baseline?: string[];
}

export interface AppliedMigration {
  owner: string;
  version: number;
  description: string;
  /** 'ran' executed its SQL now; 'baseline' found the tables of a release before the registry. */
  how: 'ran' | 'baseline';
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  owner TEXT NOT NULL,
  version INTEGER NOT NULL,
  description TEXT NOT NULL,
  applied_at INTEGER NOT NULL,
  PRIMARY KEY (owner, version)
)`;

/** Throws on a registry that is not well formed: a programming error, caught by the tests. */
export function checkRegistry(owners: StoreOwner[]): void {
  const names = new Set<string>();
  for (const o of owners) {
    if (names.has(o.owner)) throw new Error(`store owner "${o.owner}" is registered twice`);
    names.add(o.owner);
    o.migrations.forEach((m, i) => {
      if (m.version !== i + 1)
        throw new Error(`store owner "${o.owner}": migration ${i + 1} is numbered ${m.version}; number them 1, 2, 3, ...`);
    });
  }
}

/** The version of each owner recorded in the database (owners never migrated are absent). */
export function recordedVersions(db: Database): Map<string, number> {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (!exists) return new Map();
  const rows = db.prepare('SELECT owner, MAX(version) AS v FROM schema_migrations GROUP BY owner').all() as { owner: string; v: number }[];
  return new Map(rows.map((r) => [r.owner, r.v]));
}

/**
 * Brings the database to the versions the registry knows, in one immediate transaction.
 * Returns what it applied (empty when the database was current). Throws STORE_SCHEMA_NEWER
 * (nothing written) or STORE_MIGRATION_FAILED (rolled back, the cause attached); a storage
 * error (full disk) is passed on as it is, so the caller can tell it apart.
 */
export function migrateStore(db: Database, owners: StoreOwner[], now: () => number = Date.now): AppliedMigration[] {
  checkRegistry(owners);
  refuseNewer(db, owners);
  const tableExists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
  const applied: AppliedMigration[] = [];
  const run = db.transaction(() => {
    db.exec(CREATE_TABLE);
    const recorded = recordedVersions(db);
    const mark = db.prepare('INSERT INTO schema_migrations (owner, version, description, applied_at) VALUES (?, ?, ?, ?)');
    for (const o of owners) {
      let at = recorded.get(o.owner) ?? 0;
      const first = o.migrations[0];
      if (at === 0 && first && o.baseline?.length && o.baseline.every((t) => tableExists.get(t))) {
        mark.run(o.owner, 1, first.description, now());
        applied.push({ owner: o.owner, version: 1, description: first.description, how: 'baseline' });
        at = 1;
      }
      for (const m of o.migrations.slice(at)) {
        try {
          m.up(db);
        } catch (err) {
          throw new GatehouseError(
            'STORE_MIGRATION_FAILED',
            `store migration ${o.owner} ${m.version} ("${m.description}") failed: ${(err as Error).message}; outbox.db was left as it was`,
            { owner: o.owner, version: m.version },
            { cause: err },
          );
        }
        mark.run(o.owner, m.version, m.description, now());
        applied.push({ owner: o.owner, version: m.version, description: m.description, how: 'ran' });
      }
    }
  });
  run.immediate();
  return applied;
}

function refuseNewer(db: Database, owners: StoreOwner[]): void {
  const recorded = recordedVersions(db);
  for (const o of owners) {
    const known = o.migrations.length;
    const have = recorded.get(o.owner) ?? 0;
    if (have > known) {
      throw new GatehouseError(
        'STORE_SCHEMA_NEWER',
        `outbox.db holds the "${o.owner}" tables at version ${have}, but this Gatehouse knows versions up to ${known}: ` +
          'it was written by a newer Gatehouse. Upgrade Gatehouse to that release (or newer), or restore a backup of the data directory ' +
          'made by this release; do not delete outbox.db, it holds events not yet sent.',
        { owner: o.owner, recorded: have, known },
      );
    }
  }
}
