/**
 * The uplink to the district platform's MQTT broker (CONTRACT.md, topics version 1).
 *
 * - `status` retained: online on every connect, the last will says offline if we vanish,
 *   and a clean stop says offline explicitly (a clean DISCONNECT suppresses the will).
 * - `state/{device}` retained, all of them again after every connect (StatePublisher).
 * - `evt/{class}` and command answers drained from the outbox, QoS 1, deleted on PUBACK
 *   (Drain), with a bounded in-flight window.
 * - `cmd/+` subscribed at QoS 1 and handed to `onCommand`.
 * - Reconnection is ours (ConnectionLoop): backoff with full jitter, a fresh client each
 *   time, so the only re-sends come from the outbox, in order; a persistent broker session
 *   resumed after short gaps (commands survive our reconnects), failover between the nodes
 *   of `uplink.urls`.
 * - Half-open links: MQTT keepalive catches an idle one; an ack watchdog catches one that
 *   still accepts our bytes but never acknowledges them and says nothing else either.
 */
import { EventEmitter } from 'node:events';
import type { IPublishPacket } from 'mqtt';
import type { Secrets } from '../../config/load.js';
import type { UplinkConfig } from '../../config/schema.js';
import { realTimers, type Clock, type TimerHandle, type Timers } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import { cmdSubscription, parseCmdTopic, statusTopic } from '../core/topics.js';
import { VERSION } from '../version.js';
import { ConnectionLoop, redactUrl, type Link } from './connection.js';
import { Drain } from './drain.js';
import { StatePublisher } from './states.js';

export interface UplinkOptions {
  config: UplinkConfig;
  secrets: Secrets;
  outbox: Outbox;
  clock: Clock;
  log: Logger;
  /** `gatehouse/v1/{compound}/{gateway}` (topicRoot in gateway/topics.ts). */
  topicRoot: string;
  /** A command arrived on `cmd/{name}`; answers go through outbox.recordReply. */
  onCommand(name: string, payload: Buffer): void;
  /** Injected for tests; default real (unref'd) timers. */
  timers?: Timers;
  /** Injected for tests; default Math.random (backoff jitter). */
  random?: () => number;
  /** Reported in `status`; default the package version. */
  version?: string;
  /** stop(): how long to wait for what was recorded before stop() to be acknowledged. Default 2000. */
  stopWaitMs?: number;
  /** Rows read from the outbox at once. Default min(1000, max(100, inflightWindow)). */
  batchSize?: number;
}

export interface UplinkStatus {
  connected: boolean;
  /** Wall-clock ms since when the current connection is up, null when down. */
  since: number | null;
  inflight: number;
  /** Wall-clock ms of the last PUBACK of an event or answer. */
  lastAckAt: number | null;
  /** Connections established after the first one. */
  reconnects: number;
  lastError: string | null;
  /** The broker node in use (or tried next), with any password masked. */
  url: string;
  attempts: number;
  acked: number;
}

interface UplinkEvents {
  connected: [];
  disconnected: [reason: string];
  /** A PUBACK of an event or answer, ms after its publish (for the metrics). */
  acked: [latencyMs: number];
}

export class Uplink extends EventEmitter<UplinkEvents> {
  private readonly cfg: UplinkConfig;
  private readonly root: string;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly version: string;
  private readonly loop: ConnectionLoop;
  private readonly drain: Drain;
  private readonly states: StatePublisher;
  private link: Link | undefined;
  private watchdog: TimerHandle | undefined;
  /** The link the watchdog found overdue and silent on its last round. */
  private suspect: Link | undefined;
  private started = false;
  private stopping: Promise<void> | undefined;
  private readonly detachOutbox: () => void;

  constructor(private readonly opts: UplinkOptions) {
    super();
    this.cfg = opts.config;
    this.root = opts.topicRoot;
    this.log = opts.log;
    this.clock = opts.clock;
    this.timers = opts.timers ?? realTimers;
    this.version = opts.version ?? VERSION;
    const [, , compound, gateway] = this.root.split('/');
    this.loop = new ConnectionLoop({
      config: this.cfg,
      secrets: opts.secrets,
      clientId: this.cfg.clientId ?? `gatehouse-${compound}-${gateway}`,
      will: () => ({ topic: statusTopic(this.root), payload: this.statusPayload('offline') }),
      clock: this.clock,
      timers: this.timers,
      random: opts.random ?? Math.random,
      log: this.log,
      hooks: {
        connected: (link) => this.onConnected(link),
        disconnected: (link, reason) => this.onDisconnected(link, reason),
        message: (topic, payload, packet) => this.onMessage(topic, payload, packet),
      },
    });
    this.drain = new Drain({
      outbox: opts.outbox,
      root: this.root,
      window: this.cfg.inflightWindow,
      batchSize: opts.batchSize ?? Math.min(1000, Math.max(100, this.cfg.inflightWindow)),
      clock: this.clock,
      timers: this.timers,
      log: this.log,
      onAck: (ms) => this.emit('acked', ms),
      onPublishRefused: (err) => {
        this.log.error({ err: err.message }, 'broker refused a publish; reconnecting to retry it');
        this.loop.destroy(`publish refused: ${err.message}`);
      },
    });
    this.states = new StatePublisher(opts.outbox, this.root, this.log);
    const onRecorded = () => this.drain.recorded();
    const onReply = () => this.drain.replied();
    const onState = (device: string, body: string) => this.states.update(device, body);
    this.detachOutbox = () => {
      opts.outbox.off('recorded', onRecorded);
      opts.outbox.off('reply', onReply);
      opts.outbox.off('state', onState);
    };
    opts.outbox.on('recorded', onRecorded);
    opts.outbox.on('reply', onReply);
    opts.outbox.on('state', onState);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.log.info({ urls: this.loop.urls.map(redactUrl), window: this.cfg.inflightWindow }, 'uplink connecting');
    this.loop.start();
    const every = Math.max(50, Math.min(1000, Math.floor(this.cfg.ackTimeoutMs / 4)));
    this.watchdog = this.timers.setInterval(() => this.checkAcks(), every);
  }

  private statusPayload(state: 'online' | 'offline'): string {
    return JSON.stringify({ state, ts: new Date(this.clock.now()).toISOString(), version: this.version });
  }

  private onConnected(link: Link): void {
    this.link = link;
    const reconnect = this.loop.connections > 1;
    this.log.info(
      { url: redactUrl(link.url), reconnects: this.loop.connections - 1, sessionPresent: link.sessionPresent },
      reconnect ? 'uplink reconnected' : 'uplink connected',
    );
    link.publish(statusTopic(this.root), this.statusPayload('online'), true, (err) => {
      if (err && link === this.link) this.log.warn({ err: err.message }, 'uplink could not publish its online status');
    });
    link.subscribe(cmdSubscription(this.root), (err) => {
      // Events matter more than commands: keep the connection and say so loudly.
      if (err && link === this.link) this.log.error({ err: err.message }, 'uplink could not subscribe to commands');
    });
    this.states.attach(link);
    if (!this.stopping) this.drain.attach(link);
    this.emit('connected');
  }

  private onDisconnected(link: Link, reason: string): void {
    if (link !== this.link) return;
    this.link = undefined;
    this.drain.detach();
    this.states.detach();
    if (!this.stopping) this.log.warn({ reason }, 'uplink disconnected; reconnecting with backoff');
    this.emit('disconnected', reason);
  }

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const name = parseCmdTopic(this.root, topic);
    if (name === undefined) {
      this.log.warn({ topic: topic.slice(0, 200), bytes: payload.length }, 'uplink ignored a message on an unacceptable command topic');
      return;
    }
    if (packet.retain) {
      // A retained command would run again on every reconnect: a command is an act at a
      // point in time, never a standing state.
      this.log.warn({ command: name }, 'uplink ignored a retained command');
      return;
    }
    try {
      this.opts.onCommand(name, payload);
    } catch (err) {
      this.log.error({ command: name, err: (err as Error).message }, 'command handler threw');
    }
  }

  /**
   * Half-open detection for a link that takes our bytes but never acknowledges them. A
   * link is dropped only when a PUBACK is overdue and the broker has said nothing at all
   * for as long, on two rounds in a row: after an event loop that stood still, this timer
   * runs before the socket is read, and the PUBACKs waiting there must get their chance
   * (dropping a live link loses time, and with it any command the broker was sending).
   */
  private checkAcks(): void {
    const link = this.link;
    if (!link) return;
    const age = this.drain.oldestInflightAgeMs();
    const silentMs = this.clock.monotonic() - link.lastHeardMono;
    if (age <= this.cfg.ackTimeoutMs || silentMs <= this.cfg.ackTimeoutMs) {
      this.suspect = undefined;
      return;
    }
    if (this.suspect !== link) {
      this.suspect = link;
      return;
    }
    this.suspect = undefined;
    this.log.warn(
      { ageMs: Math.round(age), silentMs: Math.round(silentMs), inflight: this.drain.inflight },
      'uplink got no PUBACK in time; dropping the half-open connection',
    );
    this.loop.destroy(`no PUBACK for ${Math.round(age)} ms`);
  }

  /**
   * Publishes one QoS 1 message outside the outbox, for payloads with their own durable
   * queue (media JPEGs, gateway/cameras/media-publisher.ts). Resolves on PUBACK; rejects
   * when not connected, while stopping, or when the connection dies first (the caller
   * keeps the item queued and retries on the next `connected`).
   */
  publishRaw(topic: string, payload: Buffer): Promise<void> {
    const link = this.link;
    if (!link || this.stopping) return Promise.reject(new Error('uplink not connected'));
    return new Promise((resolve, reject) => link.publish(topic, payload, false, (err) => (err ? reject(err) : resolve())));
  }

  /**
   * For the systemd watchdog: false when connected with rows waiting and no PUBACK for
   * ackTimeoutMs, or when the reconnect loop is not running at all. An outage alone is
   * healthy: the loop keeps trying, and a restart would not bring the broker back.
   */
  healthy(): boolean {
    if (!this.started || this.stopping) return true;
    if (!this.loop.alive()) return false;
    if (!this.link || !this.drain.waiting()) return true;
    const since = Math.max(this.drain.lastProgressMono, this.loop.connectedAtMonotonic);
    return this.clock.monotonic() - since <= this.cfg.ackTimeoutMs;
  }

  status(): UplinkStatus {
    return {
      connected: this.link !== undefined,
      since: this.loop.connectedSince,
      inflight: this.drain.inflight,
      lastAckAt: this.drain.lastAckAt,
      reconnects: Math.max(0, this.loop.connections - 1),
      lastError: this.loop.lastError,
      url: redactUrl(this.loop.url),
      attempts: this.loop.attempts,
      acked: this.drain.acked,
    };
  }

  /**
   * Clean stop: deliver what was recorded before the call (bounded by stopWaitMs), publish
   * nothing newer, a retained offline status, then DISCONNECT. Rows still unacknowledged
   * stay in the outbox for next time.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.watchdog?.cancel();
    const waitMs = this.opts.stopWaitMs ?? 2000;
    if (this.link) {
      // What was recorded before stop() (the gateway's own `gateway.stopping` included) goes
      // out if the broker takes it within the wait; anything later waits for the next start.
      let lastSeq: number;
      try {
        lastSeq = this.opts.outbox.stats().nextSeq - 1;
      } catch {
        lastSeq = 0; // the outbox is already closed: nothing more can be read
      }
      this.drain.finish(lastSeq);
      const settled = await this.drain.whenSettled(waitMs);
      if (!settled || !this.link)
        this.log.warn(
          { inflight: this.drain.inflight },
          'uplink stopping before everything was acknowledged; the rest stays in the outbox',
        );
    }
    this.detachOutbox();
    this.drain.pause();
    const link = this.link;
    if (link) {
      await new Promise<void>((resolve) => {
        const t = this.timers.setTimeout(resolve, Math.min(1000, waitMs));
        link.publish(statusTopic(this.root), this.statusPayload('offline'), true, () => {
          t.cancel();
          resolve();
        });
      });
    }
    await this.loop.close(Math.min(1000, waitMs));
    this.drain.detach();
    this.states.detach();
    this.link = undefined;
    this.log.info('uplink stopped');
  }
}
