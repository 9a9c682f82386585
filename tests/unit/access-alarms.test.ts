/**
 * Access control reports its own conditions (issue 12, one way to raise an alarm): the
 * AccessService with an in-memory reader line, a real outbox (SQLite file) and the real
 * AlarmManager with the kinds access declares. Forced, held open, tamper, power failure,
 * reader offline and fire unlock raise and clear alarms at their declared priorities; the
 * raw `evt/alarm` events are still recorded as the contract documents them, each before the
 * lifecycle event it causes; a reader's outage is one alarm (reader.offline, no device.offline).
 */
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CompoundConfig } from '../../config/schema.js';
import { rawFromCardHex } from '../../drivers/osdp/card.js';
import type { ReaderEvent } from '../../drivers/osdp/types.js';
import { AccessService, type ReaderLine } from '../../gateway/access/access-service.js';
import { ALARM_KINDS } from '../../gateway/access/alarm-kinds.js';
import { AlarmManager } from '../../gateway/alarms/alarm-manager.js';
import { ManualClock } from '../../gateway/core/clock.js';
import type { Envelope } from '../../gateway/core/events.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { validateMessage } from '../helpers/asyncapi.js';
import { alarmTestbed } from '../helpers/alarm-testbed.js';

/** The OSDP control panel as the service sees it: events in, outputs ignored. */
class Line extends EventEmitter implements ReaderLine {
  start() {}
  stop() {}
  async output() {}
  async led() {}
  async buzzer() {}
  status() {
    return [];
  }
  send(e: ReaderEvent) {
    this.emit('event', e);
  }
}

const config = CompoundConfig.parse({
  compound: { id: 'c' },
  gateway: { id: 'g' },
  osdpBuses: [{ id: 'bus-1', path: '/dev/null' }],
  readers: [
    { id: 'gate-in', bus: 'bus-1', address: 1 },
    { id: 'gate-out', bus: 'bus-1', address: 2 },
  ],
  doors: [
    {
      id: 'gate',
      entryReader: 'gate-in',
      exitReader: 'gate-out',
      lock: { reader: 'gate-in', index: 0 },
      contact: { reader: 'gate-in', index: 0 },
    },
  ],
  access: { fireInputs: [{ reader: 'gate-out', index: 3 }] },
});

describe('access raises its alarms on the sink', () => {
  let dir: string;
  let clock: ManualClock;
  let outbox: Outbox;
  let manager: AlarmManager;
  let line: Line;
  let service: AccessService;

  const declared = (kind: string) => ALARM_KINDS.find((k) => k.kind === kind)!.priority;
  const alarm = (kind: string, device: string) =>
    manager.list({ includeClosed: true, limit: 500 }).find((a) => a.kind === kind && a.source.device === device);
  const summary = (kind: string, device: string) => {
    const a = alarm(kind, device);
    return a && { priority: a.priority, state: a.state, active: a.active, count: a.count };
  };
  const recorded = (): (Envelope & { class: string; body: string })[] => {
    outbox.flush();
    return outbox.readEvents(0, 10_000).map((r) => ({ ...(JSON.parse(r.body) as Envelope), class: r.class, body: r.body }));
  };
  /** evt/alarm as the platform gets it, for one device: raw events and lifecycle events in order. */
  const alarmTopic = (device: string) =>
    recorded()
      .filter((e) => e.class === 'alarm' && e.source.device === device)
      .map((e) => `${e.type}:${String(e.data.active)}`);

  beforeEach(async () => {
    ({ dir, clock, outbox, manager } = alarmTestbed('gh-access-alarms-'));
    manager.declareKinds(ALARM_KINDS);
    manager.start();
    line = new Line();
    service = new AccessService({
      buses: config.osdpBuses,
      readers: config.readers,
      doors: config.doors,
      access: config.access,
      decider: {
        decide: () => ({ granted: true, reason: 'granted', credentialId: 'alice', credential: '****BEEF', method: 'card' }),
        commitPassage: () => undefined,
      },
      lineFactory: () => line,
      readerKey: () => Buffer.alloc(16, 1),
      readerInstalled: () => false,
      onKeySet: () => undefined,
      outbox,
      sink: manager,
      uplinkConnected: () => true,
      clock,
      timers: clock,
      log: silentLogger(),
    });
    await service.start();
    line.send({ kind: 'online', address: 1, secure: true });
    line.send({ kind: 'online', address: 2, secure: true });
    line.send({ kind: 'inputs', address: 1, inputs: [true, false] }); // NC contact active = closed
  });
  afterEach(async () => {
    await service.stop();
    await manager.stop();
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('door forced and held open: raised and cleared at their declared priorities, raw events first', () => {
    line.send({ kind: 'inputs', address: 1, inputs: [false, false] }); // opened without a grant
    expect(summary('door.forced', 'gate')).toEqual({ priority: declared('door.forced'), state: 'raised', active: true, count: 1 });
    expect(alarm('door.forced', 'gate')!.data).toEqual({ door: 'gate' });
    line.send({ kind: 'inputs', address: 1, inputs: [true, false] });
    expect(summary('door.forced', 'gate')).toMatchObject({ state: 'cleared', active: false });

    line.send({ kind: 'card', address: 1, bits: 32, data: rawFromCardHex('DEADBEEF', 32), format: 0 });
    line.send({ kind: 'inputs', address: 1, inputs: [false, false] });
    clock.advance(config.doors[0]!.heldOpenMs + 1);
    expect(summary('door.held_open', 'gate')).toEqual({ priority: declared('door.held_open'), state: 'raised', active: true, count: 1 });
    expect(declared('door.held_open')).toBe('medium');
    line.send({ kind: 'inputs', address: 1, inputs: [true, false] });
    expect(summary('door.held_open', 'gate')).toMatchObject({ state: 'cleared', active: false });

    expect(alarmTopic('gate')).toEqual([
      'door.forced:true',
      'alarm.raised:true',
      'door.forced:false',
      'alarm.cleared:false',
      'door.held_open:true',
      'alarm.raised:true',
      'door.held_open:false',
      'alarm.cleared:false',
    ]);
    const raw = recorded().find((e) => e.type === 'door.held_open')!;
    expect(raw.data).toMatchObject({ door: 'gate', active: true, priority: 'medium' });
    for (const e of recorded()) expect(validateMessage(`gatehouse/v1/c/g/evt/${e.class}`, e.body).errors, e.type).toEqual([]);
  });

  it('reader tamper and power failure raise and clear; a reader outage is one reader.offline alarm, auto-closed, and no device.offline', () => {
    line.send({ kind: 'local-status', address: 2, tamper: true, power: true });
    expect(summary('reader.tamper', 'gate-out')).toEqual({ priority: declared('reader.tamper'), state: 'raised', active: true, count: 1 });
    expect(summary('reader.power_failure', 'gate-out')).toEqual({
      priority: declared('reader.power_failure'),
      state: 'raised',
      active: true,
      count: 1,
    });
    expect(alarm('reader.tamper', 'gate-out')!.data).toEqual({ reader: 'gate-out', door: 'gate' });
    line.send({ kind: 'local-status', address: 2, tamper: false, power: false });
    expect(summary('reader.tamper', 'gate-out')).toMatchObject({ state: 'cleared', active: false });
    expect(summary('reader.power_failure', 'gate-out')).toMatchObject({ state: 'cleared', active: false });

    line.send({ kind: 'offline', address: 1, reason: 'no answer to 4 polls' });
    expect(summary('reader.offline', 'gate-in')).toEqual({ priority: declared('reader.offline'), state: 'raised', active: true, count: 1 });
    expect(alarm('reader.offline', 'gate-in')!.data).toEqual({ reader: 'gate-in', door: 'gate', reason: 'no answer to 4 polls' });
    line.send({ kind: 'online', address: 1, secure: true });
    expect(alarm('reader.offline', 'gate-in')!.closed?.reason).toBe('auto');
    expect(alarm('device.offline', 'gate-in')).toBeUndefined();
    expect(alarmTopic('gate-in')).toEqual([
      'reader.offline:true',
      'alarm.raised:true',
      'reader.offline:false',
      'alarm.cleared:false',
      'alarm.closed:false',
    ]);
  });

  it('fire unlock is critical, declared and in the raw event', () => {
    line.send({ kind: 'inputs', address: 2, inputs: [false, false, false, true] });
    expect(summary('access.fire_unlock', 'gate-out')).toEqual({ priority: 'critical', state: 'raised', active: true, count: 1 });
    expect(declared('access.fire_unlock')).toBe('critical');
    line.send({ kind: 'inputs', address: 2, inputs: [false, false, false, false] });
    expect(summary('access.fire_unlock', 'gate-out')).toMatchObject({ state: 'cleared', active: false });
    expect(
      recorded()
        .filter((e) => e.type === 'access.fire_unlock')
        .map((e) => e.data),
    ).toEqual([
      { active: true, priority: 'critical' },
      { active: false, priority: 'critical' },
    ]);
  });
});
