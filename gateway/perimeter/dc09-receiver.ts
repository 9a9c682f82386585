/**
 * SIA DC-09 receiver: the TCP server and UDP socket alarm panels report to.
 *
 * Binds `perimeter.dc09.host`, loopback by default: an installer names the LAN interface the
 * panels report on, the receiver is never open on every interface by accident.
 *
 * TCP: panels keep the connection and send message after message (each waits for our
 * answer), with NULL link tests in between. Per connection: a bounded deframer (an endless
 * line is refused at the length limit and the connection closed), a deadline for the first
 * framed message, an idle timeout, a cap on unread output (a client that never reads our
 * answers is dropped instead of buffering them), a cap on messages waiting for their answer,
 * and too many refused messages in a row close it. Per listener: at most
 * `maxConnectionsPerAddress` from one address and `maxConnections` in all, of which
 * connections that have not yet delivered a message from a configured panel may hold all but
 * one per configured panel; when those are all taken, the oldest unproven one makes room,
 * so idle sockets cannot keep a real panel out; a panel keeps at most two connections (its
 * oldest beyond are closed). Refusals are logged with the address.
 * Answers go out in the order the messages came, each only once its message is committed.
 *
 * UDP: one message per datagram, the answer goes back to the sender's address and port.
 * A datagram that is not a valid frame (no CRC/length, or wrong ones) gets no answer, and no
 * answer is larger than the datagram it answers: the receiver cannot be used to reflect or
 * amplify traffic at a spoofed address.
 *
 * All decisions are Dc09Processor's; all consequences PanelService's.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Dc09PanelConfig, Dc09ReceiverConfig } from '../../config/schema.js';
import type { Secrets } from '../../config/load.js';
import type { RandomBytes } from '../../drivers/dc09/cipher.js';
import { Dc09Deframer } from '../../drivers/dc09/deframer.js';
import { MAX_MESSAGE_LENGTH } from '../../drivers/dc09/frame.js';
import { realTimers, type Clock, type TimerHandle, type Timers } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { Dc09Processor, type Dc09Answer } from './dc09-processor.js';
import type { PanelService } from './panel-service.js';
import type { Dc09ReplayGuard } from './dc09-replay.js';

export interface Dc09ReceiverOptions {
  /** `perimeter.dc09` of the compound file (parsed, defaults applied). */
  config: Dc09ReceiverConfig;
  /** `alarmPanels` of the compound file. */
  panels: Dc09PanelConfig[];
  secrets: Secrets;
  service: PanelService;
  clock: Clock;
  log: Logger;
  /** For the first-message deadline (real timers by default). */
  timers?: Timers;
  replay?: Dc09ReplayGuard;
  /** A TCP connection silent this long is closed (default 5 min: panels poll every 1-3 min). */
  idleTimeoutMs?: number;
  /** Refused (NAK/DUH/framing) messages in a row before a TCP connection is closed (default 20). */
  maxConsecutiveErrors?: number;
  dedupWindowMs?: number;
  randomBytes?: RandomBytes;
  /** Observes every answer (tests, metrics). */
  onAnswer?: (answer: Dc09Answer, from: { transport: 'tcp' | 'udp'; address: string }) => void;
  /** Called right after an answer was handed to the socket (crash tests kill the process here). */
  afterReply?: (answer: Dc09Answer) => void;
}

/**
 * Messages of one TCP connection waiting for their answers; panels send one at a time. Above
 * the error limit, so a burst of garbage is NAKed and closed by that limit.
 */
const MAX_QUEUED_MESSAGES = 32;
/** Connections kept per configured panel (one, or two with a backup path); the oldest beyond go. */
const MAX_CONNECTIONS_PER_PANEL = 2;
/** At most one "connection refused" warning per address per minute. */
const REFUSAL_LOG_INTERVAL_MS = 60_000;

interface Connection {
  socket: Socket;
  address: string;
  /** The configured panel this connection delivered a message from (undefined: none yet). */
  panel?: string;
  deadline?: TimerHandle;
}

/** Unread bytes we accept to hold for one TCP client. */
const MAX_PENDING_WRITE = 64 * 1024;

export class Dc09Receiver {
  readonly processor: Dc09Processor;
  private readonly opts: Dc09ReceiverOptions;
  private tcp: Server | undefined;
  private udp: UdpSocket | undefined;
  private readonly connections = new Set<Connection>();
  private readonly perAddress = new Map<string, number>();
  private readonly refusalLogged = new Map<string, number>();
  readonly stats = { connections: 0, refusedConnections: 0, evictedConnections: 0, closedHostile: 0, datagrams: 0, unansweredDatagrams: 0 };

  /** Throws GatehouseError CONFIG_INVALID when a panel's key secret is missing or malformed. */
  constructor(opts: Dc09ReceiverOptions) {
    this.opts = opts;
    const p: ConstructorParameters<typeof Dc09Processor>[0] = {
      panels: opts.panels,
      secrets: opts.secrets,
      timestampWindow: opts.config.timestampWindow,
      service: opts.service,
      clock: opts.clock,
      log: opts.log,
    };
    if (opts.dedupWindowMs !== undefined) p.dedupWindowMs = opts.dedupWindowMs;
    if (opts.randomBytes) p.randomBytes = opts.randomBytes;
    if (opts.replay) p.replay = opts.replay;
    this.processor = new Dc09Processor(p);
  }

  get openConnections(): number {
    return this.connections.size;
  }

  async start(): Promise<{ tcpPort: number; udpPort: number }> {
    const { host, tcpPort, udpPort } = this.opts.config;
    const server = createServer({ noDelay: true }, (s) => this.accept(s));
    this.tcp = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(tcpPort, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.opts.log.error({ err }, 'DC-09 TCP server error'));
    const udp = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
    this.udp = udp;
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(udpPort, host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    udp.on('error', (err) => this.opts.log.error({ err }, 'DC-09 UDP socket error'));
    udp.on('message', (msg, rinfo) => this.datagram(msg, rinfo.address, rinfo.port));
    this.opts.service.start();
    const ports = { tcpPort: (server.address() as AddressInfo).port, udpPort: udp.address().port };
    this.opts.log.info({ host, ...ports, panels: this.opts.panels.length }, 'DC-09 receiver listening');
    return ports;
  }

  async stop(): Promise<void> {
    this.opts.service.stop();
    for (const c of this.connections) {
      c.deadline?.cancel();
      c.socket.destroy();
    }
    this.connections.clear();
    this.perAddress.clear();
    const tcp = this.tcp;
    const udp = this.udp;
    this.tcp = undefined;
    this.udp = undefined;
    await Promise.all([
      tcp ? new Promise<void>((r) => tcp.close(() => r())) : undefined,
      udp ? new Promise<void>((r) => udp.close(() => r())) : undefined,
    ]);
  }

  private accept(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    if (!this.admit(address)) {
      this.stats.refusedConnections++;
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    this.stats.connections++;
    const conn: Connection = { socket, address };
    this.connections.add(conn);
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    const from = { transport: 'tcp' as const, address };
    const deframer = new Dc09Deframer();
    const maxErrors = this.opts.maxConsecutiveErrors ?? 20;
    let errors = 0;
    let queued = 0;
    let chain = Promise.resolve();
    const hostile = (why: string) => {
      if (socket.destroyed) return;
      this.stats.closedHostile++;
      this.opts.log.warn({ remote: address, why }, 'DC-09 TCP client closed');
      socket.destroy();
    };
    // A panel sends its message as soon as it is connected: a socket that says nothing framed
    // within the deadline only holds a slot.
    const deadlineMs = this.opts.config.firstMessageTimeoutS * 1000;
    const timers = this.opts.timers ?? realTimers;
    conn.deadline = timers.setTimeout(() => hostile(`no framed DC-09 message within ${deadlineMs / 1000} s of connecting`), deadlineMs);
    // Panels hold the connection open between events; TCP keep-alive notices a panel that
    // lost power (no FIN) sooner than the idle timeout, which is the backstop.
    socket.setKeepAlive(true, 60_000);
    socket.setTimeout(this.opts.idleTimeoutMs ?? 300_000, () => socket.destroy());
    socket.on('error', () => undefined);
    socket.on('close', () => this.release(conn));
    socket.on('data', (chunk: Buffer) => {
      for (const out of deframer.push(chunk)) {
        if (socket.destroyed) return;
        if (out.kind === 'error') {
          if (out.error === 'overflow') return hostile(out.detail);
          if (++errors >= maxErrors) return hostile(`${errors} bad messages in a row`);
          continue;
        }
        conn.deadline?.cancel();
        delete conn.deadline;
        if (++queued > MAX_QUEUED_MESSAGES) return hostile(`more than ${MAX_QUEUED_MESSAGES} messages waiting for their answers`);
        // Answers in message order, each once its message is committed.
        chain = chain.then(async () => {
          const answer = await this.answer(out.text, from);
          queued--;
          if (socket.destroyed) return;
          errors = answer.outcome === 'ack' || answer.outcome === 'duplicate' ? 0 : errors + 1;
          if (answer.panel !== undefined && (answer.outcome === 'ack' || answer.outcome === 'duplicate')) this.proven(conn, answer.panel);
          if (socket.writableLength > MAX_PENDING_WRITE) return hostile('not reading our answers');
          socket.write(answer.reply, 'latin1');
          this.opts.afterReply?.(answer);
          if (errors >= maxErrors) hostile(`${errors} refused messages in a row`);
        });
      }
    });
  }

  /** Per-address and total caps; makes room by closing the oldest unproven connection when needed. */
  private admit(address: string): boolean {
    const { maxConnections, maxConnectionsPerAddress } = this.opts.config;
    if ((this.perAddress.get(address) ?? 0) >= maxConnectionsPerAddress) {
      this.logRefusal(
        address,
        `already ${maxConnectionsPerAddress} connections from this address (perimeter.dc09.maxConnectionsPerAddress)`,
      );
      return false;
    }
    // One slot per configured panel stays for connections that delivered a panel's message.
    const maxUnproven = Math.max(1, maxConnections - this.opts.panels.length);
    let unproven = 0;
    let oldest: Connection | undefined;
    for (const c of this.connections) {
      if (c.panel !== undefined) continue;
      unproven++;
      oldest ??= c;
    }
    if (unproven < maxUnproven && this.connections.size < maxConnections) return true;
    if (!oldest) {
      this.logRefusal(address, `all ${maxConnections} connections belong to panels (perimeter.dc09.maxConnections)`);
      return false;
    }
    this.stats.evictedConnections++;
    this.logRefusal(oldest.address, `connection closed to make room: ${maxUnproven} connections without a panel message already open`);
    oldest.socket.destroy();
    this.release(oldest);
    return true;
  }

  /**
   * Marks a connection as a panel's. A panel uses one connection (two with a backup path):
   * beyond MAX_CONNECTIONS_PER_PANEL, its oldest is closed, so forged or replayed messages of
   * a plain panel cannot turn every slot into a "panel" connection.
   */
  private proven(conn: Connection, panel: string): void {
    if (conn.panel === panel) return;
    conn.panel = panel;
    const mine = [...this.connections].filter((c) => c.panel === panel);
    for (const old of mine.slice(0, Math.max(0, mine.length - MAX_CONNECTIONS_PER_PANEL))) {
      this.opts.log.warn(
        { remote: old.address, panel },
        `DC-09 connection closed: panel ${panel} has more than ${MAX_CONNECTIONS_PER_PANEL} connections, the newest are kept`,
      );
      old.socket.destroy();
      this.release(old);
    }
  }

  private release(conn: Connection): void {
    if (!this.connections.delete(conn)) return;
    conn.deadline?.cancel();
    const n = (this.perAddress.get(conn.address) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(conn.address);
    else this.perAddress.set(conn.address, n);
  }

  private logRefusal(address: string, why: string): void {
    const t = this.opts.clock.monotonic();
    const last = this.refusalLogged.get(address);
    if (last !== undefined && t - last < REFUSAL_LOG_INTERVAL_MS) return;
    if (this.refusalLogged.size >= 1000) this.refusalLogged.clear();
    this.refusalLogged.set(address, t);
    this.opts.log.warn({ remote: address, why }, 'DC-09 TCP connection refused (further refusals for this address muted for a minute)');
  }

  private datagram(msg: Buffer, address: string, port: number): void {
    this.stats.datagrams++;
    if (msg.length > MAX_MESSAGE_LENGTH) return void this.stats.unansweredDatagrams++;
    void this.answer(msg.toString('latin1'), { transport: 'udp', address }).then((answer) => {
      const reply = Buffer.from(answer.reply, 'latin1');
      // Never a reflector: garbage gets nothing, and nothing gets more bytes than it sent.
      if (answer.unframed || reply.length > msg.length) return void this.stats.unansweredDatagrams++;
      this.udp?.send(reply, port, address);
      this.opts.afterReply?.(answer);
    });
  }

  private async answer(text: string, from: { transport: 'tcp' | 'udp'; address: string }): Promise<Dc09Answer> {
    let answer: Dc09Answer;
    try {
      answer = await this.processor.handle(text, from);
    } catch (err) {
      // A bug in a decoder or in the sink must not take the receiver down; the panel gets a
      // NAK and retransmits, which is the right outcome for "not handled".
      this.opts.log.error({ err, remote: from.address }, 'DC-09 message handling failed');
      answer = { outcome: 'nak', reply: this.processor.nakNow(), reason: 'internal error' };
    }
    this.opts.onAnswer?.(answer, from);
    return answer;
  }
}
