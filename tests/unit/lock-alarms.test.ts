/**
 * The locks report their own conditions (issue 12, one way to raise an alarm): LockService
 * over an in-memory transport, a real outbox (SQLite file) and the real AlarmManager with the
 * kinds locks declare. The raw `lock.tamper` / `device.*` events are still recorded as the
 * contract documents them, before the lifecycle events they cause.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { LockConfig } from '../../config/schema.js';
import { MemoryTransport } from '../../drivers/smartlock/memory-transport.js';
import { lockTopics } from '../../drivers/smartlock/topics.js';
import { AlarmManager } from '../../gateway/alarms/alarm-manager.js';
import { ManualClock } from '../../gateway/core/clock.js';
import type { Envelope } from '../../gateway/core/events.js';
import { silentLogger } from '../../gateway/core/log.js';
import { ALARM_KINDS } from '../../gateway/locks/alarm-kinds.js';
import { LockService } from '../../gateway/locks/lock-service.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { validateMessage } from '../helpers/asyncapi.js';
import { alarmTestbed } from '../helpers/alarm-testbed.js';

describe('locks raise their alarms on the sink', () => {
  let dir: string;
  let clock: ManualClock;
  let outbox: Outbox;
  let manager: AlarmManager;
  let transport: MemoryTransport;
  let service: LockService;
  const A = lockTopics('flat-a');
  const say = (topic: string, body: unknown) => transport.publish(topic, JSON.stringify(body));
  const recorded = (): (Envelope & { class: string; body: string })[] => {
    outbox.flush();
    return outbox.readEvents(0, 10_000).map((r) => ({ ...(JSON.parse(r.body) as Envelope), class: r.class, body: r.body }));
  };
  const open = () =>
    manager
      .list({ limit: 500 })
      .map((a) => ({ kind: a.kind, source: a.source, priority: a.priority, state: a.state, active: a.active, count: a.count }));
  const declared = (kind: string) => ALARM_KINDS.find((k) => k.kind === kind)!.priority;

  beforeEach(() => {
    ({ dir, clock, outbox, manager } = alarmTestbed('gh-lock-alarms-'));
    manager.declareKinds(ALARM_KINDS);
    manager.start();
    transport = new MemoryTransport();
    service = new LockService({
      locks: [LockConfig.parse({ id: 'flat-a', offlineAfterMs: 60_000 })],
      transport,
      outbox,
      sink: manager,
      clock,
      timers: clock,
      log: silentLogger(),
    });
    service.start();
  });
  afterEach(async () => {
    service.stop();
    await manager.stop();
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tamper raises and clears lock.tamper at its declared priority; the raw event goes out first, unchanged', () => {
    say(A.status, { state: 'online' });
    say(A.evt, { type: 'tamper', active: true });
    expect(open()).toEqual([
      { kind: 'lock.tamper', source: { device: 'flat-a' }, priority: declared('lock.tamper'), state: 'raised', active: true, count: 1 },
    ]);
    expect(manager.list()[0]!.data).toEqual({ lock: 'flat-a' });
    say(A.evt, { type: 'tamper', active: false });
    expect(open().map((a) => [a.kind, a.state, a.active])).toEqual([['lock.tamper', 'cleared', false]]);
    const alarmTopic = recorded().filter((e) => e.class === 'alarm');
    expect(alarmTopic.map((e) => [e.type, e.data.active, e.data.state])).toEqual([
      ['lock.tamper', true, undefined],
      ['alarm.raised', true, 'raised'],
      ['lock.tamper', false, undefined],
      ['alarm.cleared', false, 'cleared'],
    ]);
    expect(alarmTopic[0]!.data).toEqual({ lock: 'flat-a', active: true });
    expect(alarmTopic[1]!.data).toMatchObject({ kind: 'lock.tamper', priority: 'high' });
  });

  it('an announced outage is one device.offline alarm (medium, declared), cleared and closed when the lock is back', () => {
    say(A.status, { state: 'online' });
    say(A.status, { state: 'offline', reason: 'lwt' });
    // Silence on top of the outage is not a second one.
    clock.advance(120_000);
    expect(open()).toEqual([
      {
        kind: 'device.offline',
        source: { device: 'flat-a' },
        priority: declared('device.offline'),
        state: 'raised',
        active: true,
        count: 1,
      },
    ]);
    expect(manager.list()[0]!.data).toEqual({ family: 'lock', reason: 'lwt' });
    say(A.status, { state: 'online' });
    expect(open()).toEqual([]);
    const closed = manager.list({ includeClosed: true })[0]!;
    expect([closed.kind, closed.state, closed.closed?.reason]).toEqual(['device.offline', 'closed', 'auto']);
    const events = recorded();
    expect(events.map((e) => e.type)).toEqual([
      'device.online',
      'device.offline',
      'alarm.raised',
      'device.online',
      'alarm.cleared',
      'alarm.closed',
    ]);
    // Every message still validates against the published contract.
    for (const e of events) expect(validateMessage(`gatehouse/v1/c/g/evt/${e.class}`, e.body).errors).toEqual([]);
  });
});
