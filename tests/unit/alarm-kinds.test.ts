/**
 * One way to raise an alarm: the kinds the families declare give the AlarmManager its
 * priorities (no table of every family's kinds in gateway/alarms any more), an undeclared
 * kind still raises but is logged once, and reportCondition() never lets a lifecycle
 * failure reach the family that reports. Real outbox (SQLite file), real manager.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlarmsConfig } from '../../config/perimeter-schema.js';
import { ALARM_KINDS as ACCESS_ALARM_KINDS } from '../../gateway/access/alarm-kinds.js';
import { AlarmManager } from '../../gateway/alarms/alarm-manager.js';
import { conditionOfEvent, reportCondition } from '../../gateway/alarms/report.js';
import { ALARM_KINDS as CHARGING_ALARM_KINDS } from '../../gateway/charging/alarm-kinds.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { silentLogger, type Logger } from '../../gateway/core/log.js';
import { ALARM_KINDS as LOCK_ALARM_KINDS } from '../../gateway/locks/alarm-kinds.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { ALARM_KINDS as PRESENCE_ALARM_KINDS } from '../../gateway/presence/alarm-kinds.js';

/** A logger that keeps its warnings and errors (the rest of pino's surface is not used here). */
function keepingLogger(): { log: Logger; lines: { level: string; obj: Record<string, unknown>; msg: string }[] } {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const log = silentLogger();
  for (const level of ['warn', 'error'] as const) {
    (log as unknown as Record<string, unknown>)[level] = (obj: Record<string, unknown>, msg: string) =>
      void lines.push({ level, obj, msg });
  }
  return { log, lines };
}

describe('declared alarm kinds', () => {
  let dir: string;
  let clock: ManualClock;
  let outbox: Outbox;
  let manager: AlarmManager;
  let logged: ReturnType<typeof keepingLogger>;

  const make = (config = AlarmsConfig.parse({})) =>
    new AlarmManager({ db: outbox.scope('alarms'), outbox, config, clock, timers: clock, log: logged.log });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-alarm-kinds-'));
    clock = new ManualClock();
    outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
    logged = keepingLogger();
    manager = make();
  });
  afterEach(async () => {
    await manager.stop();
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a condition without a priority takes the declared one; an undeclared kind falls back to high and is logged once', () => {
    manager.declareKinds([{ kind: 'door.held_open', priority: 'medium', description: 'x' }]);
    expect(manager.raise({ kind: 'door.held_open', source: { device: 'lobby' } }).priority).toBe('medium');
    expect(manager.raise({ kind: 'gizmo.smoke', source: { device: 'g-1' } }).priority).toBe('high');
    manager.raise({ kind: 'gizmo.smoke', source: { device: 'g-2' } });
    expect(logged.lines.filter((l) => l.obj.kind === 'gizmo.smoke')).toEqual([
      { level: 'warn', obj: { kind: 'gizmo.smoke', priority: 'high' }, msg: 'alarm kind raised that no family declared' },
    ]);
    expect(logged.lines.filter((l) => l.obj.kind === 'door.held_open')).toEqual([]);
  });

  it('the compound file overrides the declared priority, and a priority the source gives wins over the declared one', async () => {
    await manager.stop();
    manager = make(AlarmsConfig.parse({ priorities: { 'door.forced': 'critical' } }));
    manager.declareKinds(ACCESS_ALARM_KINDS);
    expect(manager.raise({ kind: 'door.forced', source: { device: 'gate' } }).priority).toBe('critical');
    expect(manager.raise({ kind: 'reader.offline', source: { device: 'rd-1' }, priority: 'low' }).priority).toBe('low');
  });

  it('a kind declared twice with the same priority is one kind; a conflicting one keeps the first and says so', () => {
    manager.declareKinds([...LOCK_ALARM_KINDS, ...CHARGING_ALARM_KINDS]);
    expect(manager.declaredKinds().filter((k) => k.kind === 'device.offline')).toHaveLength(1);
    expect(logged.lines).toEqual([]);
    manager.declareKinds([{ kind: 'lock.tamper', priority: 'low', description: 'x' }]);
    expect(manager.raise({ kind: 'lock.tamper', source: { device: 'flat-a' } }).priority).toBe('high');
    expect(logged.lines.map((l) => [l.level, l.obj])).toEqual([['error', { kind: 'lock.tamper', kept: 'high', refused: 'low' }]]);
  });

  it('every family kind has a priority and a description, and no two families disagree on one', () => {
    const all = [...PRESENCE_ALARM_KINDS, ...LOCK_ALARM_KINDS, ...CHARGING_ALARM_KINDS, ...ACCESS_ALARM_KINDS];
    for (const k of all) expect(k.description.length, k.kind).toBeGreaterThan(10);
    manager.declareKinds(all);
    expect(logged.lines).toEqual([]);
  });

  it('reportCondition: the condition of a raw alarm event is its type, its data without active/priority; a failing sink is logged, not thrown', () => {
    const e = {
      class: 'alarm' as const,
      type: 'door.held_open' as const,
      source: { device: 'lobby' },
      data: { door: 'lobby', active: true, priority: 'medium', openMs: 45_000 },
    };
    expect(conditionOfEvent(e)).toEqual({
      kind: 'door.held_open',
      source: { device: 'lobby' },
      active: true,
      data: { door: 'lobby', openMs: 45_000 },
    });
    expect(conditionOfEvent({ ...e, data: { door: 'lobby', active: false } }).active).toBe(false);
    const throwing = {
      raise: () => {
        throw new Error('bug');
      },
      clear: () => {
        throw new Error('bug');
      },
    };
    expect(() => reportCondition(throwing, conditionOfEvent(e), logged.log)).not.toThrow();
    expect(() => reportCondition(throwing, { ...conditionOfEvent(e), active: false }, logged.log)).not.toThrow();
    expect(logged.lines.map((l) => l.msg)).toEqual([
      'alarm condition not reported; the event was recorded',
      'alarm condition not reported; the event was recorded',
    ]);
  });
});
