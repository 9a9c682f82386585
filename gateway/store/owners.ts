/**
 * Every owner of tables in outbox.db, in the order their migrations run. This is the one
 * list to extend when a module or family gets tables; at merge it is meant to be composed
 * from the family manifests' `migrations` (gateway/families/family.ts) plus the core's
 * owners (outbox, alarms, console, commands), which stay listed here.
 *
 * An owner's name is recorded in schema_migrations: never rename one that has shipped.
 */
import { ACCESS_BASELINE, ACCESS_MIGRATIONS } from '../access/migrations.js';
import { ALARMS_BASELINE, ALARMS_MIGRATIONS } from '../alarms/migrations.js';
import { MEDIA_BASELINE, MEDIA_MIGRATIONS } from '../cameras/migrations.js';
import { CHARGING_BASELINE, CHARGING_MIGRATIONS } from '../charging/migrations.js';
import { COMMANDS_BASELINE, COMMANDS_MIGRATIONS } from '../commands/migrations.js';
import { CONSOLE_BASELINE, CONSOLE_MIGRATIONS } from '../console/migrations.js';
import { OUTBOX_BASELINE, OUTBOX_MIGRATIONS } from '../outbox/migrations.js';
import { DC09_BASELINE, DC09_MIGRATIONS, PERIMETER_BASELINE, PERIMETER_MIGRATIONS } from '../perimeter/migrations.js';
import type { StoreOwner } from './migrate.js';

/** An owner as listed here: with the tables it holds, which its scope may use and no other may. */
export type ListedOwner = StoreOwner & { tables: readonly string[] };

export const STORE_OWNERS: readonly ListedOwner[] = [
  { owner: 'outbox', migrations: OUTBOX_MIGRATIONS, tables: OUTBOX_BASELINE, baseline: OUTBOX_BASELINE },
  { owner: 'commands', migrations: COMMANDS_MIGRATIONS, tables: COMMANDS_BASELINE, baseline: COMMANDS_BASELINE },
  { owner: 'alarms', migrations: ALARMS_MIGRATIONS, tables: ALARMS_BASELINE, baseline: ALARMS_BASELINE },
  { owner: 'console', migrations: CONSOLE_MIGRATIONS, tables: CONSOLE_BASELINE, baseline: CONSOLE_BASELINE },
  { owner: 'access', migrations: ACCESS_MIGRATIONS, tables: ACCESS_BASELINE, baseline: ACCESS_BASELINE },
  { owner: 'charging', migrations: CHARGING_MIGRATIONS, tables: CHARGING_BASELINE, baseline: CHARGING_BASELINE },
  { owner: 'perimeter', migrations: PERIMETER_MIGRATIONS, tables: PERIMETER_BASELINE, baseline: PERIMETER_BASELINE },
  { owner: 'dc09', migrations: DC09_MIGRATIONS, tables: DC09_BASELINE, baseline: DC09_BASELINE },
  { owner: 'media', migrations: MEDIA_MIGRATIONS, tables: MEDIA_BASELINE, baseline: MEDIA_BASELINE },
];

export type StoreOwnerName = 'outbox' | 'commands' | 'alarms' | 'console' | 'access' | 'charging' | 'perimeter' | 'dc09' | 'media';
