/**
 * The connection loop of the uplink: one fresh MQTT.js client per connection, and our own
 * reconnection with exponential backoff and full jitter.
 *
 * Why not MQTT.js's own reconnect: on reconnect it replays its in-memory outgoing store
 * and then whatever we publish next, and with a window of publishes in flight that can
 * interleave old and new messages of one class. With `reconnectPeriod: 0` and a new
 * client each time, the only source of re-sends is the outbox, read again from the oldest
 * unacknowledged row, so per-class order survives any number of reconnects.
 *
 * Sessions: the broker-side session (the `cmd/+` subscription and the commands queued for
 * it) is persistent, so a command published while we reconnect (after our own ack
 * watchdog dropped a slow link, say) or one the broker sent just before the drop is
 * delivered on the next connection instead of being thrown away with a clean session.
 * It is resumed only on the node it lives on and only after a short gap
 * (`sessionResumeMs`); at start, after a longer outage, or on another node the session
 * starts clean, so a command queued for a gateway that was away never runs late. MQTT 5
 * does that in one CONNECT (clean start + session expiry); MQTT 3.1.1 has no "clean start
 * but keep", so a clean CONNECT + DISCONNECT wipes the old session first (`wipe` below).
 *
 * Failover: `uplink.urls` lists the nodes of a cluster. A failed attempt moves to the next
 * node with the usual backoff; a link that was up and dropped is retried once on the same
 * node first (a broker restart, our own watchdog), then the next. Every connection starts
 * from scratch (will, status, states, subscription, outbox from the oldest unacknowledged
 * row), so nothing depends on which node it is.
 *
 * Every way a connection can die (refused, DNS, TLS, connack timeout, keepalive timeout,
 * reset, our own ack watchdog) ends in the client's `close`, and every `close` schedules
 * the next attempt: there is no state in which the loop waits for someone else.
 */
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Secrets } from '../../config/load.js';
import { uplinkUrls, type UplinkConfig } from '../../config/schema.js';
import type { Clock, TimerHandle, Timers } from '../core/clock.js';
import { GatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { buildClientOptions } from './client-options.js';
import { connectUplink } from './stream.js';

/** Publishes one QoS 1 message; `cb` runs on PUBACK, or with an error if it never will on this connection. */
export type PublishFn = (topic: string, body: string | Buffer, retain: boolean, cb: (err?: Error) => void) => void;

/** One established connection. Stale links (a previous connection) are told apart by identity. */
export interface Link {
  readonly generation: number;
  /** The broker node this link is on. */
  readonly url: string;
  /** Whether the broker still held our session (subscription, queued commands) from the previous connection. */
  readonly sessionPresent: boolean;
  /** Monotonic ms of the last packet of any kind from the broker on this link. */
  readonly lastHeardMono: number;
  readonly publish: PublishFn;
  subscribe(filter: string, cb: (err?: Error) => void): void;
}

export interface ConnectionHooks {
  connected(link: Link): void;
  disconnected(link: Link, reason: string): void;
  message(topic: string, payload: Buffer, packet: IPublishPacket): void;
}

/** Full jitter (AWS architecture blog): uniform in [0, min(max, min * 2^attempt)]. */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}
  next(): number {
    const ceiling = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.floor(this.random() * ceiling);
  }
  reset(): void {
    this.attempt = 0;
  }
  get attempts(): number {
    return this.attempt;
  }
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}

export interface ConnectionLoopOptions {
  config: UplinkConfig;
  secrets: Secrets;
  clientId: string;
  /** Built per attempt: the will carries the time of the connection it belongs to. */
  will: () => { topic: string; payload: string };
  clock: Clock;
  timers: Timers;
  random: () => number;
  log: Logger;
  hooks: ConnectionHooks;
}

interface LiveLink extends Link {
  lastHeardMono: number;
}

export class ConnectionLoop {
  private readonly cfg: UplinkConfig;
  private readonly backoff: Backoff;
  private readonly password: string | undefined;
  /** The broker nodes, tried in order; `node` is the one in use or next to try. */
  readonly urls: readonly string[];
  private node = 0;
  /** Where our persistent session lives, and since when (monotonic) no link holds it. */
  private sessionUrl: string | undefined;
  private sessionIdleSinceMono: number | undefined;
  private client: MqttClient | undefined;
  private link: LiveLink | undefined;
  private generation = 0;
  private retryTimer: TimerHandle | undefined;
  private guardTimer: TimerHandle | undefined;
  private running = false;
  private connectedAtMono = 0;
  connectedSince: number | null = null;
  connections = 0;
  attempts = 0;
  lastError: string | null = null;

  constructor(private readonly opts: ConnectionLoopOptions) {
    this.cfg = opts.config;
    this.urls = uplinkUrls(this.cfg);
    if (this.urls.length === 0) throw new GatehouseError('CONFIG_INVALID', 'uplink: give url or urls');
    this.backoff = new Backoff(this.cfg.backoff.minMs, this.cfg.backoff.maxMs, opts.random);
    if (this.cfg.passwordSecret !== undefined) {
      this.password = opts.secrets.get(this.cfg.passwordSecret);
      // A missing secret is a configuration mistake, not an outage: refuse to start.
      if (this.password === undefined)
        throw new GatehouseError('CONFIG_INVALID', `uplink.passwordSecret "${this.cfg.passwordSecret}" is not in the secrets file`);
    }
  }

  get connected(): boolean {
    return this.link !== undefined;
  }

  get connectedAtMonotonic(): number {
    return this.connectedAtMono;
  }

  /** The node connected to, or the next one to be tried. */
  get url(): string {
    return this.link?.url ?? this.urls[this.node]!;
  }

  /**
   * Whether the next CONNECT to `url` may resume our session there: only on the node that
   * holds it and only within sessionResumeMs of the link that held it going away.
   */
  private mayResume(url: string): boolean {
    return (
      this.sessionUrl === url &&
      this.sessionIdleSinceMono !== undefined &&
      this.opts.clock.monotonic() - this.sessionIdleSinceMono <= this.cfg.sessionResumeMs
    );
  }

  /** True while the loop is doing something: connected, connecting, or waiting to retry. */
  alive(): boolean {
    return !this.running || this.client !== undefined || this.retryTimer !== undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt();
  }

  private attempt(wiped = false): void {
    this.retryTimer = undefined;
    if (!this.running) return;
    const gen = ++this.generation;
    if (!wiped) this.attempts++;
    const url = this.urls[this.node]!;
    const resume = wiped || this.mayResume(url);
    // MQTT 3.1.1 cannot start clean and keep the session afterwards: wipe first (a clean
    // CONNECT, then DISCONNECT), then connect again to a session that is empty and persistent.
    const wipe = !resume && this.cfg.protocolVersion === 4;
    let client: MqttClient;
    try {
      const options = wipe
        ? buildClientOptions(this.cfg, this.password, this.opts.clientId, undefined, { clean: true })
        : buildClientOptions(this.cfg, this.password, this.opts.clientId, this.opts.will(), { clean: !resume });
      client = connectUplink(url, options);
    } catch (err) {
      this.lastError = (err as Error).message;
      this.opts.log.error({ err: this.lastError }, 'uplink cannot start a connection attempt');
      this.nextNode(false);
      return this.scheduleRetry();
    }
    this.client = client;
    // MQTT.js's connack timer starts with the stream; this guard also covers a stream that
    // never gets that far (a DNS lookup that hangs), so an attempt always ends.
    this.guardTimer = this.opts.timers.setTimeout(() => {
      if (gen === this.generation && !this.link) this.kill(client, 'connect timeout');
    }, this.cfg.connectTimeoutMs + 2000);

    client.on('connect', (connack) => {
      if (gen !== this.generation || this.link) return;
      this.guardTimer?.cancel();
      if (wipe) return this.wiped(client, url);
      this.connections++;
      this.connectedAtMono = this.opts.clock.monotonic();
      this.connectedSince = this.opts.clock.now();
      this.sessionUrl = url;
      this.sessionIdleSinceMono = undefined;
      const link: LiveLink = {
        generation: gen,
        url,
        sessionPresent: resume && connack.sessionPresent === true,
        lastHeardMono: this.connectedAtMono,
        publish: (topic, body, retain, cb) => {
          client.publish(topic, body, { qos: 1, retain }, (err) => cb(err ?? undefined));
        },
        subscribe: (filter, cb) => {
          client.subscribe(filter, { qos: 1 }, (err, granted) => {
            if (err) return cb(err);
            if (granted?.some((g) => g.qos === 128)) return cb(new Error(`subscription to ${filter} refused by the broker`));
            cb();
          });
        },
      };
      this.link = link;
      this.opts.hooks.connected(link);
    });
    client.on('packetreceive', () => {
      if (gen === this.generation && this.link) this.link.lastHeardMono = this.opts.clock.monotonic();
    });
    client.on('message', (topic, payload, packet) => {
      if (gen === this.generation) this.opts.hooks.message(topic, payload, packet);
    });
    client.on('error', (err) => {
      if (gen !== this.generation) return;
      this.lastError = err.message;
      // Refused CONNACK, protocol errors, keepalive timeout: whatever it was, this client is
      // done; closing it makes `close` fire and the next attempt get scheduled.
      this.kill(client, err.message);
    });
    client.on('close', () => this.closed(gen, client));
  }

  /**
   * The clean CONNECT was accepted, so the broker dropped whatever session we had there:
   * DISCONNECT (no will fires), then connect again at once to a fresh persistent session.
   * A DISCONNECT that does not complete is an ordinary failed attempt.
   */
  private wiped(client: MqttClient, url: string): void {
    const gen = ++this.generation; // the `close` of this client is not a failure
    const guard = this.opts.timers.setTimeout(() => {
      if (gen !== this.generation) return;
      hardClose(client);
      this.client = undefined;
      this.lastError = 'no DISCONNECT completion after the session wipe';
      this.nextNode(false);
      this.scheduleRetry();
    }, this.cfg.connectTimeoutMs);
    this.guardTimer = guard;
    client.end(false, {}, () => {
      guard.cancel();
      if (gen !== this.generation) return;
      hardClose(client);
      this.client = undefined;
      this.sessionUrl = url;
      this.sessionIdleSinceMono = this.opts.clock.monotonic();
      this.attempt(true);
    });
  }

  private kill(client: MqttClient, reason: string): void {
    this.opts.log.debug({ reason }, 'uplink closing the connection');
    hardClose(client);
  }

  private closed(gen: number, client: MqttClient): void {
    if (gen !== this.generation) return;
    this.guardTimer?.cancel();
    this.guardTimer = undefined;
    // A dead client is ended and forgotten; its late events fail the generation check.
    hardClose(client);
    this.client = undefined;
    const link = this.link;
    this.link = undefined;
    this.connectedSince = null;
    if (link) {
      this.sessionIdleSinceMono = this.opts.clock.monotonic();
      // A connection that lived at least as long as the longest backoff was healthy: start
      // the backoff again from the bottom. A flapping broker keeps climbing the ladder.
      if (this.opts.clock.monotonic() - this.connectedAtMono >= this.cfg.backoff.maxMs) this.backoff.reset();
      this.opts.hooks.disconnected(link, this.lastError ?? 'connection closed');
    }
    this.nextNode(link !== undefined);
    this.scheduleRetry();
  }

  /**
   * A link that was up and dropped is retried on the same node first (a broker restart, our
   * own watchdog: the session is there); a failed attempt moves on to the next node.
   */
  private nextNode(linkDropped: boolean): void {
    if (this.urls.length < 2 || linkDropped) return;
    this.node = (this.node + 1) % this.urls.length;
    this.opts.log.debug({ url: redactUrl(this.urls[this.node]!) }, 'uplink trying the next broker node');
  }

  private scheduleRetry(): void {
    if (!this.running || this.retryTimer) return;
    const delay = this.backoff.next();
    this.opts.log.debug({ delayMs: delay, attempt: this.backoff.attempts, lastError: this.lastError }, 'uplink reconnecting after backoff');
    this.retryTimer = this.opts.timers.setTimeout(() => this.attempt(), delay);
  }

  /** Drops the current connection (e.g. no PUBACK in time: half-open); the loop reconnects. */
  destroy(reason: string): void {
    this.lastError = reason;
    if (this.client) this.kill(this.client, reason);
  }

  /**
   * Stops reconnecting and ends the current client: DISCONNECT if still connected (so the
   * broker does not fire the last will), bounded by `waitMs`, then forcibly.
   */
  async close(waitMs: number): Promise<void> {
    this.running = false;
    this.retryTimer?.cancel();
    this.retryTimer = undefined;
    this.guardTimer?.cancel();
    const client = this.client;
    const link = this.link;
    if (!client) return;
    this.generation++; // from here on, events of this client are stale
    this.client = undefined;
    this.link = undefined;
    this.connectedSince = null;
    if (link) {
      await new Promise<void>((resolve) => {
        const t = this.opts.timers.setTimeout(() => {
          hardClose(client);
          resolve();
        }, waitMs);
        client.end(false, {}, () => {
          t.cancel();
          resolve();
        });
      });
      this.opts.hooks.disconnected(link, 'stopped');
    }
    hardClose(client);
  }
}

/**
 * Ends a client now. `end(true)` is a no-op on a client already ending gracefully (a
 * DISCONNECT waiting behind unacknowledged publishes on a dead link), so the stream is
 * destroyed as well; MQTT.js's own `close` handling then clears its timers.
 */
function hardClose(client: MqttClient): void {
  client.end(true);
  client.stream?.destroy();
}
