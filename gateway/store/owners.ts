/**
 * Every owner of tables in outbox.db, in the order their migrations run: the core's owners
 * listed here, then each registered family's `store` (its manifest). Every family's tables
 * are created whether or not the compound configures it, so a family added to the compound
 * file later finds its tables.
 *
 * An owner's name is recorded in schema_migrations: never rename one that has shipped.
 */
import { ALARMS_BASELINE, ALARMS_MIGRATIONS } from '../alarms/migrations.js';
import { MEDIA_BASELINE, MEDIA_MIGRATIONS } from '../cameras/migrations.js';
import { COMMANDS_BASELINE, COMMANDS_MIGRATIONS } from '../commands/migrations.js';
import { CONSOLE_BASELINE, CONSOLE_MIGRATIONS } from '../console/migrations.js';
import { OUTBOX_BASELINE, OUTBOX_MIGRATIONS } from '../outbox/migrations.js';
import { UPLINK_MIGRATIONS, UPLINK_TABLES } from '../uplink/migrations.js';
import { FAMILIES } from '../families/registry.js';
import type { StoreOwner } from './migrate.js';

/** An owner as listed here: with the tables it holds, which its scope may use and no other may. */
export type ListedOwner = StoreOwner & { tables: readonly string[] };

export const STORE_OWNERS: readonly ListedOwner[] = [
  { owner: 'outbox', migrations: OUTBOX_MIGRATIONS, tables: OUTBOX_BASELINE, baseline: OUTBOX_BASELINE },
  { owner: 'commands', migrations: COMMANDS_MIGRATIONS, tables: COMMANDS_BASELINE, baseline: COMMANDS_BASELINE },
  { owner: 'alarms', migrations: ALARMS_MIGRATIONS, tables: ALARMS_BASELINE, baseline: ALARMS_BASELINE },
  { owner: 'console', migrations: CONSOLE_MIGRATIONS, tables: CONSOLE_BASELINE, baseline: CONSOLE_BASELINE },
  { owner: 'media', migrations: MEDIA_MIGRATIONS, tables: MEDIA_BASELINE, baseline: MEDIA_BASELINE },
  // Added after the registry (like the families below): a release before it never has its table, so its migration runs.
  { owner: 'uplink', migrations: UPLINK_MIGRATIONS, tables: UPLINK_TABLES, baseline: UPLINK_TABLES },
  ...FAMILIES.flatMap((f) => f.store ?? []).map((o) => ({
    owner: o.owner,
    migrations: o.migrations,
    tables: o.tables,
    baseline: [...o.tables],
  })),
];

/** An owner's name as outbox.scope() takes it (checked against STORE_OWNERS at run time). */
export type StoreOwnerName = string;
