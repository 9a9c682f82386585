/**
 * The live feed without sockets: the event ring per class, backpressure (a client whose
 * buffer would pass the limit is dropped, the others still get the message) and the
 * ping/pong keepalive dropping a client that stopped answering.
 */
import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { ManualClock } from '../../gateway/core/clock.js';
import type { Envelope } from '../../gateway/core/events.js';
import { EventRing, LiveFeed } from '../../gateway/console/live.js';
import { silentLogger } from '../../gateway/core/log.js';

const env = (seq: number, type = 'access.granted'): Envelope => ({
  v: 1,
  id: `id${seq}`,
  seq,
  ts: '',
  clock: 'synced',
  type,
  source: { device: 'd' },
  data: {},
});

class FakeWs extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  sent: string[] = [];
  terminated = false;
  pings = 0;
  send(d: string): void {
    this.sent.push(d);
  }
  terminate(): void {
    this.terminated = true;
  }
  ping(): void {
    this.pings++;
  }
  close(): void {
    this.readyState = 3;
  }
}

describe('console live feed', () => {
  it('keeps the last N events per class, newest first', () => {
    const ring = new EventRing(3);
    for (let i = 1; i <= 5; i++) ring.push('access', env(i));
    ring.push('alarm', env(6, 'alarm.raised'));
    expect(ring.recent('access', 10).map((e) => e.seq)).toEqual([5, 4, 3]);
    expect(ring.recent(undefined, 2).map((e) => e.seq)).toEqual([6, 5]);
  });

  it('files recorded events under the class the outbox hands with them, without asking the outbox again', () => {
    // An outbox with no eventClasses(): the feed must not need it (a query per commit, issue 18).
    const outbox = new EventEmitter();
    const feed = new LiveFeed({ outbox: outbox as never, timers: new ManualClock(), log: silentLogger() });
    feed.start();
    outbox.emit('recorded', [env(1, 'device.online'), env(2, 'charging.meter'), env(3, 'lock.tamper')], ['device', 'charging', 'alarm']);
    expect(feed.ring.recent('device', 10).map((e) => e.seq)).toEqual([1]);
    expect(feed.ring.recent('charging', 10).map((e) => e.seq)).toEqual([2]);
    expect(feed.ring.recent('alarm', 10).map((e) => e.seq)).toEqual([3]);
    feed.stop();
  });

  it('keeps the newest N of a class however many went through, oldest overwritten in turn', () => {
    const ring = new EventRing(4);
    for (let i = 1; i <= 11; i++) ring.push('charging', env(i, 'charging.meter'));
    expect(ring.recent('charging', 10).map((e) => e.seq)).toEqual([11, 10, 9, 8]);
    expect(ring.recent('charging', 2).map((e) => e.seq)).toEqual([11, 10]);
  });

  it('drops a slow client, feeds the rest, and drops a client that stops answering pings', () => {
    const clock = new ManualClock();
    const outbox = new EventEmitter() as EventEmitter & { db: never };
    const feed = new LiveFeed({
      outbox: outbox as never,
      timers: clock,
      log: silentLogger(),
      maxBufferedBytes: 1000,
      pingIntervalMs: 10_000,
    });
    feed.start();
    const fast = new FakeWs();
    const slow = new FakeWs();
    slow.bufferedAmount = 990;
    for (const ws of [fast, slow]) feed.accept(ws as unknown as WebSocket, 'anna');
    outbox.emit('state', 'lock-1', JSON.stringify({ online: true }));
    expect(slow.terminated).toBe(true);
    expect(fast.sent.map((s) => JSON.parse(s).type)).toEqual(['hello', 'state']);
    // A terminated socket closes; the feed forgets it.
    slow.emit('close');
    expect(feed.clients.has(slow as unknown as WebSocket)).toBe(false);
    clock.advance(10_000);
    expect(fast.pings).toBe(1);
    fast.emit('pong');
    clock.advance(10_000);
    expect([fast.pings, fast.terminated]).toEqual([2, false]);
    clock.advance(10_000);
    expect(fast.terminated).toBe(true);
    feed.stop();
  });
});
