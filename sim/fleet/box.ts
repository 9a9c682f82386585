/**
 * One emulated box of the fleet (sim/fleet/fleet.ts): its identity, its per-gateway seq,
 * and an uplink that behaves like the real one (gateway/uplink/) where a platform can see
 * the difference:
 *
 * - a fresh MQTT.js client per connection, clean session, our own reconnection (no MQTT.js
 *   reconnect, which would replay its own store and interleave old and new messages);
 * - QoS 1 with at most `window` publishes in flight; a message leaves the box's memory only
 *   on its PUBACK; a new connection starts again from the oldest unacknowledged message, so
 *   each class stays in seq order and a lower seq after a higher one is always a re-send;
 * - retained `status` online on every connection, the last will (retained) says offline, a
 *   clean stop says offline explicitly;
 * - failover: on any loss the next URL of the list, after exponential backoff with full
 *   jitter (200 ms doubling to 5 s), reset by a CONNACK;
 * - a refused login (CONNACK 4 or 5) is remembered (`refusal`): it is configuration, not an
 *   outage, and `gatehouse fleet` stops on it saying what to fix.
 */
import { createHmac } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { Clock, TimerHandle, Timers } from '../../gateway/core/clock.js';
import { evtTopic, statusTopic, topicRoot } from '../../gateway/core/topics.js';

export interface BoxIdentity {
  compound: string;
  gateway: string;
  clientId: string;
  username?: string;
  password?: string;
}

/**
 * The credentials pattern of an emulated box: user `box-{compound}-{gateway}`, password
 * HMAC-SHA256(fleet secret, user), so a broker can be provisioned for N boxes from the same
 * secret without a list of passwords. No secret, no credentials (an open lab broker).
 */
export function fleetIdentity(prefix: string, index: number, secret?: string): BoxIdentity {
  const compound = `${prefix}-${String(index + 1).padStart(3, '0')}`;
  const gateway = 'gw-1';
  const id: BoxIdentity = { compound, gateway, clientId: `gatehouse-${compound}-${gateway}` };
  if (secret) {
    id.username = `box-${compound}-${gateway}`;
    id.password = createHmac('sha256', secret).update(id.username).digest('hex').slice(0, 32);
  }
  return id;
}

interface Pending {
  seq: number;
  topic: string;
  body: string;
  acked: boolean;
}

export interface BoxReport {
  compound: string;
  gateway: string;
  /** The last seq assigned: the box recorded events 1..lastSeq. */
  lastSeq: number;
  /** Events acknowledged by a broker (PUBACK). */
  acked: number;
  pending: number;
  connections: number;
  url?: string;
  /** Milliseconds from each lost connection to the next PUBACK. */
  gapsMs: number[];
}

/** A broker refused a box's login: which node, and what it said. */
export interface LoginRefusal {
  url: string;
  reason: string;
}

/** CONNACK return codes of MQTT 3.1.1 that say the credentials are wrong or not allowed. */
const LOGIN_REFUSED = new Set([4, 5]);

/**
 * Ends a client now, whatever it is doing: connecting (the TCP connect or the CONNACK still
 * pending), connected, or already ending gracefully behind a publish that will never be
 * acknowledged. `end(true)` alone is a no-op on a client that is already ending, and leaves a
 * connection attempt's socket open until its connect timeout, so the stream is destroyed too.
 */
function forceEnd(client: MqttClient): void {
  client.end(true);
  client.stream?.destroy();
}

export interface BoxOptions {
  identity: BoxIdentity;
  urls: string[];
  /** The URL index this box tries first (boxes are spread over the nodes). */
  firstUrl: number;
  window: number;
  /** MQTT keepalive in seconds. Default 10. */
  keepaliveS?: number;
  clock: Clock;
  timers: Timers;
  random: () => number;
}

/** How long each step of a clean stop waits for the broker. */
export const STOP_STEP_MS = 2000;

export class Box {
  readonly root: string;
  private seq = 0;
  private acked = 0;
  private readonly pending: Pending[] = [];
  private sendIdx = 0;
  private inflight = 0;
  private client?: MqttClient;
  private generation = 0;
  private urlIdx: number;
  private attempt = 0;
  private connections = 0;
  private retry?: TimerHandle;
  private stopped = false;
  private lostAt?: number;
  private readonly gapsMs: number[] = [];
  private refused?: LoginRefusal;

  constructor(private readonly o: BoxOptions) {
    this.root = topicRoot(o.identity.compound, o.identity.gateway);
    this.urlIdx = o.firstUrl;
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** Records one event (assigns its seq now, as the gateway does) and sends it when it can. */
  record(cls: string, envelope: (seq: number) => Record<string, unknown>): void {
    const seq = ++this.seq;
    this.pending.push({ seq, topic: evtTopic(this.root, cls), body: JSON.stringify(envelope(seq)), acked: false });
    this.pump();
  }

  get unacked(): number {
    return this.pending.length;
  }

  /** The last refused login, if any broker refused one. */
  get refusal(): LoginRefusal | undefined {
    return this.refused;
  }

  start(): void {
    this.connect();
  }

  private statusBody(state: 'online' | 'offline'): string {
    return JSON.stringify({ state, ts: new Date(this.o.clock.now()).toISOString(), version: 'fleet' });
  }

  private connect(): void {
    if (this.stopped) return;
    const gen = ++this.generation;
    const url = this.o.urls[this.urlIdx % this.o.urls.length]!;
    const id = this.o.identity;
    const client = mqtt.connect(url, {
      clientId: id.clientId,
      username: id.username,
      password: id.password,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      keepalive: this.o.keepaliveS ?? 10,
      will: { topic: statusTopic(this.root), payload: Buffer.from(this.statusBody('offline')), qos: 1, retain: true },
    });
    this.client = client;
    // Every failure also ends in 'close'; a refused login is worth remembering on the way.
    client.on('error', (err: Error & { code?: unknown }) => {
      if (gen === this.generation && typeof err.code === 'number' && LOGIN_REFUSED.has(err.code))
        this.refused = { url, reason: err.message };
    });
    client.on('connect', () => {
      if (gen !== this.generation) return;
      this.connections++;
      this.attempt = 0;
      client.publish(statusTopic(this.root), this.statusBody('online'), { qos: 1, retain: true }, () => undefined);
      this.pump();
    });
    client.on('close', () => {
      if (gen !== this.generation) return;
      this.lost();
    });
  }

  private lost(): void {
    this.generation++;
    const old = this.client;
    this.client = undefined;
    if (old) forceEnd(old);
    // Everything unacknowledged goes again, oldest first, on the next connection.
    this.sendIdx = 0;
    this.inflight = 0;
    for (const p of this.pending) p.acked = false;
    if (this.stopped) return;
    this.lostAt ??= this.o.clock.monotonic();
    this.urlIdx++;
    const delay = this.o.random() * Math.min(5000, 200 * 2 ** this.attempt++);
    this.retry = this.o.timers.setTimeout(() => this.connect(), delay);
  }

  private pump(): void {
    const client = this.client;
    if (!client?.connected) return;
    const gen = this.generation;
    while (this.inflight < this.o.window && this.sendIdx < this.pending.length) {
      const p = this.pending[this.sendIdx++]!;
      this.inflight++;
      client.publish(p.topic, p.body, { qos: 1 }, (err) => {
        if (gen !== this.generation) return;
        if (err) {
          // A refused publish (ACL), or MQTT.js failing every pending publish as it drops the
          // connection (keepalive timeout): start over on the next one. Not from inside this
          // callback: MQTT.js calls it while iterating its pending publishes, and ending the
          // client there deletes entries under that loop (it threw a TypeError and killed the
          // fleet process under load).
          queueMicrotask(() => forceEnd(client));
          return;
        }
        this.inflight--;
        p.acked = true;
        if (this.lostAt !== undefined) {
          this.gapsMs.push(this.o.clock.monotonic() - this.lostAt);
          this.lostAt = undefined;
        }
        while (this.pending[0]?.acked) {
          this.pending.shift();
          this.sendIdx--;
          this.acked++;
        }
        this.pump();
      });
    }
  }

  report(): BoxReport {
    const r: BoxReport = {
      compound: this.o.identity.compound,
      gateway: this.o.identity.gateway,
      lastSeq: this.seq,
      acked: this.acked,
      pending: this.pending.length,
      connections: this.connections,
      gapsMs: [...this.gapsMs],
    };
    if (this.client?.connected) r.url = this.o.urls[this.urlIdx % this.o.urls.length];
    return r;
  }

  /**
   * Clean stop: offline status (retained), then DISCONNECT, which suppresses the will; each
   * step waits at most STOP_STEP_MS for a broker that may not answer. A connection attempt
   * under way (no CONNACK yet) is aborted, and whatever is left of the client is ended by
   * force: stop() never waits on the network for longer than those two steps.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.retry?.cancel();
    const client = this.client;
    this.client = undefined;
    this.generation++;
    if (!client) return;
    if (client.connected) {
      const step = (run: (done: () => void) => void): Promise<void> =>
        new Promise<void>((resolve) => {
          const t = this.o.timers.setTimeout(resolve, STOP_STEP_MS);
          run(() => {
            t.cancel();
            resolve();
          });
        });
      await step((done) => client.publish(statusTopic(this.root), this.statusBody('offline'), { qos: 1, retain: true }, done));
      // A graceful end waits for every unacknowledged publish first: bounded like the publish.
      let ended = false;
      if (client.connected)
        await step((done) =>
          client.end(false, {}, () => {
            ended = true;
            done();
          }),
        );
      if (ended) return;
    }
    forceEnd(client);
  }
}
