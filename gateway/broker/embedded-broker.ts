/**
 * The embedded MQTT broker (aedes over node:net) that the compound's LAN devices connect
 * to, and the fallback target of the uplink when no platform is configured.
 *
 * - No anonymous access: every client logs in with a device, operator or internal account
 *   (accounts.ts); topic ACL per role (acl.ts). A refused publish is acknowledged and
 *   dropped (and logged), a refused subscription gets a SUBACK failure.
 * - Devices and operators get clean sessions only. A session kept for an offline lock
 *   would hold a remote "open" and deliver it hours later, and offline queues would grow
 *   without bound in memory; the outbox, not this broker, is what keeps events.
 * - Limits: frame size (checked on the wire before buffering, frame-guard.ts), payload
 *   size, topic depth, QoS 1 messages awaiting PUBACK per client, connections, keepalive.
 * - In-process publish/subscribe for the gateway's own drivers: no network hop, same
 *   wildcard matching as MQTT clients get.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type Client, type AedesPublishPacket, type AuthenticateError, type Subscription } from 'aedes';
import type { Secrets } from '../../config/load.js';
import { BrokerConfig as BrokerConfigSchema, type BrokerConfig } from '../../config/schema.js';
import { GatehouseError } from '../errors.js';
import type { Logger } from '../log.js';
import { authorizePublish, authorizeSubscribe, authorizeWill, topicDepth, type Account, type Limits } from './acl.js';
import { AccountTable, type DeviceAccountSpec, type InternalAccountSpec } from './accounts.js';
import { FrameGuard } from './frame-guard.js';
import { RefusalLog } from './refusals.js';
import { topicMatches } from '../../drivers/smartlock/memory-transport.js';

export interface EmbeddedBrokerOptions {
  config: Partial<BrokerConfig>;
  secrets: Secrets;
  devices: readonly DeviceAccountSpec[];
  internalAccounts?: readonly InternalAccountSpec[];
  topicRoot: string;
  log: Logger;
}

export type MessageHandler = (topic: string, payload: Buffer) => void;
/**
 * Takes a device's publish before it is acknowledged: the PUBACK goes out only when the
 * returned promise resolves (the gateway committed what the message reports). A rejection
 * closes the connection without PUBACK, so the device sends the message again.
 */
export type PublishGate = (clientId: string, topic: string, payload: Buffer) => Promise<void>;

export interface PublishOptions {
  qos?: 0 | 1 | 2;
  retain?: boolean;
}

interface ClientInfo {
  account: Account;
}

/** Room for the topic, packet id and properties around a payload of the maximum size. */
const FRAME_OVERHEAD_BYTES = 8 * 1024;
const AEDES_REFUSALS = /too many levels|is not allowed|empty topic|maxInflightInbound|Invalid subscription|invalid topic/i;
/** Where refused publishes are acknowledged into; nobody can subscribe under `$`. */
const QUARANTINE_PREFIX = '$gatehouse/refused/';
/** A device must send something (a PINGREQ at least) this often, or its last will fires. */
const KEEPALIVE_LIMIT_S = 300;

const authError = (message: string, returnCode: number): AuthenticateError => Object.assign(new Error(message), { returnCode }) as AuthenticateError;

export class EmbeddedBroker extends EventEmitter<{ clientOnline: [string]; clientOffline: [string] }> {
  readonly config: BrokerConfig;
  private readonly accounts: AccountTable;
  private readonly log: Logger;
  private readonly refusals: RefusalLog;
  private readonly limits: Limits;
  private aedes: Aedes | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly clients = new Map<Client, ClientInfo>();
  private readonly online = new Map<string, Client>();
  private readonly subs = new Set<{ pattern: string; deliver: (p: AedesPublishPacket, cb: () => void) => void }>();
  private readonly gates = new Set<{ pattern: string; handler: PublishGate }>();
  private boundPort = 0;
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: EmbeddedBrokerOptions) {
    super();
    this.config = BrokerConfigSchema.parse(opts.config ?? {});
    this.log = opts.log;
    this.refusals = new RefusalLog(opts.log);
    // The gateway's own topics (`{root}/cmd/{name}/res`) and the local device scheme
    // (`lan/v1/lock/{id}/cmd/res`) must fit, or the gateway would refuse itself.
    const needed = Math.max(topicDepth(opts.topicRoot) + 3, 6);
    if (this.config.maxTopicDepth < needed) {
      this.log.warn({ configured: this.config.maxTopicDepth, used: needed }, 'broker.maxTopicDepth is too small for the gateway topics; raised');
      this.config.maxTopicDepth = needed;
    }
    this.limits = { maxPayloadBytes: this.config.maxPayloadBytes, maxTopicDepth: this.config.maxTopicDepth };
    this.accounts = new AccountTable({ secrets: opts.secrets, devices: opts.devices, internal: opts.internalAccounts ?? [], operators: this.config.operators });
    for (const id of this.accounts.devicesWithoutSecret) {
      this.log.warn({ device: id }, 'device has no password in the secrets file; the embedded broker will refuse it');
    }
  }

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<{ port: number; host: string }> {
    if (this.server) return { port: this.boundPort, host: this.config.host };
    const aedes = await Aedes.createBroker({
      connectTimeout: 10_000,
      drainTimeout: 10_000,
      keepaliveLimit: KEEPALIVE_LIMIT_S,
      maxTopicLevels: this.config.maxTopicDepth,
      preConnect: (client, packet, cb) => this.preConnect(client, packet, cb),
      authenticate: (client, username, password, cb) => this.authenticate(client, username, password, cb),
      authorizePublish: (client, packet, cb) => this.authorizePublish(client, packet, cb),
      authorizeSubscribe: (client, sub, cb) => this.authorizeSubscribe(client, sub, cb),
    });
    this.aedes = aedes;
    aedes.on('clientReady', (client) => this.onReady(client));
    aedes.on('clientDisconnect', (client) => this.onGone(client));
    aedes.on('clientError', (client, err) => {
      // aedes checks topic syntax and depth itself and closes the connection: still a refusal to report.
      if (AEDES_REFUSALS.test(err.message)) this.refusals.refuse({ kind: 'publish', username: this.clients.get(client)?.account.username, clientId: client.id, reason: err.message });
      else this.log.debug({ clientId: client.id, err: err.message }, 'client error');
    });
    aedes.on('connectionError', (_client, err) => this.log.debug({ err: err.message }, 'connection error'));

    const server = createServer((socket) => this.accept(socket));
    // A hard ceiling on sockets, above the MQTT-level cap, for clients that never send CONNECT.
    server.maxConnections = this.config.maxConnections + 16;
    this.server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.config.port, this.config.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.server = undefined;
      await new Promise<void>((r) => aedes.close(() => r()));
      this.aedes = undefined;
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
      throw new GatehouseError('INTERNAL', `embedded broker cannot listen on ${this.config.host}:${this.config.port} (${code})`, { host: this.config.host, port: this.config.port }, { cause: err });
    }
    server.on('error', (err) => this.log.error({ err: err.message }, 'embedded broker server error'));
    const addr = server.address();
    this.boundPort = typeof addr === 'object' && addr ? addr.port : this.config.port;
    for (const s of this.subs) aedes.subscribe(s.pattern, s.deliver, () => undefined);
    this.log.info({ host: this.config.host, port: this.boundPort, accounts: this.accounts.size }, 'embedded broker listening');
    return { port: this.boundPort, host: this.config.host };
  }

  private accept(socket: Socket): void {
    if (!this.aedes) return void socket.destroy();
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined); // reported through the guard / aedes
    const guard = new FrameGuard(socket, { maxFrameBytes: this.config.maxPayloadBytes + FRAME_OVERHEAD_BYTES, maxUnacked: this.config.maxQueuedPerClient }, (v) => {
      const who = { clientId: client.id || undefined, username: this.clients.get(client)?.account.username, remote: socket.remoteAddress };
      if (v.kind === 'frame') this.refusals.refuse({ kind: 'frame', ...who, reason: `${v.packetType} frame of ${v.announcedBytes} bytes exceeds ${v.limit}` });
      else this.refusals.refuse({ kind: 'queue', ...who, reason: `more than ${v.limit} messages awaiting PUBACK; disconnected` });
    });
    const client = this.aedes.handle(guard);
  }

  private preConnect(_client: Client, packet: { username?: string; clean?: boolean }, cb: (err: Error | null, ok: boolean) => void): void {
    const role = this.accounts.role(packet.username);
    // See the file comment: no stored sessions for devices and operators.
    if (role !== 'gateway') packet.clean = true;
    cb(null, true);
  }

  private authenticate(client: Client, username: string | undefined, password: Buffer | undefined, cb: (err: AuthenticateError | null, ok: boolean | null) => void): void {
    const result = this.accounts.authenticate(username, password);
    if (!result.ok) {
      this.refusals.refuse({ kind: 'connect', username, clientId: client.id, reason: result.reason });
      return cb(authError('not authorized', result.reason === 'anonymous' ? 5 : 4), null);
    }
    const { account } = result;
    if (account.role !== 'gateway' && this.nonGatewayClients() >= this.config.maxConnections) {
      // Checked here rather than in preConnect so the client gets a CONNACK saying why.
      this.refusals.refuse({ kind: 'capacity', username, clientId: client.id, reason: `connection cap of ${this.config.maxConnections} reached` });
      return cb(authError('server unavailable', 3), null);
    }
    if (account.role === 'device' && client.id !== account.username) {
      // The client id is the device's identity on the broker (takeover, last will): bind it.
      this.refusals.refuse({ kind: 'connect', username, clientId: client.id, reason: 'device client id must equal its username' });
      return cb(authError('identifier rejected', 2), null);
    }
    if (account.role !== 'device' && this.accounts.role(client.id) === 'device') {
      // Taking a lock's client id would kick the lock off (session takeover) and speak for it.
      this.refusals.refuse({ kind: 'connect', username, clientId: client.id, reason: 'client id belongs to a device' });
      return cb(authError('identifier rejected', 2), null);
    }
    const holder = this.online.get(client.id);
    if (account.role !== 'gateway' && holder && this.clients.get(holder)?.account.role === 'gateway') {
      this.refusals.refuse({ kind: 'connect', username, clientId: client.id, reason: "client id is the gateway's own" });
      return cb(authError('identifier rejected', 2), null);
    }
    const will = (client as unknown as { _will?: { topic: string; payload: Buffer | string; retain?: boolean } })._will;
    const willCheck = authorizeWill(account, will ? { topic: will.topic, payloadBytes: Buffer.byteLength(will.payload ?? ''), retain: will.retain === true } : undefined, this.opts.topicRoot, this.limits);
    if (!willCheck.ok) {
      this.refusals.refuse({ kind: 'connect', username, clientId: client.id, topic: will?.topic, reason: `last will refused: ${willCheck.reason}` });
      return cb(authError('not authorized', 5), null);
    }
    this.clients.set(client, { account });
    cb(null, true);
  }

  private nonGatewayClients(): number {
    let n = 0;
    for (const c of this.clients.values()) if (c.account.role !== 'gateway') n++;
    return n;
  }

  private authorizePublish(client: Client | null, packet: { topic: string; payload: Buffer | string; retain: boolean }, cb: (err?: Error | null) => void): void {
    if (!client) return cb(null); // a last will of a client already gone; checked at connect
    const info = this.clients.get(client);
    if (!info) return cb(new Error('not authenticated')); // cannot happen after CONNACK; close if it does
    const d = authorizePublish(info.account, { topic: packet.topic, payloadBytes: Buffer.byteLength(packet.payload), retain: packet.retain }, this.opts.topicRoot, this.limits);
    if (d.ok) return info.account.role === 'device' ? this.passGate(client, packet, cb) : cb(null);
    this.refusals.refuse({ kind: 'publish', username: info.account.username, clientId: client.id, topic: packet.topic, reason: d.reason });
    // MQTT 3.1.1 has no negative PUBACK: the server must either acknowledge and drop, or
    // close the connection (MQTT-3.3.5-2). Closing would make a client resend the same
    // unacknowledged QoS 1 message after every reconnect, forever, and flood the outbox
    // with online/offline events; so the message is acknowledged and sent nowhere. No
    // client may subscribe to `$` topics (acl.ts), so the quarantine topic has no reader.
    packet.topic = `${QUARANTINE_PREFIX}${client.id}`;
    packet.retain = false;
    cb(null);
  }

  /** Runs the gate of a device publish, if one matches; aedes writes the PUBACK when `cb(null)` is called. */
  private passGate(client: Client, packet: { topic: string; payload: Buffer | string }, cb: (err?: Error | null) => void): void {
    let gate: PublishGate | undefined;
    for (const g of this.gates) if (topicMatches(g.pattern, packet.topic)) gate = g.handler;
    if (!gate) return cb(null);
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    let pending: Promise<void>;
    try {
      pending = gate(client.id, packet.topic, payload);
    } catch (err) {
      pending = Promise.reject(err as Error);
    }
    pending.then(
      () => cb(null),
      (err: Error) => {
        const why = 'device publish not acknowledged: it could not be committed; connection closed so the device sends it again';
        this.log.warn({ clientId: client.id, topic: packet.topic, err: err.message }, why);
        cb(new Error(`not committed: ${err.message}`));
      },
    );
  }

  /**
   * Hands device publishes matching `pattern` to `handler` BEFORE they are acknowledged
   * (see PublishGate); such a message still reaches subscribers afterwards, so a gated
   * topic should not also be subscribed by the same consumer. Returns the removal function.
   */
  gate(pattern: string, handler: PublishGate): () => void {
    const entry = { pattern, handler };
    this.gates.add(entry);
    return () => void this.gates.delete(entry);
  }

  private authorizeSubscribe(client: Client, sub: Subscription, cb: (err: Error | null, sub?: Subscription | null) => void): void {
    const info = this.clients.get(client);
    const d = info ? authorizeSubscribe(info.account, sub.topic, this.opts.topicRoot, this.limits) : ({ ok: false, reason: 'not authenticated' } as const);
    if (d.ok) return cb(null, sub);
    this.refusals.refuse({ kind: 'subscribe', username: info?.account.username, clientId: client.id, topic: sub.topic, reason: d.reason });
    cb(null, null); // SUBACK failure (0x80); the connection stays up
  }

  private onReady(client: Client): void {
    const info = this.clients.get(client);
    if (!info) return;
    this.online.set(client.id, client);
    this.log.debug({ clientId: client.id, role: info.account.role }, 'client online');
    this.emit('clientOnline', client.id);
  }

  private onGone(client: Client): void {
    const info = this.clients.get(client);
    this.clients.delete(client);
    if (!info || this.online.get(client.id) !== client) return; // a takeover: the new session is the live one
    this.online.delete(client.id);
    this.log.debug({ clientId: client.id, role: info.account.role }, 'client offline');
    this.emit('clientOffline', client.id);
  }

  /** Client ids currently connected and authenticated. */
  onlineClients(): string[] {
    return [...this.online.keys()];
  }

  stats(): { clients: number; devices: number; refusals: number } {
    let devices = 0;
    for (const c of this.clients.values()) if (c.account.role === 'device') devices++;
    return { clients: this.clients.size, devices, refusals: this.refusals.total };
  }

  /** Publishes on behalf of the gateway itself (no ACL, no network hop). */
  publish(topic: string, payload: Buffer | string, opts: PublishOptions = {}): Promise<void> {
    const aedes = this.aedes;
    if (!aedes || this.stopping) return Promise.reject(new GatehouseError('INTERNAL', 'embedded broker is not running'));
    if (/[+#]/.test(topic)) return Promise.reject(new GatehouseError('INTERNAL', `cannot publish to a wildcard topic: ${topic}`));
    const packet = { cmd: 'publish' as const, topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos: opts.qos ?? 1, retain: opts.retain ?? false, dup: false };
    return new Promise((resolve, reject) => aedes.publish(packet, (err) => (err ? reject(new GatehouseError('INTERNAL', `embedded publish failed: ${err.message}`, undefined, { cause: err })) : resolve())));
  }

  /**
   * Delivers every message matching `pattern` (MQTT wildcards) to `handler`, retained
   * ones included. May be called before start(); returns the unsubscribe function.
   */
  subscribe(pattern: string, handler: MessageHandler): () => void {
    const deliver = (packet: AedesPublishPacket, cb: () => void): void => {
      try {
        handler(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
      } catch (err) {
        this.log.error({ topic: packet.topic, err: (err as Error).message }, 'in-process subscriber threw');
      }
      cb();
    };
    const entry = { pattern, deliver };
    this.subs.add(entry);
    const aedes = this.aedes;
    if (aedes) aedes.subscribe(pattern, deliver, () => void this.replayRetained(aedes, pattern, handler));
    return () => {
      if (!this.subs.delete(entry)) return;
      this.aedes?.unsubscribe(pattern, deliver, () => undefined);
    };
  }

  private async replayRetained(aedes: Aedes, pattern: string, handler: MessageHandler): Promise<void> {
    try {
      const persistence = (aedes as unknown as { persistence: unknown }).persistence as { createRetainedStreamCombi(p: string[]): AsyncIterable<AedesPublishPacket> };
      for await (const packet of persistence.createRetainedStreamCombi([pattern])) {
        handler(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
      }
    } catch (err) {
      this.log.error({ pattern, err: (err as Error).message }, 'retained replay failed');
    }
  }

  /** Closes every client connection and the listener. Safe to call twice; start() may follow. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const server = this.server;
    const aedes = this.aedes;
    if (!server || !aedes) return;
    const closed = new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => aedes.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
    this.subs.clear();
    this.clients.clear();
    this.online.clear();
    this.server = undefined;
    this.aedes = undefined;
    this.log.info('embedded broker stopped');
  }
}
