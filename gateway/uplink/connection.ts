/**
 * The connection loop of the uplink: one fresh MQTT.js client per connection, and our own
 * reconnection with exponential backoff and full jitter.
 *
 * Why not MQTT.js's own reconnect: on reconnect it replays its in-memory outgoing store
 * and then whatever we publish next, and with a window of publishes in flight that can
 * interleave old and new messages of one class. With `reconnectPeriod: 0`, a clean session
 * and a new client each time, the only source of re-sends is the outbox, read again from
 * the oldest unacknowledged row, so per-class order survives any number of reconnects.
 *
 * Every way a connection can die (refused, DNS, TLS, connack timeout, keepalive timeout,
 * reset, our own ack watchdog) ends in the client's `close`, and every `close` schedules
 * the next attempt: there is no state in which the loop waits for someone else.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Secrets } from '../../config/load.js';
import type { UplinkConfig } from '../../config/schema.js';
import type { Clock, TimerHandle, Timers } from '../core/clock.js';
import { GatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';

/** Publishes one QoS 1 message; `cb` runs on PUBACK, or with an error if it never will on this connection. */
export type PublishFn = (topic: string, body: string | Buffer, retain: boolean, cb: (err?: Error) => void) => void;

/** One established connection. Stale links (a previous connection) are told apart by identity. */
export interface Link {
  readonly generation: number;
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

function readPem(what: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new GatehouseError(
      'CONFIG_UNREADABLE',
      `uplink.${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/**
 * MQTT.js options for one attempt. PEM files are read on every attempt, so a renewed
 * certificate or a CA that was missing at boot is picked up without a restart.
 */
export function buildClientOptions(
  cfg: UplinkConfig,
  password: string | undefined,
  clientId: string,
  will: { topic: string; payload: string },
): IClientOptions {
  const opts: IClientOptions = {
    clientId,
    clean: true,
    // No cache of the 65,536 packet-id Buffers in mqtt-packet (~6.5 MB of heap): see EmbeddedBroker.start.
    writeCache: false,
    reconnectPeriod: 0,
    resubscribe: false,
    queueQoSZero: false,
    connectTimeout: cfg.connectTimeoutMs,
    keepalive: cfg.keepaliveSeconds,
    protocolVersion: cfg.protocolVersion,
    rejectUnauthorized: cfg.rejectUnauthorized,
    will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
  };
  if (cfg.username !== undefined) opts.username = cfg.username;
  if (password !== undefined) opts.password = password;
  if (cfg.caFile) opts.ca = readPem('caFile', cfg.caFile);
  if (cfg.certFile) opts.cert = readPem('certFile', cfg.certFile);
  if (cfg.keyFile) opts.key = readPem('keyFile', cfg.keyFile);
  return opts;
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

export class ConnectionLoop {
  private readonly cfg: UplinkConfig;
  private readonly backoff: Backoff;
  private readonly password: string | undefined;
  private client: MqttClient | undefined;
  private link: Link | undefined;
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

  /** True while the loop is doing something: connected, connecting, or waiting to retry. */
  alive(): boolean {
    return !this.running || this.client !== undefined || this.retryTimer !== undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt();
  }

  private attempt(): void {
    this.retryTimer = undefined;
    if (!this.running) return;
    const gen = ++this.generation;
    this.attempts++;
    let client: MqttClient;
    try {
      client = mqtt.connect(this.cfg.url, buildClientOptions(this.cfg, this.password, this.opts.clientId, this.opts.will()));
    } catch (err) {
      this.lastError = (err as Error).message;
      this.opts.log.error({ err: this.lastError }, 'uplink cannot start a connection attempt');
      return this.scheduleRetry();
    }
    this.client = client;
    // MQTT.js's connack timer starts with the stream; this guard also covers a stream that
    // never gets that far (a DNS lookup that hangs), so an attempt always ends.
    this.guardTimer = this.opts.timers.setTimeout(() => {
      if (gen === this.generation && !this.link) this.kill(client, 'connect timeout');
    }, this.cfg.connectTimeoutMs + 2000);

    client.on('connect', () => {
      if (gen !== this.generation || this.link) return;
      this.guardTimer?.cancel();
      this.connections++;
      this.connectedAtMono = this.opts.clock.monotonic();
      this.connectedSince = this.opts.clock.now();
      const link: Link = {
        generation: gen,
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
      // A connection that lived at least as long as the longest backoff was healthy: start
      // the backoff again from the bottom. A flapping broker keeps climbing the ladder.
      if (this.opts.clock.monotonic() - this.connectedAtMono >= this.cfg.backoff.maxMs) this.backoff.reset();
      this.opts.hooks.disconnected(link, this.lastError ?? 'connection closed');
    }
    this.scheduleRetry();
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
