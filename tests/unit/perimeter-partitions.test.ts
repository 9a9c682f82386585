/**
 * Partitions on a ManualClock: armed by schedule windows across their edges (in the
 * compound's time zone), a command overriding the schedule until the next edge, the events
 * and the state kept in SQLite (here in memory; the file case is an integration test).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ScheduleConfig } from '../../config/access-schema.js';
import { PartitionConfig } from '../../config/perimeter-schema.js';
import { ManualClock } from '../../gateway/core/clock.js';
import type { EventInput } from '../../gateway/core/events.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Partitions, type PartitionStatus } from '../../gateway/perimeter/partitions.js';
import { migratedDb, scoped } from '../helpers/store.js';

const ALL = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
/** Nights in Shanghai (UTC+8): 22:00-06:00 local = 14:00-22:00 UTC. */
const NIGHTS = ScheduleConfig.parse({
  weekly: [
    { days: [...ALL], from: '22:00', to: '24:00' },
    { days: [...ALL], from: '00:00', to: '06:00' },
  ],
});
const MIN = 60_000;
const HOUR = 60 * MIN;

function rig(opts: { db?: Database.Database; clock?: ManualClock; holidays?: string[] } = {}) {
  // Saturday 2026-11-21 12:00:01 UTC = 20:00:01 in Shanghai: two hours before the night window
  // (one second past the minute, so advancing whole hours passes the minute tick, at :00.005).
  const clock = opts.clock ?? new ManualClock(Date.UTC(2026, 10, 21, 12, 0, 1));
  const db = opts.db ?? migratedDb();
  const events: EventInput[] = [];
  const published: Record<string, PartitionStatus> = {};
  const applied: string[] = [];
  let tripped: string[] = [];
  const partitions = new Partitions({
    partitions: [PartitionConfig.parse({ id: 'wall', armSchedule: 'nights' }), PartitionConfig.parse({ id: 'garage' })],
    schedules: { nights: NIGHTS },
    timeZone: 'Asia/Shanghai',
    holidays: opts.holidays ?? [],
    db: scoped(db, 'perimeter'),
    clock,
    timers: clock,
    log: silentLogger(),
    apply: (p, armed) => {
      applied.push(`${p} ${armed ? 'armed' : 'disarmed'}`);
      return armed ? tripped : [];
    },
    record: (e) => events.push(e),
    publish: (p, s) => (published[p] = s),
  });
  return { clock, db, events, published, applied, partitions, trip: (zones: string[]) => (tripped = zones) };
}

const types = (events: EventInput[]) => events.map((e) => `${e.type} ${e.source.device} ${(e.data as { by: string }).by}`);

describe('Partitions: schedules', () => {
  it('arms at the window opening and disarms at its close, in the compound time zone', () => {
    const r = rig();
    r.partitions.start();
    expect(r.partitions.status('wall')).toMatchObject({ armed: false, by: 'schedule', override: false });
    expect(r.events).toEqual([]);
    r.clock.advance(2 * HOUR - MIN); // 21:59 local
    expect(r.partitions.status('wall').armed).toBe(false);
    r.clock.advance(MIN); // the minute tick just after 22:00
    expect(r.partitions.status('wall')).toMatchObject({ armed: true, by: 'schedule' });
    expect(types(r.events)).toEqual(['partition.armed wall schedule']);
    expect(r.events[0]).toMatchObject({ class: 'alarm', data: { partition: 'wall', by: 'schedule', notReady: [] } });
    // Through midnight (two windows back to back): no disarm in between.
    r.clock.advance(8 * HOUR - MIN); // 05:59
    expect(types(r.events)).toHaveLength(1);
    r.clock.advance(MIN); // 06:00
    expect(types(r.events)).toEqual(['partition.armed wall schedule', 'partition.disarmed wall schedule']);
    // A partition without a schedule never moved.
    expect(r.partitions.status('garage').armed).toBe(false);
  });

  it('reports the zones tripped at arming as not ready', () => {
    const r = rig();
    r.partitions.start();
    r.trip(['beam-3']);
    r.clock.advance(2 * HOUR);
    expect(r.events.at(-1)).toMatchObject({ type: 'partition.armed', data: { notReady: ['beam-3'] } });
    expect(r.published.wall).toMatchObject({ armed: true, notReady: ['beam-3'] });
  });

  it('on a holiday only the holiday windows apply', () => {
    const r = rig({ holidays: ['2026-11-21'] });
    r.partitions.start();
    r.clock.advance(3 * HOUR);
    expect(r.partitions.status('wall').armed).toBe(false);
  });
});

describe('Partitions: commands override until the next schedule edge', () => {
  it('a disarm during the night holds until the window closes, then the schedule rules', () => {
    const r = rig();
    r.partitions.start();
    r.clock.advance(3 * HOUR); // 23:00, armed by schedule
    const res = r.partitions.command('wall', false, 'guard-anna');
    expect(res).toEqual({ partition: 'wall', armed: false, by: 'guard-anna', changed: true, notReady: [] });
    expect(r.partitions.status('wall')).toMatchObject({ armed: false, by: 'guard-anna', override: true });
    r.clock.advance(6 * HOUR); // 05:00: still in the window, still disarmed
    expect(r.partitions.status('wall').armed).toBe(false);
    r.clock.advance(HOUR); // 06:00: the edge ends the override; the schedule says disarmed anyway
    expect(r.partitions.status('wall')).toMatchObject({ armed: false, override: false, by: 'guard-anna' });
    r.clock.advance(16 * HOUR); // 22:00 next day: armed by schedule again
    expect(r.partitions.status('wall')).toMatchObject({ armed: true, by: 'schedule' });
    expect(types(r.events)).toEqual([
      'partition.armed wall schedule',
      'partition.disarmed wall guard-anna',
      'partition.armed wall schedule',
    ]);
  });

  it('an arm during the day holds until the window opens, and the window closing disarms', () => {
    const r = rig();
    r.partitions.start();
    r.partitions.command('wall', true, 'guard-bo');
    r.clock.advance(2 * HOUR + MIN); // the window opens: override ends, schedule says armed: no event
    expect(r.partitions.status('wall')).toMatchObject({ armed: true, override: false });
    expect(types(r.events)).toEqual(['partition.armed wall guard-bo']);
    r.clock.advance(8 * HOUR);
    expect(types(r.events)).toEqual(['partition.armed wall guard-bo', 'partition.disarmed wall schedule']);
  });

  it('arming what is armed changes nothing and records nothing', () => {
    const r = rig();
    r.partitions.start();
    r.clock.advance(3 * HOUR);
    const res = r.partitions.command('wall', true, 'guard-anna');
    expect(res).toMatchObject({ changed: false, armed: true, by: 'schedule' });
    expect(r.events).toHaveLength(1);
  });

  it('a partition without a schedule stays as commanded', () => {
    const r = rig();
    r.partitions.start();
    r.partitions.command('garage', true, 'admin');
    r.clock.advance(48 * HOUR);
    expect(r.partitions.status('garage')).toMatchObject({ armed: true, by: 'admin', override: true });
  });

  it('an unknown partition is DEVICE_UNKNOWN', () => {
    const r = rig();
    r.partitions.start();
    expect(() => r.partitions.command('nope', true, 'x')).toThrow(expect.objectContaining({ code: 'DEVICE_UNKNOWN' }));
  });
});

describe('Partitions: restart', () => {
  it('comes back as it was, quietly, and re-applies the armed state to the zones', () => {
    const db = migratedDb();
    const clock = new ManualClock(Date.UTC(2026, 10, 21, 12, 0, 1));
    const a = rig({ db, clock });
    a.partitions.start();
    a.partitions.command('garage', true, 'admin');
    a.partitions.command('wall', true, 'guard');
    a.partitions.stop();
    clock.advance(30 * MIN);
    const b = rig({ db, clock });
    b.partitions.start();
    expect(b.events).toEqual([]);
    expect(b.applied).toEqual(['wall armed', 'garage armed']);
    expect(b.partitions.all()).toMatchObject({ wall: { armed: true, by: 'guard', override: true }, garage: { armed: true, by: 'admin' } });
    // The override still ends at the window edge.
    clock.advance(90 * MIN);
    expect(b.partitions.status('wall')).toMatchObject({ armed: true, override: false });
  });

  it('an edge passed while down: the schedule applies at start, with an event', () => {
    const db = migratedDb();
    const clock = new ManualClock(Date.UTC(2026, 10, 21, 12, 0, 1));
    const a = rig({ db, clock });
    a.partitions.start();
    a.partitions.command('wall', true, 'guard');
    a.partitions.stop();
    clock.advance(11 * HOUR); // 07:00 local next day: the night window opened and closed meanwhile... and one edge more
    const b = rig({ db, clock });
    b.partitions.start();
    // Two edges while down look like none (documented): the override is kept.
    expect(b.partitions.status('wall')).toMatchObject({ armed: true, override: true });
    clock.advance(15 * HOUR); // 22:00: the next edge ends it (armed by schedule)
    expect(b.partitions.status('wall')).toMatchObject({ armed: true, override: false });
    clock.advance(8 * HOUR);
    expect(b.partitions.status('wall').armed).toBe(false);
    b.partitions.stop();
    // One edge while down: disarmed at the window close, restarted in the day.
    const c = rig({ db, clock });
    c.partitions.start();
    expect(c.partitions.status('wall').armed).toBe(false);
    c.partitions.command('wall', false, 'guard');
    c.partitions.stop();
    clock.advance(16 * HOUR + 30 * MIN); // 22:30: the window opened while down
    const d = rig({ db, clock });
    d.partitions.start();
    expect(d.partitions.status('wall')).toMatchObject({ armed: true, by: 'schedule', override: false });
    expect(types(d.events)).toEqual(['partition.armed wall schedule']);
  });
});
