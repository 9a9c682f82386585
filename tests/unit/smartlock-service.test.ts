/**
 * LockService over an in-memory transport with a hand-driven clock and a recording
 * outbox: the mapping to platform events and retained state, without sockets or SQLite.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { LockConfig } from '../../config/schema.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import type { EventInput } from '../../gateway/core/events.js';
import type { CommandContext } from '../../gateway/commands/types.js';
import { LockService } from '../../gateway/locks/lock-service.js';
import { MemoryTransport } from '../../drivers/smartlock/memory-transport.js';
import { lockTopics } from '../../drivers/smartlock/topics.js';
import { PresenceConfig } from '../../config/presence-schema.js';
import { PresencePolicy } from '../../gateway/presence/presence-policy.js';
import { FakeAlarmSink } from '../helpers/fake-alarm-sink.js';

class FakeOutbox {
  readonly events: EventInput[] = [];
  readonly states: { device: string; state: Record<string, unknown> }[] = [];
  record(e: EventInput) {
    this.events.push(e);
    return Promise.resolve({
      v: 1 as const,
      id: 'x',
      seq: this.events.length,
      ts: '',
      clock: 'synced' as const,
      type: e.type,
      source: e.source,
      data: e.data,
    });
  }
  setState(device: string, state: Record<string, unknown>) {
    this.states.push({ device, state });
    return Promise.resolve();
  }
}

/** The broker as the service sees it: a transport that also reports disconnects. */
class FakeBroker extends MemoryTransport {
  private readonly ee = new EventEmitter();
  on(event: 'clientOffline', fn: (id: string) => void) {
    this.ee.on(event, fn);
    return this;
  }
  off(event: 'clientOffline', fn: (id: string) => void) {
    this.ee.off(event, fn);
    return this;
  }
  disconnect(id: string) {
    this.ee.emit('clientOffline', id);
  }
}

describe('LockService', () => {
  let clock: ManualClock;
  let broker: FakeBroker;
  let outbox: FakeOutbox;
  let service: LockService;
  const A = lockTopics('flat-a');
  const say = (topic: string, body: unknown) => broker.publish(topic, JSON.stringify(body));
  const ctx = (): CommandContext => ({
    id: 'c',
    caller: { via: 'cli', role: 'admin', principal: 't' },
    deadline: clock.monotonic() + 5000,
  });

  beforeEach(() => {
    clock = new ManualClock();
    broker = new FakeBroker();
    outbox = new FakeOutbox();
    service = new LockService({
      locks: ['flat-a', 'flat-b'].map((id) => LockConfig.parse({ id, offlineAfterMs: 60_000 })),
      broker,
      outbox,
      sink: new FakeAlarmSink(),
      clock,
      timers: clock,
      log: silentLogger(),
    });
    service.start();
  });

  it('maps lock events to the agreed classes, types and data', () => {
    say(A.status, { state: 'online' });
    say(A.evt, { type: 'unlock', result: 'granted', method: 'card', credential: '04A1B2C35678' });
    say(A.evt, { type: 'unlock', result: 'denied', method: 'pin', credential: '123456', reason: 'wrong_pin' });
    say(A.evt, { type: 'door', door: 'open' });
    say(A.evt, { type: 'door', door: 'closed' });
    say(A.evt, { type: 'tamper', active: true });
    say(A.evt, { type: 'battery_low', level: 9 });
    broker.disconnect('flat-a');
    expect(outbox.events.map((e) => [e.class, e.type, e.source, e.data])).toEqual([
      ['device', 'device.online', { device: 'flat-a' }, { family: 'lock' }],
      ['access', 'access.granted', { device: 'flat-a' }, { lock: 'flat-a', method: 'card', credential: '****5678', by: 'lock' }],
      [
        'access',
        'access.denied',
        { device: 'flat-a' },
        { lock: 'flat-a', method: 'pin', credential: '****', reason: 'wrong_pin', by: 'lock' },
      ],
      ['access', 'door.opened', { device: 'flat-a' }, { lock: 'flat-a' }],
      ['access', 'door.closed', { device: 'flat-a' }, { lock: 'flat-a' }],
      ['alarm', 'lock.tamper', { device: 'flat-a' }, { lock: 'flat-a', active: true }],
      ['device', 'lock.battery_low', { device: 'flat-a' }, { lock: 'flat-a', level: 9 }],
      ['device', 'device.offline', { device: 'flat-a' }, { family: 'lock', reason: 'disconnected' }],
    ]);
  });

  it('writes retained state on change, and refreshes lastSeen only every few minutes', () => {
    const mine = () => outbox.states.filter((s) => s.device === 'flat-a');
    say(A.state, { locked: true, door: 'closed', battery: 80, tamper: false });
    expect(mine().at(-1)).toEqual({
      device: 'flat-a',
      state: { online: true, locked: true, door: 'closed', battery: 80, tamper: false, lastSeen: new Date(clock.now()).toISOString() },
    });
    const n = mine().length;
    for (let i = 0; i < 4; i++) {
      clock.advance(50_000);
      say(A.state, { locked: true, door: 'closed', battery: 80, tamper: false });
    }
    expect(mine().length).toBe(n); // 200 s of identical heartbeats: nothing new to say
    clock.advance(50_000);
    say(A.state, { locked: true, door: 'closed', battery: 80, tamper: false });
    clock.advance(50_000);
    say(A.state, { locked: true, door: 'closed', battery: 80, tamper: false });
    expect(mine().length).toBe(n + 1); // 300 s: lastSeen refreshed
    say(A.state, { locked: false, door: 'closed', battery: 80, tamper: false });
    expect(mine().length).toBe(n + 2);
  });

  it('reports a silent lock offline after its offlineAfterMs', () => {
    say(A.status, { state: 'online' });
    clock.advance(60_000);
    const offline = outbox.events.filter((e) => e.type === 'device.offline');
    // flat-b was never heard from: it is reported too, so the platform knows.
    expect(offline.map((e) => [e.source.device, e.data.reason]).sort()).toEqual([
      ['flat-a', 'silence'],
      ['flat-b', 'silence'],
    ]);
    expect(outbox.states.filter((s) => s.device === 'flat-b').at(-1)?.state).toMatchObject({ online: false, lastSeen: null });
  });

  it('commands: unknown lock, validation, and a round trip through the transport', async () => {
    const cmds = new Map(service.commands().map((c) => [c.name, c]));
    const open = cmds.get('lock.open')!;
    await expect(open.handler(open.args.parse({ lock: 'flat-z' }), ctx())).rejects.toMatchObject({ code: 'DEVICE_UNKNOWN' });
    expect(open.args.safeParse({ lock: 'flat-a', seconds: 99 }).success).toBe(false);
    expect(open.args.safeParse({ lock: 'flat-a', extra: 1 }).success).toBe(false);
    const set = cmds.get('lock.credential.set')!;
    expect(set.args.safeParse({ lock: 'flat-a', credentialId: 'c', kind: 'card', value: 'xyz' }).success).toBe(false);
    expect(
      set.args.safeParse({
        lock: 'flat-a',
        credentialId: 'c',
        kind: 'card',
        value: 'ABCDEF12',
        validFrom: '2027-01-01T00:00:00Z',
        validTo: '2026-01-01T00:00:00Z',
      }).success,
    ).toBe(false);

    say(A.status, { state: 'online' });
    broker.subscribe(A.cmd, (_t, p) => {
      const cmd = JSON.parse(p.toString()) as { cid: string; op: string; value?: string };
      say(A.cmdRes, { cid: cmd.cid, ok: true });
    });
    const result = await set.handler(set.args.parse({ lock: 'flat-a', credentialId: 'tenant-1', kind: 'pin', value: '482915' }), ctx());
    expect(result).toEqual({ lock: 'flat-a', credentialId: 'tenant-1', kind: 'pin', credential: '****' });
    expect(broker.published.find((p) => p.topic === A.cmd)?.payload).toContain('"op":"credential.set"');
  });

  it('stops cleanly: no subscriptions left, commands refused', async () => {
    service.stop();
    expect(broker.subscriptionCount).toBe(0);
    const open = service.commands().find((c) => c.name === 'lock.open')!;
    await expect(open.handler(open.args.parse({ lock: 'flat-a' }), ctx())).rejects.toMatchObject({ code: 'DEVICE_OFFLINE' });
    broker.disconnect('flat-a');
    expect(outbox.events).toEqual([]);
  });
  it('with the presence policy: a lock on a bad Wi-Fi link is held offline (events and retained state) with one device.flapping', () => {
    const sink = new FakeAlarmSink();
    const presence = new PresencePolicy({ config: PresenceConfig.parse({}), clock, timers: clock, sink, log: silentLogger() });
    const damped = new LockService({
      locks: [LockConfig.parse({ id: 'flat-c' })],
      broker,
      outbox,
      sink,
      clock,
      timers: clock,
      log: silentLogger(),
      presence,
    });
    damped.start();
    const C = lockTopics('flat-c');
    for (let i = 0; i < 100; i++) {
      say(C.status, { state: 'online' });
      say(C.state, { locked: true, door: 'closed', battery: 90, tamper: false });
      clock.advance(500);
      say(C.status, { state: 'offline', reason: 'wifi_lost' });
      clock.advance(500);
    }
    say(C.status, { state: 'online' });
    say(C.state, { locked: true, door: 'closed', battery: 91, tamper: false });
    const presenceEvents = outbox.events.filter((e) => e.source.device === 'flat-c').map((e) => e.type);
    expect(presenceEvents).toEqual(['device.online', 'device.offline', 'device.online', 'device.offline']);
    expect(sink.calls.filter((c) => c.kind === 'device.flapping').map((c) => c.op)).toEqual(['raise']);
    // The lock answers (its state is kept current) but is shown offline until it holds.
    expect(outbox.states.filter((s) => s.device === 'flat-c').at(-1)!.state).toMatchObject({ online: false, battery: 91 });
    expect(damped.driver('flat-c')!.snapshot().online).toBe(true);
    damped.stop();
    presence.stop();
  });
});
