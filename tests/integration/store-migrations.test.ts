/**
 * The versioned store on real SQLite files: a database the release before the registry
 * wrote (tests/fixtures/store/, made by that release's own code) opens, is recognised as
 * version 1 of every owner without anything recreated, and every row is read back through
 * the modules; a database a newer Gatehouse wrote is refused with a clear coded error and
 * left as it was; migrations run in one transaction, so a failing one changes nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import Database, { type Database as Db } from 'better-sqlite3';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ManualClock } from '../../gateway/core/clock.js';
import { GatehouseError, isGatehouseError } from '../../gateway/core/errors.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { migrate } from '../../gateway/outbox/schema.js';
import { checkRegistry, migrateStore, type StoreOwner } from '../../gateway/store/migrate.js';
import { STORE_OWNERS } from '../../gateway/store/owners.js';
import { Accounts } from '../../gateway/console/accounts.js';
import { Dc09ReplayGuard } from '../../gateway/perimeter/dc09-replay.js';
import { ReplayStore } from '../../gateway/commands/replay-store.js';
import { CabinetSerials } from '../../gateway/charging/latches.js';
import { AlarmStore } from '../../gateway/alarms/alarm-store.js';
import { ROOT } from '../helpers/cli.js';
import { mountTmpfs, type Tmpfs } from '../helpers/tmpfs.js';
import { FAMILIES } from '../../gateway/families/registry.js';

const FIXTURE = resolve(ROOT, 'tests/fixtures/store/release-0.1-outbox.db');
const T0 = Date.UTC(2026, 10, 21, 22, 0, 0);
/** The owners whose tables the fixture's release created. */
const RELEASE_01_OWNERS = ['outbox', 'commands', 'alarms', 'console', 'media', 'access', 'perimeter', 'dc09', 'charging'];
const dirs: string[] = [];
const open: { close(): void }[] = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'gh-store-'));
  dirs.push(d);
  return d;
}

function fixtureCopy(): string {
  const file = join(tmp(), 'outbox.db');
  copyFileSync(FIXTURE, file);
  return file;
}

function raw(file: string): Db {
  const db = new Database(file);
  open.push(db);
  return db;
}

/** Every table and index as SQLite stores its definition, but the registry's own table. */
const layout = (db: Db) =>
  db
    .prepare(
      "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'schema_migrations%' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .all();

const thrown = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected it to throw');
};

describe('a database written by the release before the registry', () => {
  it('is recognised as version 1 of every owner by its tables: nothing is run or recreated', () => {
    const file = fixtureCopy();
    const db = raw(file);
    const before = layout(db);
    const applied = migrate(db, STORE_OWNERS, () => T0);
    // Owners with a baseline had their tables in that release; owners added since (a new
    // family) have none to recognise, so their first migration runs and creates them.
    const had = new Set((before as { tbl_name: string }[]).map((t) => t.tbl_name));
    const inRelease = (o: (typeof STORE_OWNERS)[number]) => (o.baseline ?? []).every((t) => had.has(t));
    const added = STORE_OWNERS.filter((o) => !inRelease(o));
    // Every owner that release had is recognised; owners added since are not named here, so a new family needs no edit.
    expect(STORE_OWNERS.filter(inRelease).map((o) => o.owner)).toEqual(RELEASE_01_OWNERS);
    const addedTables = new Set(added.flatMap((o) => o.tables));
    // Version 1 by baseline or run, then every later version of the owner run, in order.
    expect(applied.map((a) => `${a.owner} ${a.version} ${a.how}`)).toEqual(
      STORE_OWNERS.flatMap((o) => [
        `${o.owner} 1 ${inRelease(o) ? 'baseline' : 'ran'}`,
        ...o.migrations.slice(1).map((m) => `${o.owner} ${m.version} ran`),
      ]),
    );
    const after = layout(db) as { tbl_name: string }[];
    expect(after.filter((t) => !addedTables.has(t.tbl_name))).toEqual(before);
    expect(new Set(after.map((t) => t.tbl_name))).toEqual(
      new Set([...(before as { tbl_name: string }[]).map((t) => t.tbl_name), ...addedTables]),
    );
    const rows = db.prepare('SELECT owner, version, applied_at FROM schema_migrations ORDER BY owner').all();
    expect(rows).toEqual(
      [...STORE_OWNERS]
        .flatMap((o) => o.migrations.map((m) => ({ owner: o.owner, version: m.version, applied_at: T0 })))
        .sort((a, b) => a.owner.localeCompare(b.owner) || a.version - b.version),
    );
    // Opening again finds everything current.
    expect(migrate(db, STORE_OWNERS)).toEqual([]);
  });

  it("opens in the daemon's outbox and every module reads its rows back", async () => {
    const file = fixtureCopy();
    const clock = new ManualClock(T0 + 60_000);
    const outbox = new Outbox({ file, clock, timers: clock, config: { checkpointIntervalMs: 0, reserveBytes: 0 } });
    open.push(outbox);
    expect(outbox.readEvents(0, 100).map((r) => (JSON.parse(r.body) as { type: string }).type)).toEqual([
      'gateway.started',
      'access.granted',
    ]);
    expect(outbox.readStates()).toEqual([{ device: 'door-1', body: expect.stringContaining('"locked":true') }]);
    // The sequence goes on where the old release left it.
    await expect(
      outbox.record({ class: 'system', type: 'gateway.started', source: { device: 'gateway' }, data: { version: '0.1.0', failed: [] } }),
    ).resolves.toMatchObject({ seq: 3 });

    const accounts = new Accounts(outbox.scope('console'), () => clock.now());
    expect(await accounts.check('fixture-admin', 'fixture-password-1234')).toMatchObject({ ok: true, user: { role: 'admin' } });
    const access = outbox.scope('access');
    expect(access.prepare('SELECT id, mode, doors FROM access_credentials').all()).toEqual([
      { id: 'cred-1', mode: 'card', doors: '["door-1"]' },
    ]);
    expect(access.prepare("SELECT v FROM access_meta WHERE k = 'revision'").get()).toEqual({ v: 7 });
    const alarms = new AlarmStore(outbox.scope('alarms'), (err) => {
      throw err;
    });
    expect(alarms.get('alarm-1')).toEqual({ id: 'alarm-1' });
    const perimeter = outbox.scope('perimeter');
    expect(perimeter.prepare('SELECT partition, armed FROM perimeter_partitions').all()).toEqual([{ partition: 'perimeter', armed: 1 }]);
    expect(perimeter.prepare('SELECT zone, by FROM perimeter_bypasses').all()).toEqual([{ zone: 'z2', by: 'fixture' }]);
    const guard = new Dc09ReplayGuard({
      db: outbox.scope('dc09'),
      onError: (err) => {
        throw err;
      },
    });
    expect(guard.mark('1234')).toMatchObject({ highWater: T0, seq: '0042' });
    expect(new ReplayStore(outbox.scope('commands'), clock, 600_000).claim('cmd-1').fresh).toBe(false);
    const serials = new CabinetSerials(outbox.scope('charging'), clock);
    expect(serials.get('cab-1')).toBe('SN-0001');
  });

  it('takes a later migration of an owner in the same start (the upgrade path for a column change)', () => {
    const file = fixtureCopy();
    const db = raw(file);
    const owners: StoreOwner[] = STORE_OWNERS.map((o) =>
      o.owner !== 'alarms'
        ? o
        : {
            ...o,
            migrations: [
              ...o.migrations,
              { version: 2, description: 'alarm notes', up: (d) => d.exec('ALTER TABLE alarms ADD COLUMN note TEXT') },
            ],
          },
    );
    const applied = migrate(db, owners, () => T0);
    expect(applied.filter((a) => a.owner === 'alarms').map((a) => `${a.version} ${a.how}`)).toEqual(['1 baseline', '2 ran']);
    expect(db.prepare('SELECT id, note FROM alarms').all()).toEqual([{ id: 'alarm-1', note: null }]);
  });
});

describe('a database written by a newer Gatehouse', () => {
  it('is refused with the owner, both versions and what to do, and left as it was', () => {
    const file = join(tmp(), 'outbox.db');
    new Outbox({ file, clock: new ManualClock(), config: { checkpointIntervalMs: 0, reserveBytes: 0 } }).close();
    const db = raw(file);
    db.prepare("INSERT INTO schema_migrations (owner, version, description, applied_at) VALUES ('access', 2, 'from the future', 0)").run();
    const before = db.prepare('SELECT * FROM schema_migrations ORDER BY owner, version').all();
    const err = thrown(() => new Outbox({ file, clock: new ManualClock(), config: { checkpointIntervalMs: 0, reserveBytes: 0 } }));
    expect(isGatehouseError(err, 'STORE_SCHEMA_NEWER')).toBe(true);
    const e = err as GatehouseError;
    expect(e.details).toEqual({ owner: 'access', recorded: 2, known: 1 });
    expect(e.message).toMatch(/"access" tables at version 2, but this Gatehouse knows versions up to 1/);
    expect(e.message).toMatch(/Upgrade Gatehouse/);
    expect(e.message).toMatch(/restore a backup/);
    expect(db.prepare('SELECT * FROM schema_migrations ORDER BY owner, version').all()).toEqual(before);
  });

  it('is refused too when only the old outbox marker says so (a database without schema_migrations)', () => {
    const file = fixtureCopy();
    const db = raw(file);
    db.prepare("UPDATE meta SET v = 2 WHERE k = 'schema_version'").run();
    const before = layout(db);
    expect(
      isGatehouseError(
        thrown(() => migrate(db)),
        'STORE_SCHEMA_NEWER',
      ),
    ).toBe(true);
    expect(layout(db)).toEqual(before);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'schema_migrations'").get()).toBeUndefined();
  });
});

describe('migrations run in one transaction', () => {
  const failing: StoreOwner[] = [
    { owner: 'first', migrations: [{ version: 1, description: 'a table', up: (d) => d.exec('CREATE TABLE first_t (x INTEGER)') }] },
    {
      owner: 'second',
      migrations: [
        { version: 1, description: 'a table', up: (d) => d.exec('CREATE TABLE second_t (x INTEGER)') },
        { version: 2, description: 'a broken step', up: (d) => d.exec('ALTER TABLE no_such_table ADD COLUMN y TEXT') },
      ],
    },
  ];

  it('a failing migration leaves a new database empty and says which step failed', () => {
    const db = raw(join(tmp(), 'outbox.db'));
    const err = thrown(() => migrateStore(db, failing));
    expect(isGatehouseError(err, 'STORE_MIGRATION_FAILED')).toBe(true);
    expect((err as GatehouseError).message).toMatch(/second 2 \("a broken step"\) failed: no such table: no_such_table/);
    expect(db.prepare('SELECT name FROM sqlite_master').all()).toEqual([]);
  });

  it('a failing migration leaves an existing database exactly as it was (rows, layout, recorded versions)', () => {
    const file = fixtureCopy();
    const db = raw(file);
    migrate(db, STORE_OWNERS, () => T0);
    const before = {
      layout: layout(db),
      recorded: db.prepare('SELECT * FROM schema_migrations ORDER BY owner').all(),
      alarms: db.prepare('SELECT * FROM alarms').all(),
    };
    const owners: StoreOwner[] = STORE_OWNERS.map((o) =>
      o.owner !== 'alarms'
        ? o
        : {
            ...o,
            migrations: [
              ...o.migrations,
              {
                version: 2,
                description: 'drops a column',
                up: (d) => d.exec('CREATE TABLE alarms_new (id TEXT); INSERT INTO alarms_new SELECT id FROM alarms; DROP TABLE alarms'),
              },
              { version: 3, description: 'broken', up: (d) => d.exec('ALTER TABLE nothing_here ADD COLUMN x TEXT') },
            ],
          },
    );
    expect(
      isGatehouseError(
        thrown(() => migrate(db, owners)),
        'STORE_MIGRATION_FAILED',
      ),
    ).toBe(true);
    expect({
      layout: layout(db),
      recorded: db.prepare('SELECT * FROM schema_migrations ORDER BY owner').all(),
      alarms: db.prepare('SELECT * FROM alarms').all(),
    }).toEqual(before);
  });
});

describe('the registry', () => {
  it('is well formed and every table of a new database belongs to exactly one owner', () => {
    expect(() => checkRegistry([...STORE_OWNERS])).not.toThrow();
    const db = raw(join(tmp(), 'outbox.db'));
    migrate(db);
    const tables = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations' ORDER BY name",
      )
      .pluck()
      .all() as string[];
    const owned = STORE_OWNERS.flatMap((o) => o.tables).sort();
    expect(tables).toEqual(owned);
  });

  it("gives each module a scope that refuses another owner's tables", () => {
    const outbox = new Outbox({
      file: join(tmp(), 'outbox.db'),
      clock: new ManualClock(),
      config: { checkpointIntervalMs: 0, reserveBytes: 0 },
    });
    open.push(outbox);
    const access = outbox.scope('access');
    expect(access.prepare('SELECT COUNT(*) AS n FROM access_credentials').get()).toEqual({ n: 0 });
    expect(() => access.prepare('SELECT * FROM alarms')).toThrow('store scope "access" may not use table alarms of owner "alarms"');
    expect(() => access.exec('DELETE FROM Events')).toThrow('table events of owner "outbox"');
    expect(() => outbox.scope('console').prepare('UPDATE access_meta SET v = 0')).toThrow(/owner "access"/);
    // Column names that merely contain a table's name are not mistaken for it.
    expect(() => outbox.scope('alarms').prepare('SELECT id FROM alarms WHERE state = ?')).not.toThrow();
    expect(() => outbox.scope('media').prepare('SELECT alarm_id FROM media_queue q JOIN media m USING (id)')).not.toThrow();
    // Owner names are plain strings a family declares: an unknown one is refused, not silently unscoped.
    expect(() => outbox.scope('acess')).toThrow('no store owner "acess"');
  });

  it("takes the families' owners from their manifests (the registry), after the core's", () => {
    const names = STORE_OWNERS.map((o) => o.owner);
    expect(names.slice(0, 6)).toEqual(['outbox', 'commands', 'alarms', 'console', 'media', 'uplink']);
    expect(names.slice(6)).toEqual(FAMILIES.flatMap((f) => f.store ?? []).map((o) => o.owner));
    expect(names).toEqual(expect.arrayContaining(['access', 'charging', 'perimeter', 'dc09']));
  });

  it('refuses migrations numbered out of order and an owner listed twice', () => {
    const m = (version: number) => ({ version, description: 'x', up: () => undefined });
    expect(() => checkRegistry([{ owner: 'a', migrations: [m(1), m(3)] }])).toThrow(/migration 2 is numbered 3/);
    expect(() =>
      checkRegistry([
        { owner: 'a', migrations: [m(1)] },
        { owner: 'a', migrations: [] },
      ]),
    ).toThrow(/registered twice/);
  });
});

describe('an upgrade on a full disk', () => {
  let fs: Tmpfs | undefined;
  afterEach(() => {
    fs?.release();
    fs?.unmount();
    fs = undefined;
  });

  it('opens the old database all the same (events read and sent) and migrates at the first start with room', async () => {
    fs = mountTmpfs(4 * 1024 * 1024);
    const file = join(fs.dir, 'outbox.db');
    copyFileSync(FIXTURE, file);
    fs.fill();
    const clock = new ManualClock(T0);
    const first = new Outbox({ file, clock, timers: clock, config: { checkpointIntervalMs: 0, reserveBytes: 0 } });
    open.push(first);
    expect(first.exclusive).toBe(true);
    expect(first.readEvents(0, 100)).toHaveLength(2);
    first.close();
    open.splice(0);
    fs.release();
    // Nothing could be migrated while the disk was full.
    const db = raw(file);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'schema_migrations'").get()).toBeUndefined();
    db.close();
    open.splice(0);
    const second = new Outbox({ file, clock, timers: clock, config: { checkpointIntervalMs: 0, reserveBytes: 0 } });
    open.push(second);
    expect(second.scope('outbox').prepare('SELECT owner FROM schema_migrations ORDER BY owner, version').pluck().all()).toEqual(
      STORE_OWNERS.flatMap((o) => o.migrations.map(() => o.owner)).sort(),
    );
  });
});
