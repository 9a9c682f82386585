/**
 * The alarm tap over the real event builders of the device families (access, charging,
 * locks): which events become which alarm conditions, that everything is still forwarded
 * to the outbox unchanged, and that the lifecycle's own events never loop back.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlarmsConfig } from '../../config/perimeter-schema.js';
import { ManualClock } from '../../gateway/core/clock.js';
import type { Envelope } from '../../gateway/core/events.js';
import { untyped } from '../helpers/untyped-event.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { decisionEvent, doorEvent, readerHealthEvent, readerOfflineAlarm, tamperEvent } from '../../gateway/access/access-events.js';
import { presenceEvent, safetyEvent } from '../../gateway/charging/cabinet-events.js';
import { toPlatformEvent } from '../../gateway/locks/events.js';
import { AlarmManager } from '../../gateway/alarms/alarm-manager.js';
import { withAlarmTap } from '../../gateway/alarms/alarm-tap.js';

describe('withAlarmTap', () => {
  let dir: string;
  let clock: ManualClock;
  let outbox: Outbox;
  let manager: AlarmManager;
  let tapped: Outbox;

  const open = () => manager.list({ limit: 500 }).map((a) => ({ kind: a.kind, source: a.source, priority: a.priority, state: a.state, active: a.active, count: a.count }));
  const recorded = (): Envelope[] => {
    outbox.flush();
    return outbox.readEvents(0, 10_000).map((r) => JSON.parse(r.body) as Envelope);
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-alarm-tap-'));
    clock = new ManualClock();
    outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
    manager = new AlarmManager({ db: outbox.db, outbox, config: AlarmsConfig.parse({}), clock, timers: clock, log: silentLogger() });
    tapped = withAlarmTap(outbox, manager, { log: silentLogger() });
  });
  afterEach(async () => {
    await manager.stop();
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('forwards every call unchanged and is usable wherever the outbox is', async () => {
    const env = await tapped.record(decisionEvent({ door: 'gate', reader: 'rd-in', direction: 'in', granted: true, reason: 'ok', method: 'card', credential: '1234', offline: false }));
    expect(env.type).toBe('access.granted');
    await tapped.setState('gate', { mode: 'normal' });
    expect(tapped.db).toBe(outbox.db);
    expect(tapped.stats().events).toBe(1);
    expect(outbox.readStates().map((s) => s.device)).toEqual(['gate']);
    expect(open()).toEqual([]);
  });

  it('door forced / held open raise and clear, priority from the event', () => {
    void tapped.record(doorEvent({ type: 'door.forced', data: { door: 'gate' } }));
    void tapped.record(doorEvent({ type: 'door.held_open', data: { door: 'lobby', openMs: 45_000 } }));
    expect(open()).toEqual([
      { kind: 'door.forced', source: { device: 'gate' }, priority: 'high', state: 'raised', active: true, count: 1 },
      { kind: 'door.held_open', source: { device: 'lobby' }, priority: 'medium', state: 'raised', active: true, count: 1 },
    ]);
    expect(manager.list()[1]!.data).toEqual({ door: 'lobby', openMs: 45_000 });
    void tapped.record(doorEvent({ type: 'door.forced_cleared', data: { door: 'gate' } }));
    void tapped.record(doorEvent({ type: 'door.held_cleared', data: { door: 'lobby' } }));
    expect(open().map((a) => [a.kind, a.state, a.active])).toEqual([['door.forced', 'cleared', false], ['door.held_open', 'cleared', false]]);
    // Ordinary door movements are not alarms.
    void tapped.record(doorEvent({ type: 'door.opened', data: { door: 'gate' } }));
    expect(open()).toHaveLength(2);
  });

  it('reader tamper and offline: one alarm per outage (the reader device.offline is not a second one), offline auto-closes', () => {
    void tapped.record(tamperEvent('rd-1', 'gate', true));
    void tapped.record(readerHealthEvent('rd-2', false, { reason: 'no answer' }));
    void tapped.record(readerOfflineAlarm('rd-2', 'gate', true, 'no answer'));
    expect(open()).toEqual([
      { kind: 'reader.tamper', source: { device: 'rd-1' }, priority: 'high', state: 'raised', active: true, count: 1 },
      { kind: 'reader.offline', source: { device: 'rd-2' }, priority: 'medium', state: 'raised', active: true, count: 1 },
    ]);
    void tapped.record(readerHealthEvent('rd-2', true, { secure: true }));
    void tapped.record(readerOfflineAlarm('rd-2', 'gate', false));
    void tapped.record(tamperEvent('rd-1', 'gate', false));
    expect(open().map((a) => [a.kind, a.state])).toEqual([['reader.tamper', 'cleared']]);
    expect(manager.list({ includeClosed: true }).find((a) => a.kind === 'reader.offline')?.closed?.reason).toBe('auto');
  });

  it('lock tamper (no priority in the event: high) and lock/cabinet offline as device.offline (medium)', () => {
    void tapped.record(toPlatformEvent({ type: 'tamper', lock: 'flat-a', active: true })!);
    void tapped.record(toPlatformEvent({ type: 'offline', lock: 'flat-b', reason: 'lwt' })!);
    void tapped.record(presenceEvent('cab-1', false, 'no_answer'));
    expect(open()).toEqual([
      { kind: 'lock.tamper', source: { device: 'flat-a' }, priority: 'high', state: 'raised', active: true, count: 1 },
      { kind: 'device.offline', source: { device: 'cab-1' }, priority: 'medium', state: 'raised', active: true, count: 1 },
      { kind: 'device.offline', source: { device: 'flat-b' }, priority: 'medium', state: 'raised', active: true, count: 1 },
    ]);
    expect(manager.list().find((a) => a.source.device === 'flat-b')!.data).toEqual({ family: 'lock', reason: 'lwt' });
    void tapped.record(toPlatformEvent({ type: 'online', lock: 'flat-b' })!);
    void tapped.record(presenceEvent('cab-1', true));
    void tapped.record(toPlatformEvent({ type: 'tamper', lock: 'flat-a', active: false })!);
    expect(open().map((a) => [a.kind, a.state])).toEqual([['lock.tamper', 'cleared']]);
  });

  it('charging alarms: fire is critical, port alarms are per port, restore clears (and a guard still closes)', () => {
    void tapped.record(safetyEvent('cab-1', { kind: 'raiseAlarm', alarm: 'fire', priority: 'critical', cause: 'smoke' })!);
    void tapped.record(safetyEvent('cab-1', { kind: 'raiseAlarm', alarm: 'port_over_temperature', priority: 'high', port: 3, value: 71.234 })!);
    void tapped.record(safetyEvent('cab-1', { kind: 'raiseAlarm', alarm: 'port_over_temperature', priority: 'high', port: 3, value: 72 })!);
    expect(open()).toEqual([
      { kind: 'charging.fire', source: { device: 'cab-1' }, priority: 'critical', state: 'raised', active: true, count: 1 },
      { kind: 'charging.port_over_temperature', source: { device: 'cab-1', point: 'port-3' }, priority: 'high', state: 'raised', active: true, count: 2 },
    ]);
    expect(manager.list()[1]!.data).toEqual({ cabinet: 'cab-1', port: 3, value: 72 });
    void tapped.record(safetyEvent('cab-1', { kind: 'restoreAlarm', alarm: 'fire' })!);
    void tapped.record(safetyEvent('cab-1', { kind: 'restoreAlarm', alarm: 'port_over_temperature', port: 3, value: 40 })!);
    expect(open().map((a) => [a.kind, a.state])).toEqual([['charging.fire', 'cleared'], ['charging.port_over_temperature', 'cleared']]);
    // Mains events are charging, not alarms.
    void tapped.record(safetyEvent('cab-1', { kind: 'mainsLost', voltage: 12 })!);
    expect(open()).toHaveLength(2);
  });

  it('fire unlock (critical) and a one-shot alarm event without `active` (momentary: closable, counted)', () => {
    // The access service builds this one inline; same shape.
    void tapped.record({ class: 'alarm', type: 'access.fire_unlock', source: { device: 'gate' }, data: { active: true, priority: 'critical' } });
    const oneShot = untyped({ class: 'alarm', type: 'panel.burglary', source: { device: 'panel-1', point: 'zone-4' }, data: { code: 'BA', priority: 'critical' } });
    void tapped.record(oneShot);
    void tapped.record(oneShot);
    expect(open()).toEqual([
      { kind: 'panel.burglary', source: { device: 'panel-1', point: 'zone-4' }, priority: 'critical', state: 'raised', active: false, count: 2 },
      { kind: 'access.fire_unlock', source: { device: 'gate' }, priority: 'critical', state: 'raised', active: true, count: 1 },
    ]);
    const burglary = manager.list()[0]!;
    expect(manager.close(burglary.id, { by: 'guard' }).state).toBe('closed');
  });

  it('the lifecycle events never loop back, and the source events reach the outbox next to them', () => {
    const m2 = new AlarmManager({ db: outbox.db, outbox: tapped, config: AlarmsConfig.parse({}), clock, timers: clock, log: silentLogger() });
    const t2 = withAlarmTap(outbox, m2, { log: silentLogger() });
    void t2.record(doorEvent({ type: 'door.forced', data: { door: 'gate' } }));
    expect(m2.openCount()).toBe(1);
    // m2 records its alarm.raised through the tapped outbox of `manager`: it must not become an alarm there.
    expect(manager.openCount()).toBe(0);
    expect(recorded().map((e) => e.type)).toEqual(['door.forced', 'alarm.raised']);
    void m2.stop();
  });

  it('a sink that throws never fails the source: the event is still recorded', async () => {
    const t = withAlarmTap(outbox, { raise: () => { throw new Error('bug'); }, clear: () => undefined }, { log: silentLogger() });
    const env = await t.record(tamperEvent('rd-1', undefined, true));
    expect(env.type).toBe('reader.tamper');
  });
});
