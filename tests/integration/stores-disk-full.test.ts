/**
 * The other tables in outbox.db on a real full filesystem: writes that run from timers,
 * start-up steps and device loops (replay-id purge at start, charging progress on every
 * cabinet poll, a console session's touch, the snapshot queue's dequeue on PUBACK) keep
 * their state in memory and do not throw; alarm changes and alarm events the disk refused
 * are written once there is room; a disk error is not mistaken for a bug (other errors
 * still throw).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database as Db } from 'better-sqlite3';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../gateway/core/clock.js';
import { ReplayStore } from '../../gateway/commands/replay-store.js';
import { ChargingSessions } from '../../gateway/charging/sessions.js';
import { Sessions as ConsoleSessions } from '../../gateway/console/sessions.js';
import { tolerateStorageError } from '../../gateway/outbox/disk-space.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { AlarmManager } from '../../gateway/alarms/alarm-manager.js';
import { AlarmsConfig } from '../../config/perimeter-schema.js';
import { silentLogger } from '../../gateway/core/log.js';
import type { Envelope } from '../../gateway/core/events.js';
import { mountTmpfs, type Tmpfs } from '../helpers/tmpfs.js';
import { migratedDb, scoped } from '../helpers/store.js';

describe('outbox.db side tables on a full disk', () => {
  let fs: Tmpfs;
  let dir: string;
  let n = 0;
  const dbs: Db[] = [];

  beforeAll(() => {
    fs = mountTmpfs(4 * 1024 * 1024);
  });
  afterAll(() => fs?.unmount());
  afterEach(() => {
    for (const d of dbs.splice(0)) d.close();
    fs.release();
    rmSync(dir, { recursive: true, force: true });
  });

  const openDb = (): Db => {
    dir = join(fs.dir, `case-${n++}`);
    mkdirSync(dir);
    const db = migratedDb(join(dir, 'outbox.db'));
    dbs.push(db);
    return db;
  };
  const fillDisk = (db: Db) => {
    db.pragma('wal_checkpoint(TRUNCATE)');
    fs.fill();
  };

  it('starts the command replay store on a full disk with ids to adopt and purge', () => {
    const db = openDb();
    const clock = new ManualClock(Date.UTC(2026, 10, 21, 12), 'unsynced');
    const first = new ReplayStore(scoped(db, 'commands'), clock, 60_000);
    for (let i = 0; i < 50; i++) expect(first.claim(`cmd-${i}`).fresh).toBe(true);
    fillDisk(db);
    // The clock is now synced: start-up adopts the unsynced ids and purges the old ones, both writes.
    clock.setState('synced');
    clock.advance(3600_000);
    const again = new ReplayStore(scoped(db, 'commands'), clock, 60_000);
    expect(again.purge()).toBe(0);
    fs.release();
    // Adopted now (kept one more window from now), then purged once that window is over.
    expect(again.purge()).toBe(0);
    clock.advance(61_000);
    expect(again.purge()).toBe(50);
  });

  it('keeps charging progress in memory while the disk is full (the cabinet poll that also evaluates smoke goes on)', () => {
    const db = openDb();
    const clock = new ManualClock();
    const sessions = new ChargingSessions({ db: scoped(db, 'charging'), clock, meterIntervalMs: 1000 });
    sessions.start({ cabinet: 'cab-1', port: 1, meterStartWh: 100, startedBy: 'local' });
    fillDisk(db);
    clock.advance(2000);
    expect(sessions.meter('cab-1', 1, 150)).toMatchObject({ energyWh: 50 });
    expect(() => sessions.start({ cabinet: 'cab-1', port: 2, meterStartWh: 0, startedBy: 'local' })).not.toThrow();
    expect(sessions.stop('cab-1', 1, 180, 'unplugged')).toMatchObject({ energyWh: 80 });
  });

  it('lets a logged-in guard keep using the console when the session touch cannot be written', () => {
    const db = openDb();
    const clock = new ManualClock();
    const sessions = new ConsoleSessions(scoped(db, 'console'), () => clock.now(), { idleMs: 3600_000, maxMs: 12 * 3600_000 });
    db.prepare(
      "INSERT INTO console_users (username, role, password_hash, disabled, created_at) VALUES ('guard', 'guard', 'x', 0, 0)",
    ).run();
    const { id } = sessions.create('guard');
    fillDisk(db);
    clock.advance(10 * 60_000);
    expect(sessions.lookup(id)).toMatchObject({ username: 'guard' });
  });

  it('keeps alarm changes and events the full disk refused, and writes them once there is room', async () => {
    dir = join(fs.dir, `case-${n++}`);
    mkdirSync(dir);
    const clock = new ManualClock();
    const outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, timers: clock, config: { checkpointIntervalMs: 0, reserveBytes: 0 } });
    try {
      const alarms = new AlarmManager({
        db: outbox.scope('alarms'),
        outbox,
        config: AlarmsConfig.parse({}),
        clock,
        timers: clock,
        log: silentLogger(),
      });
      const a = alarms.raise({ kind: 'panel.burglary', source: { device: 'panel-1', point: 'zone-3' }, priority: 'high', momentary: true });
      await new Promise((r) => setImmediate(r));
      outbox.checkpoint();
      fs.fill();
      // Handled and closed while the disk is full: in memory at once, on disk later.
      alarms.close(a.id, { by: 'guard-1' });
      const b = alarms.raise({ kind: 'panel.burglary', source: { device: 'panel-1', point: 'zone-4' }, priority: 'high' });
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      const row = (id: string) =>
        outbox.scope('alarms').prepare('SELECT state FROM alarms WHERE id = ?').get(id) as { state: string } | undefined;
      expect(row(a.id)).toEqual({ state: 'raised' });
      expect(row(b.id)).toBeUndefined();
      fs.release();
      expect(alarms.retryUnrecorded()).toBe(2); // alarm.closed of a, alarm.raised of b
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      expect(row(a.id)).toEqual({ state: 'closed' });
      expect(row(b.id)).toEqual({ state: 'raised' });
      const types = outbox.readEvents(0, 1e6).map((r) => (JSON.parse(r.body) as Envelope).type);
      expect(types.filter((t) => t === 'alarm.raised')).toHaveLength(2);
      expect(types).toContain('alarm.closed');
      await alarms.stop();
    } finally {
      outbox.close();
    }
  });

  it('records a refused alarm.raised once: a source reporting again before the retry records it, and the retry then skips it', async () => {
    dir = join(fs.dir, `case-${n++}`);
    mkdirSync(dir);
    const clock = new ManualClock();
    const outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, timers: clock, config: { checkpointIntervalMs: 0, reserveBytes: 0 } });
    try {
      const alarms = new AlarmManager({
        db: outbox.scope('alarms'),
        outbox,
        config: AlarmsConfig.parse({}),
        clock,
        timers: clock,
        log: silentLogger(),
      });
      outbox.checkpoint();
      fs.fill();
      const condition = { kind: 'panel.burglary', source: { device: 'panel-1', point: 'zone-5' }, priority: 'high' as const };
      const b = alarms.raise(condition);
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      fs.release();
      // The panel resends after our NAK: the same condition again, now with room on the disk.
      expect(alarms.raise(condition).id).toBe(b.id);
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      expect(alarms.retryUnrecorded()).toBe(0);
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      const raised = outbox
        .readEvents(0, 1e6)
        .map((r) => JSON.parse(r.body) as Envelope)
        .filter((e) => e.type === 'alarm.raised');
      expect(raised.map((e) => (e.data as { alarmId: string }).alarmId)).toEqual([b.id]);
      await alarms.stop();
    } finally {
      outbox.close();
    }
  });

  it('rethrows errors that are not the disk', () => {
    expect(() =>
      tolerateStorageError(() => {
        throw Object.assign(new Error('constraint'), { code: 'SQLITE_CONSTRAINT' });
      }, 0),
    ).toThrow('constraint');
    const seen: string[] = [];
    expect(
      tolerateStorageError(
        () => {
          throw Object.assign(new Error('full'), { code: 'SQLITE_FULL' });
        },
        7,
        (e) => seen.push(e.message),
      ),
    ).toBe(7);
    expect(seen).toEqual(['full']);
  });
});
