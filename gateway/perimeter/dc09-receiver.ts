/**
 * SIA DC-09 receiver: the TCP server and UDP socket alarm panels report to.
 *
 * TCP: panels keep the connection and send message after message (each waits for our
 * answer), with NULL link tests in between. Per connection: a bounded deframer (an endless
 * line is refused at the length limit and the connection closed), an idle timeout, at most
 * `maxConnections` at once, a cap on unread output (a client that never reads our answers
 * is dropped instead of buffering them), and too many refused messages in a row close it.
 * UDP: one message per datagram, the answer goes back to the sender's address and port;
 * datagrams that are not even framed as DC-09 get no answer, so the receiver cannot be used
 * to reflect NAKs at a spoofed address from a few bytes of garbage.
 *
 * All decisions are Dc09Processor's; all consequences PanelService's. The ACK is written
 * after PanelService.handle() returned, i.e. after the alarm sink was called.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Dc09PanelConfig, Dc09ReceiverConfig } from '../../config/schema.js';
import type { Secrets } from '../../config/load.js';
import type { RandomBytes } from '../../drivers/dc09/cipher.js';
import { Dc09Deframer } from '../../drivers/dc09/deframer.js';
import { MAX_MESSAGE_LENGTH } from '../../drivers/dc09/frame.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { Dc09Processor, type Dc09Answer } from './dc09-processor.js';
import type { PanelService } from './panel-service.js';

export interface Dc09ReceiverOptions {
  /** `perimeter.dc09` of the compound file (parsed, defaults applied). */
  config: Dc09ReceiverConfig;
  /** `alarmPanels` of the compound file. */
  panels: Dc09PanelConfig[];
  secrets: Secrets;
  service: PanelService;
  clock: Clock;
  log: Logger;
  /** A TCP connection silent this long is closed (default 5 min: panels poll every 1-3 min). */
  idleTimeoutMs?: number;
  /** Refused (NAK/DUH/framing) messages in a row before a TCP connection is closed (default 20). */
  maxConsecutiveErrors?: number;
  dedupWindowMs?: number;
  randomBytes?: RandomBytes;
  /** Observes every answer (tests, metrics). */
  onAnswer?: (answer: Dc09Answer, from: { transport: 'tcp' | 'udp'; address: string }) => void;
}

/** Unread bytes we accept to hold for one TCP client. */
const MAX_PENDING_WRITE = 64 * 1024;

export class Dc09Receiver {
  readonly processor: Dc09Processor;
  private readonly opts: Dc09ReceiverOptions;
  private tcp: Server | undefined;
  private udp: UdpSocket | undefined;
  private readonly sockets = new Set<Socket>();
  readonly stats = { connections: 0, refusedConnections: 0, closedHostile: 0, datagrams: 0 };

  /** Throws GatehouseError CONFIG_INVALID when a panel's key secret is missing or malformed. */
  constructor(opts: Dc09ReceiverOptions) {
    this.opts = opts;
    const p: ConstructorParameters<typeof Dc09Processor>[0] = { panels: opts.panels, secrets: opts.secrets, timestampWindow: opts.config.timestampWindow, service: opts.service, clock: opts.clock, log: opts.log };
    if (opts.dedupWindowMs !== undefined) p.dedupWindowMs = opts.dedupWindowMs;
    if (opts.randomBytes) p.randomBytes = opts.randomBytes;
    this.processor = new Dc09Processor(p);
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  async start(): Promise<{ tcpPort: number; udpPort: number }> {
    const { host, tcpPort, udpPort, maxConnections } = this.opts.config;
    const server = createServer({ noDelay: true }, (s) => this.accept(s));
    server.maxConnections = maxConnections;
    server.on('drop', () => {
      this.stats.refusedConnections++;
    });
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
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
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
    this.stats.connections++;
    this.sockets.add(socket);
    const address = socket.remoteAddress ?? 'unknown';
    const from = { transport: 'tcp' as const, address };
    const deframer = new Dc09Deframer();
    const maxErrors = this.opts.maxConsecutiveErrors ?? 20;
    let errors = 0;
    const hostile = (why: string) => {
      this.stats.closedHostile++;
      this.opts.log.warn({ remote: address, why }, 'DC-09 TCP client closed');
      socket.destroy();
    };
    // Panels hold the connection open between events; TCP keep-alive notices a panel that
    // lost power (no FIN) sooner than the idle timeout, which is the backstop.
    socket.setKeepAlive(true, 60_000);
    socket.setTimeout(this.opts.idleTimeoutMs ?? 300_000, () => socket.destroy());
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      for (const out of deframer.push(chunk)) {
        if (socket.destroyed) return;
        if (out.kind === 'error') {
          if (out.error === 'overflow') return hostile(out.detail);
          if (++errors >= maxErrors) return hostile(`${errors} bad messages in a row`);
          continue;
        }
        const answer = this.answer(out.text, from);
        errors = answer.outcome === 'ack' || answer.outcome === 'duplicate' ? 0 : errors + 1;
        if (socket.writableLength > MAX_PENDING_WRITE) return hostile('not reading our answers');
        socket.write(answer.reply, 'latin1');
        if (errors >= maxErrors) return hostile(`${errors} refused messages in a row`);
      }
    });
  }

  private datagram(msg: Buffer, address: string, port: number): void {
    this.stats.datagrams++;
    if (msg.length > MAX_MESSAGE_LENGTH) return;
    const answer = this.answer(msg.toString('latin1'), { transport: 'udp', address });
    if (answer.unframed) return;
    this.udp?.send(Buffer.from(answer.reply, 'latin1'), port, address);
  }

  private answer(text: string, from: { transport: 'tcp' | 'udp'; address: string }): Dc09Answer {
    let answer: Dc09Answer;
    try {
      answer = this.processor.handle(text, from);
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
