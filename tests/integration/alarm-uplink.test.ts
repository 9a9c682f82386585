/**
 * The alarm lifecycle end to end on a real Mosquitto: a door's forced/cleared events are
 * recorded and reported to the alarm manager as the access family does it, a guard acknowledges and closes, and a platform subscriber gets
 * alarm.raised → acknowledged → cleared → closed in that order on evt/alarm (next to the
 * door's own events), with state/alarms retained for a late subscriber.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { AlarmsConfig } from '../../config/perimeter-schema.js';
import { realTimers } from '../../gateway/core/clock.js';
import type { Envelope } from '../../gateway/core/events.js';
import { silentLogger } from '../../gateway/core/log.js';
import { evtTopic, stateTopic } from '../../gateway/core/topics.js';
import type { EventInput } from '../../gateway/core/events.js';
import { doorEvent } from '../../gateway/access/access-events.js';
import { ALARM_KINDS as ACCESS_ALARM_KINDS } from '../../gateway/access/alarm-kinds.js';
import { AlarmManager } from '../../gateway/alarms/alarm-manager.js';
import { conditionOfEvent, reportCondition } from '../../gateway/alarms/report.js';
import { Mosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { makeRig, TEST_ROOT, type Rig } from '../helpers/uplink-rig.js';
import { waitFor } from '../helpers/wait.js';

describe('alarms → uplink → mosquitto', () => {
  let broker: Mosquitto;
  let platform: MqttClient;
  let rig: Rig;

  beforeAll(async () => {
    broker = await startMosquitto();
    platform = await mqtt.connectAsync(broker.url, { clientId: 'test-platform-alarms', reconnectPeriod: 0 });
  });
  afterAll(async () => {
    await platform?.endAsync(true);
    await rig?.dispose();
    await broker?.stop();
  });

  it('delivers the lifecycle in order and keeps state/alarms retained', async () => {
    const alarmsSeen: Envelope[] = [];
    const states: { total: number; open?: { source: { device: string } }[] }[] = [];
    platform.on('message', (topic, body) => {
      if (topic === evtTopic(TEST_ROOT, 'alarm')) alarmsSeen.push(JSON.parse(body.toString()) as Envelope);
      if (topic === stateTopic(TEST_ROOT, 'alarms')) states.push(JSON.parse(body.toString()) as (typeof states)[number]);
    });
    await platform.subscribeAsync([evtTopic(TEST_ROOT, 'alarm'), stateTopic(TEST_ROOT, 'alarms')], { qos: 1 });

    rig = makeRig({ url: broker.url });
    const clock = { now: () => Date.now(), monotonic: () => performance.now(), state: () => 'synced' as const };
    const manager = new AlarmManager({
      db: rig.outbox.scope('alarms'),
      outbox: rig.outbox,
      config: AlarmsConfig.parse({}),
      clock,
      timers: realTimers,
      log: silentLogger(),
      stateDebounceMs: 50,
    });
    manager.declareKinds(ACCESS_ALARM_KINDS);
    manager.start();
    // What AccessService.recordAlarm does: the raw event, then its condition.
    const door = {
      record: (e: EventInput) => {
        const recorded = rig.outbox.record(e);
        reportCondition(manager, conditionOfEvent(e), silentLogger());
        return recorded;
      },
    };
    rig.uplink.start();

    await door.record(doorEvent({ type: 'door.forced', data: { door: 'gate' } }));
    const id = manager.list()[0]!.id;
    manager.acknowledge(id, { by: 'anna', role: 'guard', note: 'on my way' });
    await door.record(doorEvent({ type: 'door.forced_cleared', data: { door: 'gate' } }));
    manager.close(id, { by: 'anna', role: 'guard', note: 'door repaired' });

    const lifecycle = () => alarmsSeen.filter((e) => e.type.startsWith('alarm.'));
    await waitFor(
      () => lifecycle().length === 4,
      'four lifecycle events at the platform',
      10_000,
      () => alarmsSeen.map((e) => e.type),
    );
    expect(alarmsSeen.map((e) => e.type)).toEqual([
      'door.forced',
      'alarm.raised',
      'alarm.acknowledged',
      'door.forced',
      'alarm.cleared',
      'alarm.closed',
    ]);
    const seqs = alarmsSeen.map((e) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(lifecycle().map((e) => [e.data.state, e.data.alarmId, e.source.device])).toEqual([
      ['raised', id, 'gate'],
      ['acknowledged', id, 'gate'],
      ['cleared', id, 'gate'],
      ['closed', id, 'gate'],
    ]);
    expect(lifecycle()[3]!.data).toMatchObject({
      kind: 'door.forced',
      priority: 'high',
      count: 1,
      by: 'anna',
      role: 'guard',
      note: 'door repaired',
      reason: 'operator',
    });

    // A second alarm stays open; a subscriber arriving later gets the retained summary.
    await door.record({
      class: 'alarm',
      type: 'door.held_open',
      source: { device: 'lobby' },
      data: { door: 'lobby', active: true, priority: 'medium' },
    });
    const late = await mqtt.connectAsync(broker.url, { clientId: 'test-platform-late', reconnectPeriod: 0 });
    try {
      const retained: { body: Record<string, any>; retain: boolean }[] = [];
      late.on('message', (_t, body, pkt) => retained.push({ body: JSON.parse(body.toString()), retain: pkt.retain }));
      // Once the platform has it live, the broker holds it retained. (Match the lobby alarm:
      // an earlier state/alarms also had total 1 — the gate alarm, cleared but not yet closed.)
      const lobbyOnly = (b: { total: number; open?: { source: { device: string } }[] }) =>
        b.total === 1 && b.open?.[0]?.source.device === 'lobby';
      await waitFor(() => states.some(lobbyOnly), 'state/alarms with the open alarm at the platform');
      await late.subscribeAsync(stateTopic(TEST_ROOT, 'alarms'), { qos: 1 });
      const got = await waitFor(
        () => retained.find((m) => m.retain && lobbyOnly(m.body as { total: number })),
        'the retained state/alarms',
      );
      expect(got.body).toMatchObject({
        total: 1,
        counts: { raised: 1, acknowledged: 0, cleared: 0 },
        open: [{ kind: 'door.held_open', source: { device: 'lobby' }, priority: 'medium', state: 'raised', active: true, count: 1 }],
      });
    } finally {
      await late.endAsync(true);
    }
    await manager.stop();
  });
});
