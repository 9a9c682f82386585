/**
 * The district platform as end-to-end tests see it: one MQTT client on the real Mosquitto
 * the gateway forwards to, subscribed to the gateway's whole topic tree. It keeps every
 * message in arrival order, finds events by class, type and device, keeps the last
 * retained state per device, and sends commands and waits for their `cmd/{name}/res`.
 * Every wait is a bounded poll (tests/helpers/wait.ts) that says what never happened.
 *
 * Written once: eight test files each had their own copy of this.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { validateMessage } from './asyncapi.js';
import { waitFor } from './wait.js';

export interface PlatformMessage {
  topic: string;
  /** The topic below the gateway's root: `evt/alarm`, `state/gate-in`, `cmd/lock.open/res`. */
  sub: string;
  payload: Buffer;
  raw: string;
  /** The parsed JSON body; undefined for an empty payload (a cleared retained state) or binary (media). */
  body: Body | undefined;
}

/** A JSON body as the tests read it (an envelope, a state, a reply). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Body = Record<string, any>;

export interface EventFilter {
  class?: string;
  type?: string;
  device?: string;
  /** Any further test on the envelope. */
  where?: (e: Body) => unknown;
}

export interface PlatformOptions {
  clientId: string;
  /** false: a persistent session, so what the gateway sends while it reconnects is queued (default true). */
  clean?: boolean;
  /** 0: no reconnect (default 100 ms). */
  reconnectPeriod?: number;
  /** PEM for mqtts:// (a district broker with client certificates). */
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
}

export class Platform {
  readonly messages: PlatformMessage[] = [];

  private constructor(
    readonly client: MqttClient,
    readonly root: string,
  ) {
    client.on('message', (topic, payload) => this.messages.push(parse(root, topic, payload)));
  }

  /** Connects to `url` and subscribes to `{root}/#` at QoS 1 before resolving. */
  static async connect(url: string, root: string, opts: PlatformOptions): Promise<Platform> {
    const client = await mqtt.connectAsync(url, {
      clientId: opts.clientId,
      clean: opts.clean ?? true,
      reconnectPeriod: opts.reconnectPeriod ?? 100,
      ...opts.tls,
    });
    const p = new Platform(client, root);
    await client.subscribeAsync(`${root}/#`, { qos: 1 });
    return p;
  }

  /** Messages with a JSON body, in arrival order. */
  json(): (PlatformMessage & { body: Body })[] {
    return this.messages.filter((m): m is PlatformMessage & { body: Body } => m.body !== undefined);
  }

  /** Event envelopes (`evt/{class}`) matching the filter, in arrival order. */
  events(f: EventFilter = {}): Body[] {
    return this.json()
      .filter((m) => m.sub.startsWith('evt/') && (f.class === undefined || m.sub === `evt/${f.class}`))
      .map((m) => m.body)
      .filter(
        (e) =>
          (f.type === undefined || e.type === f.type) &&
          (f.device === undefined || e.source?.device === f.device) &&
          (!f.where || f.where(e)),
      );
  }

  /** Waits for the first event matching the filter. */
  waitEvent(f: EventFilter, what?: string, timeoutMs = 10_000): Promise<Body> {
    return waitFor(() => this.events(f)[0], what ?? `an event ${JSON.stringify({ ...f, where: f.where ? '(fn)' : undefined })}`, timeoutMs);
  }

  /** The last retained state of a device, as published (undefined before any, or after a clear). */
  state(device: string): Body | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const m = this.messages[i]!;
      if (m.sub === `state/${device}`) return m.body;
    }
    return undefined;
  }

  /** Whether any state of the device so far satisfied `test` (not only the last one). */
  everState(device: string, test: (s: Body) => unknown): boolean {
    return this.json().some((m) => m.sub === `state/${device}` && test(m.body));
  }

  /** Waits until some published state of the device satisfies `test`. */
  waitState(device: string, test: (s: Body) => unknown, what?: string, timeoutMs = 10_000): Promise<true> {
    return waitFor(() => this.everState(device, test) || undefined, what ?? `a state of ${device}`, timeoutMs);
  }

  /** Publishes a raw command payload to `cmd/{name}` (QoS 1). */
  async send(name: string, body: string | Buffer): Promise<void> {
    await this.client.publishAsync(`${this.root}/cmd/${name}`, body, { qos: 1 });
  }

  /** Replies (`cmd/{name}/res` bodies), in arrival order; from message index `since` on. */
  replies(since = 0): Body[] {
    return this.messages
      .slice(since)
      .filter((m) => /^cmd\/[^/]+\/res$/.test(m.sub) && m.body !== undefined)
      .map((m) => m.body!);
  }

  /** Waits for the reply carrying `id` that arrives after message index `since`. */
  answer(id: string, timeoutMs = 10_000, since = 0): Promise<Body> {
    return waitFor(() => this.replies(since).find((r) => r.id === id), `answer to command ${id}`, timeoutMs);
  }

  /**
   * Sends `{ id, args }` (a fresh id unless given) to `cmd/{name}` and resolves with its reply.
   * Only a reply that arrives after the send counts, so the same id sent twice (a replay) gets its own.
   */
  async command(
    name: string,
    args: Record<string, unknown>,
    opts: { id?: string; timeoutMs?: number; extra?: Record<string, unknown> } = {},
  ): Promise<Body> {
    const id = opts.id ?? `c-${randomBytes(6).toString('hex')}`;
    const since = this.messages.length;
    await this.send(name, JSON.stringify({ id, args, ...opts.extra }));
    const detail = () => ({
      connected: this.client.connected,
      since: this.messages
        .slice(since)
        .map((m) => m.sub)
        .slice(-20),
    });
    return waitFor(() => this.replies(since).find((r) => r.id === id), `answer to ${name} (${id})`, opts.timeoutMs ?? 10_000, detail);
  }

  /**
   * Messages the gateway published (not the platform's own `cmd/{name}`) that docs/asyncapi.yaml
   * does not describe, as `topic: errors`. `nonEmpty`: leave out empty payloads (cleared retained state).
   */
  invalid(opts: { nonEmpty?: boolean; only?: (m: PlatformMessage) => boolean } = {}): string[] {
    return this.messages
      .filter((m) => !/^cmd\/[^/]+$/.test(m.sub) && (!opts.nonEmpty || m.raw !== '') && (!opts.only || opts.only(m)))
      .map((m) => ({ m, r: validateMessage(m.topic, m.payload) }))
      .filter((x) => !x.r.ok)
      .map((x) => `${x.m.topic}: ${x.r.errors.join('; ')}`);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

function parse(root: string, topic: string, payload: Buffer): PlatformMessage {
  const bytes = Buffer.from(payload);
  const raw = bytes.toString();
  const sub = topic.startsWith(`${root}/`) ? topic.slice(root.length + 1) : topic;
  let body: Body | undefined;
  if (raw && !sub.startsWith('media/')) {
    try {
      body = JSON.parse(raw) as Body;
    } catch {
      body = undefined;
    }
  }
  return { topic, sub, payload: bytes, raw, body };
}
