/**
 * The alarm lifecycle on a real outbox (SQLite file in a temp dir) with a hand-driven clock:
 * every transition and every refusal, re-trigger counting and its event flood control,
 * auto-close, priority overrides, the maxOpen overflow, the retained state and restarts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlarmsConfig } from '../../config/perimeter-schema.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { GatehouseError } from '../../gateway/core/errors.js';
import type { Envelope } from '../../gateway/core/events.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { AlarmManager, RETRIGGER_EVENT_INTERVAL_MS } from '../../gateway/alarms/alarm-manager.js';
import type { Alarm, AlarmCondition } from '../../gateway/alarms/types.js';

const GUARD = { by: 'guard-anna', role: 'guard' };
const beam = (point = 'zone-3'): AlarmCondition => ({
  kind: 'zone.alarm',
  source: { device: 'inputs-1', point },
  priority: 'high',
  data: { zone: point },
});

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof GatehouseError ? err.code : `not coded: ${String(err)}`;
  }
  return undefined;
};

describe('AlarmManager', () => {
  let dir: string;
  let clock: ManualClock;
  let outbox: Outbox;
  let manager: AlarmManager;

  const make = (config: Partial<AlarmsConfig> = {}, extra: Partial<ConstructorParameters<typeof AlarmManager>[0]> = {}) =>
    new AlarmManager({
      db: outbox.scope('alarms'),
      outbox,
      config: AlarmsConfig.parse(config),
      clock,
      timers: clock,
      log: silentLogger(),
      ...extra,
    });

  /** The alarm.* events committed so far (the outbox commits on flush()). */
  const events = (type?: string): Envelope[] => {
    outbox.flush();
    return outbox
      .readEvents(0, 10_000)
      .map((r) => JSON.parse(r.body) as Envelope)
      .filter((e) => e.type.startsWith('alarm.') && (type === undefined || e.type === type));
  };
  const state = (): Record<string, any> | undefined => {
    outbox.flush();
    const row = outbox.readStates().find((s) => s.device === 'alarms');
    return row ? JSON.parse(row.body) : undefined;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-alarms-'));
    clock = new ManualClock();
    outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
    manager = make();
  });
  afterEach(async () => {
    await manager.stop();
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('raise → acknowledge → clear → close, with an event for each and its data', () => {
    const seen: string[] = [];
    for (const e of ['raised', 'retriggered', 'acknowledged', 'cleared', 'closed'] as const)
      manager.on(e, (a: Alarm) => seen.push(`${e}:${a.state}`));
    const a = manager.raise(beam());
    expect(a).toMatchObject({
      kind: 'zone.alarm',
      key: 'zone.alarm|inputs-1|zone-3',
      state: 'raised',
      active: true,
      count: 1,
      priority: 'high',
      media: [],
    });
    expect(a.id).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
    clock.advance(5000);
    expect(manager.acknowledge(a.id, { ...GUARD, note: 'on my way' })).toMatchObject({
      state: 'acknowledged',
      active: true,
      acknowledged: { by: 'guard-anna', role: 'guard', note: 'on my way', at: clock.now() },
    });
    clock.advance(5000);
    expect(manager.clear('zone.alarm', { device: 'inputs-1', point: 'zone-3' }, { restoredBy: 'beam' })).toMatchObject({
      state: 'cleared',
      active: false,
      clearedAt: clock.now(),
    });
    expect(manager.close(a.id, { ...GUARD, note: 'cat' })).toMatchObject({
      state: 'closed',
      closed: { by: 'guard-anna', role: 'guard', note: 'cat', reason: 'operator' },
    });
    expect(seen).toEqual(['raised:raised', 'acknowledged:acknowledged', 'cleared:cleared', 'closed:closed']);

    const evs = events();
    expect(evs.map((e) => e.type)).toEqual(['alarm.raised', 'alarm.acknowledged', 'alarm.cleared', 'alarm.closed']);
    const base = { alarmId: a.id, kind: 'zone.alarm', source: { device: 'inputs-1', point: 'zone-3' }, priority: 'high', count: 1 };
    expect(evs[0]).toMatchObject({
      source: { device: 'inputs-1', point: 'zone-3' },
      data: { ...base, state: 'raised', active: true, raisedAt: new Date(a.raisedAt).toISOString(), data: { zone: 'zone-3' } },
    });
    expect(evs[1]!.data).toMatchObject({ ...base, state: 'acknowledged', by: 'guard-anna', role: 'guard', note: 'on my way' });
    expect(evs[2]!.data).toMatchObject({ ...base, state: 'cleared', active: false, data: { restoredBy: 'beam' } });
    expect(evs[3]!.data).toMatchObject({ ...base, state: 'closed', by: 'guard-anna', note: 'cat', reason: 'operator' });
    expect(manager.list()).toEqual([]);
    expect(manager.list({ includeClosed: true }).map((x) => x.id)).toEqual([a.id]);
    expect(manager.get(a.id)?.state).toBe('closed');
  });

  it('refuses illegal transitions with coded errors and changes nothing', () => {
    const a = manager.raise(beam());
    expect(codeOf(() => manager.close(a.id, GUARD))).toBe('ALARM_ACTIVE');
    manager.acknowledge(a.id, GUARD);
    expect(codeOf(() => manager.acknowledge(a.id, { by: 'guard-bob' }))).toBe('ALARM_ACKNOWLEDGED');
    expect(manager.get(a.id)?.acknowledged?.by).toBe('guard-anna');
    manager.clear(a.kind, a.source);
    manager.close(a.id, GUARD);
    expect(codeOf(() => manager.close(a.id, GUARD))).toBe('ALARM_CLOSED');
    expect(codeOf(() => manager.acknowledge(a.id, GUARD))).toBe('ALARM_CLOSED');
    const unknown = '01JD0000000000000000000000';
    expect(codeOf(() => manager.acknowledge(unknown, GUARD))).toBe('ALARM_UNKNOWN');
    expect(codeOf(() => manager.close(unknown, GUARD))).toBe('ALARM_UNKNOWN');
    expect(codeOf(() => manager.attachMedia(unknown, 'snap-1'))).toBe('ALARM_UNKNOWN');
    expect(events().map((e) => e.type)).toEqual(['alarm.raised', 'alarm.acknowledged', 'alarm.cleared', 'alarm.closed']);
  });

  it('a cleared, unacknowledged alarm stays open until acknowledged or closed; clearing twice does nothing', () => {
    const a = manager.raise(beam());
    manager.clear(a.kind, a.source);
    expect(manager.clear(a.kind, a.source)).toBeUndefined();
    expect(manager.clear('zone.alarm', { device: 'elsewhere' })).toBeUndefined();
    expect(manager.acknowledge(a.id, GUARD)).toMatchObject({ state: 'cleared', acknowledged: { by: 'guard-anna' } });
    expect(manager.close(a.id, GUARD).state).toBe('closed');
    // Closing without acknowledging is a guard's choice too once the condition is gone.
    const b = manager.raise(beam('zone-4'));
    manager.clear(b.kind, b.source);
    expect(manager.close(b.id, GUARD).closed?.reason).toBe('operator');
    expect(events('alarm.cleared')).toHaveLength(2);
  });

  it('counts re-triggers on the one open alarm and records at most one alarm.retriggered per minute, the count catching up', () => {
    const emitted: number[] = [];
    manager.on('retriggered', (a) => emitted.push(a.count));
    const a = manager.raise(beam());
    for (let i = 0; i < 10; i++) {
      clock.advance(1000);
      expect(manager.raise(beam()).id).toBe(a.id);
    }
    expect(emitted).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(manager.get(a.id)).toMatchObject({ count: 11, lastAt: clock.now(), active: true });
    expect(events('alarm.retriggered').map((e) => e.data.count)).toEqual([2]);
    // The window of the first recorded re-trigger (1 s after the raise) ends: the suppressed ones are summed up in one event.
    clock.advance(RETRIGGER_EVENT_INTERVAL_MS - 9_000 - 1);
    expect(events('alarm.retriggered')).toHaveLength(1);
    clock.advance(1);
    expect(events('alarm.retriggered').map((e) => e.data.count)).toEqual([2, 11]);
    // Quiet for a minute: the next re-trigger is recorded at once.
    clock.advance(RETRIGGER_EVENT_INTERVAL_MS);
    manager.raise(beam());
    expect(events('alarm.retriggered').map((e) => e.data.count)).toEqual([2, 11, 12]);
    clock.advance(10 * RETRIGGER_EVENT_INTERVAL_MS);
    expect(events('alarm.retriggered')).toHaveLength(3);
  });

  it('a cleared alarm that triggers again becomes active again (same alarm, linkage told); a flapping one is rate-limited too', () => {
    const reactivated: Alarm[] = [];
    manager.on('reactivated', (a) => reactivated.push(a));
    const a = manager.raise(beam());
    manager.clear(a.kind, a.source);
    clock.advance(1000);
    const again = manager.raise(beam());
    expect(again).toMatchObject({ id: a.id, state: 'raised', active: true, count: 2 });
    expect(again.clearedAt).toBeUndefined();
    expect(reactivated.map((x) => x.count)).toEqual([2]);
    expect(codeOf(() => manager.close(a.id, GUARD))).toBe('ALARM_ACTIVE');
    // Acknowledged, cleared, back: the acknowledgement stays (the guard owns it) and linkage fires again.
    manager.acknowledge(a.id, GUARD);
    manager.clear(a.kind, a.source);
    manager.raise(beam());
    expect(manager.get(a.id)).toMatchObject({ state: 'acknowledged', active: true, count: 3 });
    expect(reactivated).toHaveLength(2);
    // Flapping: first clear and first re-trigger at once, the rest summed up when the minute is over.
    for (let i = 0; i < 5; i++) {
      manager.clear(a.kind, a.source);
      manager.raise(beam());
    }
    manager.clear(a.kind, a.source);
    const typesNow = events().map((e) => e.type);
    expect(typesNow).toEqual(['alarm.raised', 'alarm.cleared', 'alarm.retriggered', 'alarm.acknowledged']);
    clock.advance(RETRIGGER_EVENT_INTERVAL_MS);
    const last = events().at(-1)!;
    expect(last).toMatchObject({ type: 'alarm.cleared', data: { state: 'cleared', active: false, count: 8 } });
  });

  it('closes autoCloseOnClear kinds when they clear; the next report is a new alarm', () => {
    const offline: AlarmCondition = { kind: 'device.offline', source: { device: 'lock-7' }, priority: 'medium' };
    const a = manager.raise(offline);
    const closed = manager.clear('device.offline', { device: 'lock-7' });
    expect(closed).toMatchObject({ state: 'closed', closed: { by: 'gateway', reason: 'auto' } });
    expect(events().map((e) => [e.type, e.data.state])).toEqual([
      ['alarm.raised', 'raised'],
      ['alarm.cleared', 'cleared'],
      ['alarm.closed', 'closed'],
    ]);
    expect(events('alarm.closed')[0]!.data).toMatchObject({ reason: 'auto', by: 'gateway' });
    const b = manager.raise(offline);
    expect(b.id).not.toBe(a.id);
    expect(b.count).toBe(1);
  });

  it('takes priorities from alarms.priorities over the condition; otherwise escalates with the worst report', async () => {
    await manager.stop();
    manager = make({ priorities: { 'door.held_open': 'low' } });
    expect(manager.raise({ kind: 'door.held_open', source: { device: 'door-1' }, priority: 'medium' }).priority).toBe('low');
    expect(manager.raise({ kind: 'door.held_open', source: { device: 'door-1' }, priority: 'critical' }).priority).toBe('low');
    expect(manager.raise({ kind: 'charging.port_fault', source: { device: 'cab-1' }, priority: 'medium' }).priority).toBe('medium');
    expect(manager.raise({ kind: 'charging.port_fault', source: { device: 'cab-1' }, priority: 'high' }).priority).toBe('high');
    expect(manager.raise({ kind: 'charging.port_fault', source: { device: 'cab-1' }, priority: 'low' }).priority).toBe('high');
    expect(events('alarm.raised')[0]!.data.priority).toBe('low');
  });

  it('over maxOpen closes the oldest cleared alarms as overflow and never an active one', async () => {
    await manager.stop();
    manager = make({ maxOpen: 10 });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      clock.advance(1000);
      const a = manager.raise(beam(`z${i}`));
      ids.push(a.id);
      if (i < 3) manager.clear(a.kind, a.source);
    }
    clock.advance(1000);
    manager.raise(beam('z10'));
    expect(manager.openCount()).toBe(10);
    expect(manager.get(ids[0]!)).toMatchObject({ state: 'closed', closed: { reason: 'overflow', by: 'gateway' } });
    expect(manager.get(ids[1]!)?.state).toBe('cleared');
    manager.raise(beam('z11'));
    manager.raise(beam('z12'));
    expect(manager.get(ids[2]!)?.closed?.reason).toBe('overflow');
    // Only active ones left: the limit gives way rather than losing an alarm that holds.
    manager.raise(beam('z13'));
    expect(manager.openCount()).toBe(11);
    expect(manager.list({ limit: 500 }).every((a) => a.active)).toBe(true);
    expect(events('alarm.closed').map((e) => e.data.reason)).toEqual(['overflow', 'overflow', 'overflow']);
  });

  it('a momentary condition raises an alarm a guard can close at once; a later report counts on it', () => {
    const a = manager.raise({
      kind: 'panel.burglary',
      source: { device: 'panel-1', point: 'zone-12' },
      priority: 'critical',
      momentary: true,
    });
    expect(a).toMatchObject({ state: 'raised', active: false });
    expect(
      manager.raise({ kind: 'panel.burglary', source: { device: 'panel-1', point: 'zone-12' }, priority: 'critical', momentary: true }),
    ).toMatchObject({ id: a.id, count: 2, active: false });
    expect(manager.close(a.id, GUARD).state).toBe('closed');
  });

  it('publishes state/alarms at most every 250 ms: open alarms by priority then newest, and counts', () => {
    manager.start();
    expect(state()).toEqual({
      open: [],
      total: 0,
      counts: { raised: 0, acknowledged: 0, cleared: 0 },
      ts: new Date(clock.now()).toISOString(),
    });
    const low = manager.raise({ kind: 'door.held_open', source: { device: 'door-1' }, priority: 'low' });
    clock.advance(10);
    const hi1 = manager.raise(beam('a'));
    clock.advance(10);
    const hi2 = manager.raise(beam('b'));
    manager.acknowledge(hi1.id, GUARD);
    manager.clear(low.kind, low.source);
    expect(state()!.total).toBe(0);
    clock.advance(250);
    const s = state()!;
    expect(s.open.map((x: { id: string }) => x.id)).toEqual([hi2.id, hi1.id, low.id]);
    expect(s.counts).toEqual({ raised: 1, acknowledged: 1, cleared: 1 });
    expect(s.open[1]).toEqual({
      id: hi1.id,
      kind: 'zone.alarm',
      source: { device: 'inputs-1', point: 'a' },
      priority: 'high',
      state: 'acknowledged',
      active: true,
      count: 1,
      raisedAt: new Date(hi1.raisedAt).toISOString(),
      lastAt: new Date(hi1.lastAt).toISOString(),
      acknowledgedBy: 'guard-anna',
    });
  });

  it('stop writes the pending state at once and records suppressed re-triggers', async () => {
    manager.start();
    const a = manager.raise(beam());
    manager.raise(beam());
    manager.raise(beam());
    expect(events('alarm.retriggered').map((e) => e.data.count)).toEqual([2]);
    await manager.stop();
    expect(state()!.open).toMatchObject([{ id: a.id, count: 3 }]);
    expect(events('alarm.retriggered').map((e) => e.data.count)).toEqual([2, 3]);
  });

  it('the state holds at most 200 summaries; the total counts them all', () => {
    for (let i = 0; i < 230; i++) manager.raise(beam(`z${i}`));
    clock.advance(250);
    const s = state()!;
    expect(s.open).toHaveLength(200);
    expect(s.total).toBe(230);
    expect(manager.list({ limit: 500 })).toHaveLength(230);
    expect(manager.list({ limit: 5 })).toHaveLength(5);
  });

  it('attaches media to open and closed alarms and records alarm.media', () => {
    const a = manager.raise(beam());
    expect(manager.attachMedia(a.id, 'snap-1').media).toEqual(['snap-1']);
    manager.clear(a.kind, a.source);
    manager.close(a.id, GUARD);
    expect(manager.attachMedia(a.id, 'snap-2').media).toEqual(['snap-1', 'snap-2']);
    expect(events('alarm.media').map((e) => e.data)).toMatchObject([
      { alarmId: a.id, mediaId: 'snap-1', state: 'raised' },
      { alarmId: a.id, mediaId: 'snap-2', state: 'closed' },
    ]);
  });

  it('a failing outbox or a throwing listener never reaches the source', () => {
    const logged: string[] = [];
    const log = {
      ...silentLogger(),
      error: (_o: unknown, msg: string) => void logged.push(msg),
      warn: () => undefined,
      info: () => undefined,
    } as never;
    const broken = {
      record: () => Promise.reject(new Error('disk gone')),
      setState: () => {
        throw new Error('sync failure');
      },
    };
    const m = new AlarmManager({
      db: outbox.scope('alarms'),
      outbox: broken as never,
      config: AlarmsConfig.parse({}),
      clock,
      timers: clock,
      log,
    });
    m.on('raised', () => {
      throw new Error('listener bug');
    });
    const a = m.raise(beam('x'));
    expect(a.state).toBe('raised');
    clock.advance(250);
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        expect(logged).toEqual(expect.arrayContaining(['alarm listener failed', 'alarm event not recorded', 'state/alarms not written']));
        resolve();
      }),
    );
  });
});

describe('AlarmManager across a restart (real SQLite file)', () => {
  it('keeps open alarms with state, count and acknowledgement; clears restored ones nobody reports again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-alarms-restart-'));
    const file = join(dir, 'outbox.db');
    const clock = new ManualClock();
    const open = () => {
      const outbox = new Outbox({ file, clock, config: { checkpointIntervalMs: 0 } });
      const manager = new AlarmManager({
        db: outbox.scope('alarms'),
        outbox,
        config: AlarmsConfig.parse({}),
        clock,
        timers: clock,
        log: silentLogger(),
        restoreGraceMs: 120_000,
      });
      return { outbox, manager };
    };
    try {
      let { outbox, manager } = open();
      manager.start();
      const forced = manager.raise({ kind: 'door.forced', source: { device: 'door-1' }, priority: 'high' });
      manager.raise({ kind: 'door.forced', source: { device: 'door-1' }, priority: 'high' });
      manager.acknowledge(forced.id, { by: 'guard-anna', role: 'guard', note: 'checking' });
      const fire = manager.raise({ kind: 'charging.fire', source: { device: 'cab-1' }, priority: 'critical' });
      const gone = manager.raise({ kind: 'reader.tamper', source: { device: 'rd-1' }, priority: 'high' });
      manager.clear('reader.tamper', { device: 'rd-1' });
      const done = manager.raise({ kind: 'lock.tamper', source: { device: 'lock-1' }, priority: 'high' });
      manager.clear('lock.tamper', { device: 'lock-1' });
      manager.close(done.id, { by: 'guard-anna' });
      await manager.stop();
      outbox.close();

      ({ outbox, manager } = open());
      expect(manager.list().map((a) => [a.kind, a.state, a.active, a.count])).toEqual([
        ['charging.fire', 'raised', true, 1],
        ['reader.tamper', 'cleared', false, 1],
        ['door.forced', 'acknowledged', true, 2],
      ]);
      expect(manager.get(forced.id)?.acknowledged).toEqual({ by: 'guard-anna', role: 'guard', at: forced.raisedAt, note: 'checking' });
      expect(manager.get(done.id)?.state).toBe('closed');
      manager.start();
      // Retained state is re-published from what was restored.
      outbox.flush();
      expect(JSON.parse(outbox.readStates().find((s) => s.device === 'alarms')!.body).total).toBe(3);
      // The lifecycle continues on the same alarms.
      expect(manager.raise({ kind: 'door.forced', source: { device: 'door-1' }, priority: 'high' })).toMatchObject({
        id: forced.id,
        count: 3,
      });
      expect(manager.close(gone.id, { by: 'guard-bob' }).state).toBe('closed');
      // The fire's source never reported it again: after the grace it is cleared (not closed) so a guard can close it.
      clock.advance(120_000);
      expect(manager.get(fire.id)).toMatchObject({ state: 'cleared', active: false, data: { unconfirmedAfterRestart: true } });
      expect(manager.get(forced.id)).toMatchObject({ state: 'acknowledged', active: true });
      await manager.stop();
      outbox.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
