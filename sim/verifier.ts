/**
 * The platform-side verifier: what a district platform would check about one gateway's
 * stream, so tests, the demo and the benchmarks can prove the guarantees of CONTRACT.md
 * instead of assuming them.
 *
 * EventChecker (pure, no I/O) takes every `evt/{class}` message and checks:
 * - the envelope (v=1, ULID id, integer seq >= 1, ISO ts, clock synced|unsynced, type,
 *   source.device, data object) and that the topic class is one of the five;
 * - at-least-once without lies: a seq or id seen again must carry the same bytes and class
 *   (duplicates are counted, not failed);
 * - per-class order: a first-seen seq lower than the highest already seen for its class is
 *   a violation (lower seqs may only be re-sends);
 * - completeness: every seq in fromSeq..max is either received or inside an `outbox.evicted`
 *   report of a `system` event, and the reports' counts add up exactly to the missing seqs
 *   (no event reported evicted was also delivered; the reports themselves are never
 *   evicted, so one inside a `system` range is not a contradiction).
 *
 * Verifier wraps it in an MQTT.js subscriber of `{root}/#` that also keeps the retained
 * `status`, the `state/{device}` bodies and the command answers it sees.
 *
 * Memory: a few bytes per seq (typed arrays), plus an id map unless `trackIds: false`.
 */
import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { allTopics, parseTopic } from '../gateway/core/topics.js';
import type { Envelope } from '../gateway/core/events.js';
import { EventChecker, isObject, KEEP, type VerifierReport } from './event-checker.js';

export { EventChecker, envelopeProblem, type EvictionNotice, type SeqRange, type VerifierReport } from './event-checker.js';

export interface VerifierOptions {
  url: string;
  /** `gatehouse/v1/{compound}/{gateway}`: topicRoot() of gateway/topics.ts. */
  root: string;
  username?: string;
  password?: string;
  clientId?: string;
  /**
   * Persistent session (clean: false, QoS 1): the broker queues what arrives while the
   * verifier is disconnected, as a platform consumer would. Default true.
   */
  persistentSession?: boolean;
  /** TLS, as MQTT.js takes it. */
  tls?: Pick<IClientOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized'>;
  /** First seq expected (a verifier that joins late). Default 1. */
  fromSeq?: number;
  /** Remember every id to catch an id re-used for another seq. Default true. */
  trackIds?: boolean;
}

export interface StatusMessage {
  state: string;
  ts?: string;
  version?: string;
  retained: boolean;
  raw: string;
}

interface VerifierEvents {
  event: [Envelope, string];
  status: [StatusMessage];
  state: [string, unknown];
  reply: [string, unknown];
}

export class Verifier extends EventEmitter<VerifierEvents> {
  readonly checker: EventChecker;
  readonly statuses: StatusMessage[] = [];
  readonly states = new Map<string, unknown>();
  readonly replies: { name: string; body: unknown }[] = [];
  readonly unexpected: string[] = [];

  private constructor(
    private readonly client: MqttClient,
    readonly root: string,
    opts: VerifierOptions,
  ) {
    super();
    this.checker = new EventChecker({ fromSeq: opts.fromSeq, trackIds: opts.trackIds });
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet.retain));
  }

  /** Connects and subscribes; resolves once the subscription is granted. */
  static async connect(opts: VerifierOptions): Promise<Verifier> {
    const persistent = opts.persistentSession ?? true;
    const client = await mqtt.connectAsync(opts.url, {
      clientId: opts.clientId ?? `gatehouse-verifier-${Math.random().toString(36).slice(2, 10)}`,
      clean: !persistent,
      reconnectPeriod: 200,
      connectTimeout: 5000,
      username: opts.username,
      password: opts.password,
      ...opts.tls,
    });
    const v = new Verifier(client, opts.root, opts);
    const granted = await client.subscribeAsync(allTopics(opts.root), { qos: 1 });
    if (granted.some((g) => g.qos === 128)) throw new Error(`verifier: subscription to ${allTopics(opts.root)} refused`);
    return v;
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** The latest status message, retained or live. */
  lastStatus(): StatusMessage | undefined {
    return this.statuses[this.statuses.length - 1];
  }

  has(seq: number): boolean {
    return this.checker.has(seq);
  }

  get unique(): number {
    return this.checker.unique;
  }

  report(): VerifierReport {
    return this.checker.report();
  }

  private onMessage(topic: string, payload: Buffer, retained: boolean): void {
    const t = parseTopic(this.root, topic);
    if (!t) return;
    if (t.kind === 'evt') {
      const e = this.checker.addEvent(t.cls, payload, topic);
      if (e) this.emit('event', e, t.cls);
      return;
    }
    const raw = payload.toString('utf8');
    let body: unknown;
    try {
      body = raw.length ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    if (t.kind === 'status') {
      const b = isObject(body) ? body : {};
      const s: StatusMessage = { state: String(b.state), retained, raw };
      if (typeof b.ts === 'string') s.ts = b.ts;
      if (typeof b.version === 'string') s.version = b.version;
      this.statuses.push(s);
      if (this.statuses.length > 1000) this.statuses.splice(0, 500);
      this.emit('status', s);
    } else if (t.kind === 'state') {
      // An empty retained message clears the topic: the device has no state any more.
      if (body === undefined) this.states.delete(t.device);
      else this.states.set(t.device, body);
      this.emit('state', t.device, body);
    } else if (t.kind === 'cmd-res') {
      this.replies.push({ name: t.name, body });
      if (this.replies.length > 10_000) this.replies.splice(0, 5000);
      this.emit('reply', t.name, body);
    } else if (t.kind === 'other') {
      if (this.unexpected.length < KEEP) this.unexpected.push(topic);
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
