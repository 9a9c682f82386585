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
 *   wildcard matching as MQTT clients get (in-process.ts).
 */
import { EventEmitter } from 'node:events';
import type { z } from 'zod';
import { createServer, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Aedes, type Client, type Subscription } from 'aedes';
import mqttPacket from 'mqtt-packet';
import type { Secrets } from '../../config/load.js';
import { BrokerConfig as BrokerConfigSchema, type BrokerConfig } from '../../config/schema.js';
import { GatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { realTimers, systemClock, type Clock, type Timers } from '../core/clock.js';
import { AuthThrottle } from './auth-throttle.js';
import { ConnectionGuard, sourceAddress, type GuardEvent } from './connection-guard.js';
import { authorizePublish, authorizeSubscribe, topicDepth, type Limits } from './acl.js';
import { AccountTable, type DeviceAccountSpec, type InternalAccountSpec } from './accounts.js';
import { FrameGuard } from './frame-guard.js';
import { RefusalLog } from './refusals.js';
import { authenticate, type ClientInfo, type LoginContext, type Origin } from './login.js';
import { OperatorCommands, type OperatorCommandHandler } from './operator-commands.js';
import { createTlsListener, loadBrokerTls, peerCommonName, type BrokerTlsMaterial } from './broker-tls.js';
import { InProcessClients, publishInProcess, type MessageHandler, type PublishGate, type PublishOptions } from './in-process.js';
import { listen } from './listen.js';

export type { MessageHandler, PublishGate, PublishOptions } from './in-process.js';

export interface EmbeddedBrokerOptions {
  /** As written in the compound file: nested sections may be partial, defaults fill them. */
  config: z.input<typeof BrokerConfigSchema>;
  secrets: Secrets;
  devices: readonly DeviceAccountSpec[];
  internalAccounts?: readonly InternalAccountSpec[];
  topicRoot: string;
  log: Logger;
  /** Monotonic time for login throttling; timers for the CONNECT deadline and login delays. */
  clock?: Pick<Clock, 'monotonic'>;
  timers?: Timers;
  /** Runs an operator's command (operator-commands.ts); without it operator commands are dropped. */
  onOperatorCommand?: OperatorCommandHandler;
  /** Where a generated TLS pair is kept (broker.tls without certFile/keyFile). */
  dataDir?: string;
}

/** Room for the topic, packet id and properties around a payload of the maximum size. */
const FRAME_OVERHEAD_BYTES = 8 * 1024;
const AEDES_REFUSALS = /too many levels|is not allowed|empty topic|maxInflightInbound|Invalid subscription|invalid topic/i;
/** Where refused publishes are acknowledged into; nobody can subscribe under `$`. */
const QUARANTINE_PREFIX = '$gatehouse/refused/';
/** A device must send something (a PINGREQ at least) this often, or its last will fires. */
const KEEPALIVE_LIMIT_S = 300;

export class EmbeddedBroker extends EventEmitter<{ clientOnline: [string]; clientOffline: [string] }> {
  readonly config: BrokerConfig;
  private readonly accounts: AccountTable;
  private readonly log: Logger;
  private readonly refusals: RefusalLog;
  private readonly limits: Limits;
  private aedes: Aedes | undefined;
  private server: Server | undefined;
  private tlsServer: Server | undefined;
  private tlsBoundPort = 0;
  /** The TLS certificate served, once started with broker.tls. */
  tls: BrokerTlsMaterial | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly clients = new Map<Client, ClientInfo>();
  private readonly origins = new WeakMap<Client, Origin>();
  private readonly throttle: AuthThrottle;
  private readonly pending: ConnectionGuard;
  private readonly timers: Timers;
  private readonly operatorCommands: OperatorCommands;
  private readonly loginContext: LoginContext;
  private readonly online = new Map<string, Client>();
  /** The gateway's own subscribers and publish gates (in-process.ts). */
  private readonly local: InProcessClients;
  private boundPort = 0;
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: EmbeddedBrokerOptions) {
    super();
    this.config = BrokerConfigSchema.parse(opts.config ?? {});
    this.log = opts.log;
    this.local = new InProcessClients(() => this.aedes, opts.log);
    this.refusals = new RefusalLog(opts.log);
    // The gateway's own topics (`{root}/cmd/{name}/res`) and the local device scheme
    // (`lan/v1/lock/{id}/cmd/res`) must fit, or the gateway would refuse itself.
    const needed = Math.max(topicDepth(opts.topicRoot) + 3, 6);
    if (this.config.maxTopicDepth < needed) {
      this.log.warn(
        { configured: this.config.maxTopicDepth, used: needed },
        'broker.maxTopicDepth is too small for the gateway topics; raised',
      );
      this.config.maxTopicDepth = needed;
    }
    this.limits = { maxPayloadBytes: this.config.maxPayloadBytes, maxTopicDepth: this.config.maxTopicDepth };
    this.timers = opts.timers ?? realTimers;
    this.throttle = new AuthThrottle(this.config.authThrottle, opts.clock ?? systemClock());
    this.operatorCommands = new OperatorCommands(opts.topicRoot, opts.onOperatorCommand, opts.log, (operator) =>
      [...this.clients]
        .filter(([, info]) => info.account.role === 'operator' && info.account.username === operator)
        .map(([client]) => client),
    );
    this.pending = new ConnectionGuard(this.config.pending, this.timers, (e) => this.reportGuard(e));
    this.accounts = new AccountTable({
      secrets: opts.secrets,
      devices: opts.devices,
      internal: opts.internalAccounts ?? [],
      operators: this.config.operators,
    });
    for (const id of this.accounts.devicesWithoutSecret) {
      this.log.warn({ device: id }, 'device has no password in the secrets file; the embedded broker will refuse it');
    }
    const { config, accounts, refusals, throttle, pending, timers, log, limits, origins, clients, online } = this;
    this.loginContext = {
      config,
      accounts,
      refusals,
      throttle,
      pending,
      timers,
      log,
      topicRoot: opts.topicRoot,
      limits,
      origins,
      clients,
      online,
    };
  }

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<{ port: number; host: string }> {
    if (this.aedes) return { port: this.boundPort, host: this.config.host };
    // mqtt-packet (shared by aedes and the uplink's mqtt.js) otherwise builds, at its first packet, a cache of
    // all 65,536 two-byte numbers as separate Buffers: ~6.5 MB of heap kept for the life of the daemon, to save
    // a 2-byte allocation per packet id. The bytes on the wire are the same (issue 12, idle RSS).
    mqttPacket.writeToStream.cacheNumbers = false;
    const aedes = await Aedes.createBroker({
      // The guard's deadline (connection-guard.ts) also covers the login itself.
      connectTimeout: this.config.pending.connectDeadlineMs,
      drainTimeout: 10_000,
      keepaliveLimit: KEEPALIVE_LIMIT_S,
      maxTopicLevels: this.config.maxTopicDepth,
      preConnect: (client, packet, cb) => this.preConnect(client, packet, cb),
      authenticate: (client, username, password, cb) => authenticate(this.loginContext, client, username, password, cb),
      authorizePublish: (client, packet, cb) => this.authorizePublish(client, packet, cb),
      authorizeSubscribe: (client, sub, cb) => this.authorizeSubscribe(client, sub, cb),
      authorizeForward: (client, packet) =>
        this.clients.get(client)?.account.role !== 'operator' || this.operatorCommands.mayForward(packet) ? packet : null,
    });
    this.aedes = aedes;
    aedes.on('clientReady', (client) => this.onReady(client));
    aedes.on('clientDisconnect', (client) => this.onGone(client));
    aedes.on('clientError', (client, err) => {
      // aedes checks topic syntax and depth itself and closes the connection: still a refusal to report.
      if (AEDES_REFUSALS.test(err.message))
        this.refusals.refuse({
          kind: 'publish',
          username: this.clients.get(client)?.account.username,
          clientId: client.id,
          reason: err.message,
        });
      else this.log.debug({ clientId: client.id, err: err.message }, 'client error');
    });
    aedes.on('connectionError', (_client, err) => this.log.debug({ err: err.message }, 'connection error'));

    // A hard ceiling on sockets: every session the accounts allow, plus the pending pool.
    const maxSockets = this.config.maxConnections + this.config.pending.total + 16;
    try {
      const tlsConfig = this.config.tls;
      if (!tlsConfig?.only) {
        this.server = createServer((socket) => this.accept(socket, undefined));
        this.boundPort = await listen(this.server, this.config.port, this.config.host, maxSockets);
      }
      if (tlsConfig) {
        this.tls = loadBrokerTls(tlsConfig, { dataDir: this.opts.dataDir, host: this.config.host });
        const deadline = this.config.pending.connectDeadlineMs;
        this.tlsServer = createTlsListener(
          this.tls,
          deadline,
          (raw) => this.admitRaw(raw),
          (socket, raw) => this.accept(socket, raw),
        );
        this.tlsBoundPort = await listen(this.tlsServer, tlsConfig.port, this.config.host, maxSockets);
      }
    } catch (err) {
      await this.closeServers();
      await new Promise<void>((r) => aedes.close(() => r()));
      this.aedes = undefined;
      throw err;
    }
    this.local.attach(aedes);
    const ports = { port: this.boundPort || undefined, tlsPort: this.tlsBoundPort || undefined, tlsFingerprint: this.tls?.fingerprint256 };
    this.log.info({ host: this.config.host, ...ports, accounts: this.accounts.size }, 'embedded broker listening');
    return { port: this.boundPort, host: this.config.host };
  }

  /** The TLS listener's port (0 without broker.tls). */
  get tlsPort(): number {
    return this.tlsBoundPort;
  }

  private admitRaw(raw: Socket): boolean {
    raw.on('error', () => undefined);
    return this.aedes !== undefined && this.pending.admit(raw);
  }

  private async closeServers(): Promise<void> {
    const servers = [this.server, this.tlsServer].filter((s): s is Server => s !== undefined && s.listening);
    this.server = undefined;
    this.tlsServer = undefined;
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  /** A plain socket (admitted here) or a handshaken TLS socket (its raw socket admitted before the handshake). */
  private accept(socket: Socket, raw: Socket | undefined): void {
    if (!this.aedes) return void socket.destroy();
    socket.on('error', () => undefined); // reported through the guard / aedes
    const tls = socket !== raw && raw !== undefined;
    if (!tls && !this.pending.admit(socket)) return;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const guard = new FrameGuard(
      socket,
      { maxFrameBytes: this.config.maxPayloadBytes + FRAME_OVERHEAD_BYTES, maxUnacked: this.config.maxQueuedPerClient },
      (v) => {
        const who = {
          clientId: client.id || undefined,
          username: this.clients.get(client)?.account.username,
          remote: socket.remoteAddress,
        };
        if (v.kind === 'frame')
          this.refusals.refuse({ kind: 'frame', ...who, reason: `${v.packetType} frame of ${v.announcedBytes} bytes exceeds ${v.limit}` });
        else this.refusals.refuse({ kind: 'queue', ...who, reason: `more than ${v.limit} messages awaiting PUBACK; disconnected` });
      },
    );
    const client = this.aedes.handle(guard);
    this.origins.set(client, {
      address: sourceAddress(socket),
      socket: raw ?? socket,
      tls,
      certCommonName: tls ? peerCommonName(socket as TLSSocket) : undefined,
    });
  }

  private reportGuard(e: GuardEvent): void {
    const reason =
      e.kind === 'address-cap'
        ? `${e.limit} connections from this address have not logged in yet; closed`
        : e.kind === 'evicted'
          ? `${e.limit} connections in total have not logged in yet; the oldest was closed`
          : `no valid CONNECT and login within ${e.deadlineMs} ms; closed`;
    this.refusals.refuse({ kind: 'pending', remote: e.address, reason });
  }

  private preConnect(_client: Client, packet: { username?: string; clean?: boolean }, cb: (err: Error | null, ok: boolean) => void): void {
    const role = this.accounts.role(packet.username);
    // See the file comment: no stored sessions for devices and operators.
    if (role !== 'gateway') packet.clean = true;
    cb(null, true);
  }

  private authorizePublish(
    client: Client | null,
    packet: { topic: string; payload: Buffer | string; retain: boolean },
    cb: (err?: Error | null) => void,
  ): void {
    if (!client) return cb(null); // a last will of a client already gone; checked at connect
    const info = this.clients.get(client);
    if (!info) return cb(new Error('not authenticated')); // cannot happen after CONNACK; close if it does
    const d = authorizePublish(
      info.account,
      { topic: packet.topic, payloadBytes: Buffer.byteLength(packet.payload), retain: packet.retain },
      this.opts.topicRoot,
      this.limits,
    );
    if (d.ok && info.account.role === 'operator') {
      // Run for this operator, off the bus (operator-commands.ts): nobody else reads it.
      this.operatorCommands.take(
        info.account.username,
        packet.topic,
        Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
      );
      packet.topic = `${QUARANTINE_PREFIX}${client.id}`;
      return cb(null);
    }
    // A device's event is acknowledged (PUBACK) only once it is committed: passGate holds the callback.
    if (d.ok) return info.account.role === 'device' ? this.local.passGate(client, packet, cb) : cb(null);
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

  /**
   * Hands device publishes matching `pattern` to `handler` BEFORE they are acknowledged
   * (see PublishGate); such a message still reaches subscribers afterwards, so a gated
   * topic should not also be subscribed by the same consumer. Returns the removal function.
   */
  gate(pattern: string, handler: PublishGate): () => void {
    return this.local.gate(pattern, handler);
  }

  private authorizeSubscribe(client: Client, sub: Subscription, cb: (err: Error | null, sub?: Subscription | null) => void): void {
    const info = this.clients.get(client);
    const d = info
      ? authorizeSubscribe(info.account, sub.topic, this.opts.topicRoot, this.limits)
      : ({ ok: false, reason: 'not authenticated' } as const);
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
    return publishInProcess(aedes, topic, payload, opts);
  }

  /**
   * Delivers every message matching `pattern` (MQTT wildcards) to `handler`, retained
   * ones included. May be called before start(); returns the unsubscribe function.
   */
  subscribe(pattern: string, handler: MessageHandler): () => void {
    return this.local.subscribe(pattern, handler);
  }

  /** Closes every client connection and the listener. Safe to call twice; start() may follow. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const aedes = this.aedes;
    if (!aedes) return;
    const closed = this.closeServers();
    await new Promise<void>((r) => aedes.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
    this.local.clear();
    this.clients.clear();
    this.online.clear();
    this.aedes = undefined;
    this.log.info('embedded broker stopped');
  }
}
