/**
 * The shared presence policy on a real outbox (SQLite file) and the real AlarmManager (with
 * the kinds the families declare), driven by a ManualClock: a device announced the way the lock and reader
 * families announce it, flapping in every pattern we could think of, must cost the platform
 * a bounded number of events per hour and raise one device.flapping alarm per episode.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { PresenceConfig } from '../../config/presence-schema.js';
import { AlarmManager } from '../../gateway/alarms/alarm-manager.js';
import { reportCondition } from '../../gateway/alarms/report.js';
import { ALARM_KINDS as ACCESS_ALARM_KINDS } from '../../gateway/access/alarm-kinds.js';
import { ALARM_KINDS as LOCK_ALARM_KINDS } from '../../gateway/locks/alarm-kinds.js';
import { ALARM_KINDS as PRESENCE_ALARM_KINDS } from '../../gateway/presence/alarm-kinds.js';
import { ManualClock } from '../../gateway/core/clock.js';
import type { Envelope } from '../../gateway/core/events.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { PresencePolicy, passThroughPresence, type DevicePresence } from '../../gateway/presence/presence-policy.js';
import { validateMessage } from '../helpers/asyncapi.js';
import { alarmTestbed } from '../helpers/alarm-testbed.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

describe('PresencePolicy', () => {
  let dir: string;
  let clock: ManualClock;
  let outbox: Outbox;
  let manager: AlarmManager;
  let policy: PresencePolicy;

  const events = (device = 'flat-1'): Envelope[] => {
    outbox.flush();
    return outbox
      .readEvents(0, 100_000)
      .map((r) => JSON.parse(r.body) as Envelope)
      .filter((e) => e.source.device === device);
  };
  /** A reader as access-service.ts announces it: device.* plus the reader.offline alarm event, then its condition. */
  const reader = (id = 'gate-in'): DevicePresence => {
    let raised = false;
    return policy.track(id, 'reader', (a) => {
      const source = { device: id };
      void outbox.record(
        a.online
          ? { class: 'device', type: 'device.online', source, data: { family: 'reader', secure: true } }
          : { class: 'device', type: 'device.offline', source, data: { family: 'reader', reason: a.reason } },
      );
      if (a.online && !raised) return;
      raised = !a.online;
      void outbox.record({ class: 'alarm', type: 'reader.offline', source, data: { reader: id, active: !a.online, priority: 'medium' } });
      reportCondition(manager, { kind: 'reader.offline', source, active: !a.online, data: { reader: id } }, silentLogger());
    });
  };
  /** A lock as lock-service.ts announces it: device.online/offline, then the device.offline condition. */
  const lock = (id = 'flat-1', p: { track: PresencePolicy['track'] } = policy): DevicePresence => {
    return p.track(id, 'lock', (a) => {
      const source = { device: id };
      const data = a.online ? { family: 'lock' as const } : { family: 'lock' as const, reason: a.reason };
      void outbox.record({ class: 'device', type: a.online ? 'device.online' : 'device.offline', source, data });
      reportCondition(manager, { kind: 'device.offline', source, active: !a.online, data }, silentLogger());
    });
  };
  const make = (config: Partial<PresenceConfig> = {}) =>
    new PresencePolicy({ config: PresenceConfig.parse(config), clock, timers: clock, sink: manager, log: silentLogger() });

  beforeEach(() => {
    ({ dir, clock, outbox, manager } = alarmTestbed('gh-presence-'));
    manager.declareKinds([...PRESENCE_ALARM_KINDS, ...LOCK_ALARM_KINDS, ...ACCESS_ALARM_KINDS]);
    manager.start();
    policy = make();
  });
  afterEach(async () => {
    policy.stop();
    await manager.stop();
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('announces an ordinary outage and its end as before: offline, alarm, online, cleared', () => {
    const d = lock();
    d.observe(true);
    clock.advance(MIN);
    d.observe(false, 'connection_lost');
    clock.advance(MIN);
    d.observe(true);
    expect(events().map((e) => e.type)).toEqual([
      'device.online',
      'device.offline',
      'alarm.raised',
      'device.online',
      'alarm.cleared',
      'alarm.closed',
    ]);
    expect(d.announced).toBe(true);
    expect(policy.flapping()).toEqual([]);
  });

  it('holds a device flapping at 2 Hz for an hour: ≤ 20 events and one device.flapping alarm', () => {
    const d = lock();
    d.observe(true);
    for (let t = 0; t < HOUR; t += 500) {
      d.observe(t % 1000 === 0 ? false : true, 'connection_lost');
      clock.advance(500);
    }
    const all = events();
    const flapping = all.filter((e) => e.type.startsWith('alarm.') && (e.data as { kind?: string }).kind === 'device.flapping');
    expect(flapping.map((e) => e.type)).toEqual(['alarm.raised']);
    expect(all.length).toBeLessThanOrEqual(20);
    expect(d.announced).toBe(false);
    expect(policy.flapping()).toEqual(['flat-1']);
    // Every event as published is one the AsyncAPI document describes (device.flapping included).
    for (const r of outbox.readEvents(0, 1000)) expect(validateMessage(`gatehouse/v1/c/g/evt/${r.class}`, r.body).errors).toEqual([]);
    // The same device undamped (the behaviour before): thousands.
    const undamped = lock('flat-2', passThroughPresence);
    undamped.observe(true);
    for (let t = 0; t < 10 * MIN; t += 500) {
      undamped.observe(t % 1000 === 0 ? false : true, 'connection_lost');
      clock.advance(500);
    }
    expect(events('flat-2').length).toBeGreaterThan(1000);
  });

  it('releases a held device after an unbroken hold, doubles the next hold, and clears the one alarm once it stays up', () => {
    const d = lock();
    d.observe(true);
    d.observe(false, 'connection_lost');
    d.observe(true);
    d.observe(false, 'connection_lost'); // third change in the window: held
    expect(policy.flapping()).toEqual(['flat-1']);
    d.observe(true);
    clock.advance(19 * MIN);
    d.observe(false); // a break restarts the wait
    d.observe(true);
    clock.advance(19 * MIN);
    expect(d.announced).toBe(false);
    clock.advance(MIN);
    expect(d.announced).toBe(true);
    expect(policy.flapping()).toEqual([]);
    const flap = () =>
      events()
        .filter((e) => (e.data as { kind?: string }).kind === 'device.flapping')
        .map((e) => e.type);
    expect(flap()).toEqual(['alarm.raised']);
    // Down again soon after the release: held at once (no free changes), for twice as long,
    // under the same alarm (one per flapping spell).
    clock.advance(5 * MIN);
    d.observe(false);
    expect(policy.flapping()).toEqual(['flat-1']);
    d.observe(true);
    clock.advance(39 * MIN);
    expect(d.announced).toBe(false);
    clock.advance(MIN);
    expect(d.announced).toBe(true);
    expect(flap()).toEqual(['alarm.raised']);
    // Up as long again after the release: the alarm clears.
    clock.advance(40 * MIN);
    expect(flap()).toEqual(['alarm.raised', 'alarm.cleared']);
  });

  it('bounds the worst case: a reader that goes down the moment it is released, for 6 hours', () => {
    const d = reader();
    d.observe(true);
    const perHour: number[] = [];
    let counted = 0;
    for (let h = 0; h < 6; h++) {
      for (let s = 0; s < 3600; s++) {
        // Down as soon as announced online, up again a second later.
        if (d.announced === true) d.observe(false, 'connection_lost');
        else d.observe(true);
        clock.advance(1000);
      }
      const n = events('gate-in').length;
      perHour.push(n - counted);
      counted = n;
    }
    expect(Math.max(...perHour)).toBeLessThanOrEqual(20);
  });

  it('after resetAfterMs of calm a device gets its free changes back', () => {
    const d = lock();
    d.observe(true);
    d.observe(false);
    d.observe(true);
    d.observe(false); // held
    d.observe(true);
    clock.advance(20 * MIN); // released
    expect(d.announced).toBe(true);
    clock.advance(4 * HOUR);
    d.observe(false, 'connection_lost');
    expect(d.announced).toBe(false);
    expect(policy.flapping()).toEqual([]);
  });

  it('a planned stop announces nothing, and markStopped says gateway_stopped keeping the rest of the state', async () => {
    const d = lock();
    d.observe(true);
    await outbox.setState('flat-1', { online: true, locked: true, door: 'closed' });
    const before = events().length;
    policy.stop();
    d.observe(false, 'disconnected');
    expect(events().length).toBe(before);
    expect(d.announced).toBe(true);
    await policy.markStopped(outbox);
    const row = outbox.readStates().find((s) => s.device === 'flat-1')!;
    expect(JSON.parse(row.body)).toMatchObject({ online: null, reason: 'gateway_stopped', locked: true, door: 'closed' });
  });
});
