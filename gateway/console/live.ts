/**
 * What the console shows as it happens: the recent events (a ring per class, since the
 * outbox deletes events once the platform has them) and the `/api/live` WebSocket feed of
 * events, states, alarm lifecycle and linkage notifications.
 *
 * A slow tablet must not make the daemon buffer without bound: a client whose unsent
 * buffer passes `maxBufferedBytes` is dropped (its page reconnects and reloads the lists).
 * Ping/pong finds clients that vanished without a close (Wi-Fi gone).
 *
 * `ws` (with zlib and https) is imported when the first guard opens the feed, not at start:
 * a box whose console nobody watches does not carry it (issue 12, ~1 MB of idle RSS;
 * tests/integration/ws-lazy-load.test.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import type { AlarmManager } from '../alarms/alarm-manager.js';
import { alarmView } from '../alarms/alarm-views.js';
import type { Alarm } from '../alarms/types.js';
import type { TimerHandle, Timers } from '../core/clock.js';
import { EVENT_CLASSES, type Envelope, type EventClass } from '../core/events.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';

export const RING_PER_CLASS = 1000;

/** A circular buffer per class: a push overwrites the oldest slot, it never shifts the others (every event goes through here). */
export class EventRing {
  private readonly rings = new Map<EventClass, { slots: Envelope[]; next: number }>();

  constructor(private readonly perClass = RING_PER_CLASS) {
    for (const c of EVENT_CLASSES) this.rings.set(c, { slots: [], next: 0 });
  }

  push(cls: EventClass, env: Envelope): void {
    const ring = this.rings.get(cls)!;
    if (ring.slots.length < this.perClass) ring.slots.push(env);
    else ring.slots[ring.next] = env;
    ring.next = (ring.next + 1) % this.perClass;
  }

  /** Newest first. */
  recent(cls: EventClass | undefined, limit: number): Envelope[] {
    const all = cls ? [...this.rings.get(cls)!.slots] : [...this.rings.values()].flatMap((r) => r.slots);
    return all.sort((a, b) => b.seq - a.seq).slice(0, limit);
  }
}

function guessClass(type: string): EventClass {
  const family = type.split('.')[0] ?? '';
  if (family === 'alarm') return 'alarm';
  if (family === 'access') return 'access';
  if (family === 'charging') return 'charging';
  return 'system';
}

export interface LiveFeedOptions {
  outbox: Pick<Outbox, 'on' | 'off'>;
  alarms?: Pick<AlarmManager, 'on' | 'off'>;
  /** The linkage engine (its `notify` event), if the console should show notify actions. */
  linkage?: {
    on(e: 'notify', fn: (a: Alarm, info: { rule: number }) => void): unknown;
    off(e: 'notify', fn: (a: Alarm, info: { rule: number }) => void): unknown;
  };
  timers: Timers;
  log: Logger;
  maxBufferedBytes?: number;
  pingIntervalMs?: number;
}

const ALARM_EVENTS = ['raised', 'acknowledged', 'cleared', 'closed', 'retriggered'] as const;

export class LiveFeed {
  readonly ring = new EventRing();
  /** The open feeds: added by accept(), removed when they close. */
  readonly clients = new Set<WebSocket>();
  private wss: Promise<WebSocketServer> | undefined;
  private stopped = false;
  private readonly alive = new WeakMap<WebSocket, boolean>();
  private readonly unsubscribe: (() => void)[] = [];
  private pingTimer: TimerHandle | undefined;
  private readonly maxBuffered: number;

  constructor(private readonly opts: LiveFeedOptions) {
    this.maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;
  }

  start(): void {
    // The outbox hands each envelope's class beside it (the envelope does not carry it): no
    // query of the rows just committed on every commit (issue 18), no message built for nobody.
    const onRecorded = (envs: Envelope[], classes?: EventClass[]): void => {
      const watched = this.clients.size > 0;
      for (let i = 0; i < envs.length; i++) {
        const env = envs[i]!;
        const cls = classes?.[i] ?? guessClass(env.type);
        this.ring.push(cls, env);
        if (watched) this.broadcast({ type: 'event', class: cls, envelope: env });
      }
    };
    const onState = (device: string, body: string): void => {
      let state: unknown;
      try {
        state = JSON.parse(body);
      } catch {
        return;
      }
      this.broadcast({ type: 'state', device, state });
    };
    this.opts.outbox.on('recorded', onRecorded);
    this.opts.outbox.on('state', onState);
    this.unsubscribe.push(
      () => this.opts.outbox.off('recorded', onRecorded),
      () => this.opts.outbox.off('state', onState),
    );
    const alarms = this.opts.alarms;
    if (alarms) {
      for (const event of ALARM_EVENTS) {
        const fn = (a: Alarm): void => this.broadcast({ type: 'alarm', event, alarm: alarmView(a) });
        alarms.on(event, fn);
        this.unsubscribe.push(() => alarms.off(event, fn));
      }
    }
    const linkage = this.opts.linkage;
    if (linkage) {
      const fn = (a: Alarm, info: { rule: number }): void => this.broadcast({ type: 'notify', rule: info.rule, alarm: alarmView(a) });
      linkage.on('notify', fn);
      this.unsubscribe.push(() => linkage.off('notify', fn));
    }
    this.pingTimer = this.opts.timers.setInterval(() => this.ping(), this.opts.pingIntervalMs ?? 30_000);
  }

  /**
   * Completes the WebSocket handshake of an authenticated request (the caller checked the
   * session and the Origin); the first one imports `ws`.
   */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, username: string): Promise<void> {
    try {
      this.wss ??= import('ws').then(
        ({ WebSocketServer }) => new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: 4096 }),
      );
      const wss = await this.wss;
      if (this.stopped) return void socket.destroy();
      wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, username));
    } catch (err) {
      this.wss = undefined;
      this.opts.log.error({ err: (err as Error).message }, 'live feed cannot accept a connection');
      socket.destroy();
    }
  }

  /** Adds an authenticated client. */
  accept(ws: WebSocket, username: string): void {
    this.clients.add(ws);
    ws.once('close', () => this.clients.delete(ws));
    this.alive.set(ws, true);
    ws.on('pong', () => this.alive.set(ws, true));
    ws.on('error', (err) => this.opts.log.debug({ user: username, err: err.message }, 'live client error'));
    // The feed is one-way; anything a client sends is ignored (maxPayload bounds it).
    ws.send(JSON.stringify({ type: 'hello', user: username }));
  }

  private broadcast(msg: Record<string, unknown>): void {
    if (this.clients.size === 0) return;
    const data = JSON.stringify(msg);
    for (const ws of this.clients) {
      if (ws.readyState !== ws.OPEN) continue;
      if (ws.bufferedAmount + data.length > this.maxBuffered) {
        this.opts.log.warn({ buffered: ws.bufferedAmount }, 'live client too slow; dropped');
        ws.terminate();
        continue;
      }
      ws.send(data);
    }
  }

  private ping(): void {
    for (const ws of this.clients) {
      if (this.alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      this.alive.set(ws, false);
      ws.ping();
    }
  }

  stop(): void {
    this.pingTimer?.cancel();
    for (const u of this.unsubscribe.splice(0)) u();
    this.stopped = true;
    for (const ws of this.clients) ws.close(1001, 'console stopping');
    void this.wss?.then((wss) => wss.close());
  }
}
