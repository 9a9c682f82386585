/**
 * Simulated SIA DC-09 alarm panels, for tests, the bench and demos: each panel has its own
 * TCP connection (kept open, re-opened when lost) or UDP socket, sends SIA-DCS or ADM-CID
 * events (plain or AES-encrypted), periodic tests, and behaves like a real panel towards
 * the receiver: one message in flight, wait for the answer, retransmit the same sequence
 * number on NAK or timeout, adopt the receiver's clock from a NAK's timestamp.
 *
 * Test knobs: `silence()` stops everything the panel sends (supervision), `dropAcks(n)`
 * ignores the next n ACKs (an ACK lost on the way: the panel retransmits, the receiver must
 * not process the event twice), `raw()` writes anything.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { parseKeyHex } from '../../drivers/dc09/cipher.js';
import { Dc09Deframer } from '../../drivers/dc09/deframer.js';
import { formatSeq, parseFrame, type Dc09Header } from '../../drivers/dc09/frame.js';
import { encodeMessage, openContent } from '../../drivers/dc09/message.js';

export interface SimPanelSpec {
  account: string;
  /** AES key, 32/48/64 hex digits. */
  key?: string;
  encrypted: boolean;
  /** Seconds between periodic tests (0 = none). */
  periodicTestS: number;
  format?: 'SIA-DCS' | 'ADM-CID';
  receiver?: string;
  line?: string;
  /** Added to the panel's clock (a panel with a wrong clock). */
  clockOffsetMs?: number;
}

export interface SimulatedPanelsOptions {
  host: string;
  port: number;
  protocol: 'tcp' | 'udp';
  panels: SimPanelSpec[];
  /** How long a panel waits for an answer before retransmitting (default 2000 ms). */
  ackTimeoutMs?: number;
  /** Attempts per message, the first included (default 5). */
  maxAttempts?: number;
}

export type SimAnswer = 'ACK' | 'NAK' | 'DUH' | 'timeout' | 'silenced';
export interface SendResult {
  answer: SimAnswer;
  attempts: number;
  seq: string;
  /** From the first transmission to the final answer. */
  ms: number;
}

export class SimulatedPanel {
  readonly account: string;
  readonly stats = { sent: 0, acked: 0, naks: 0, duhs: 0, timeouts: 0, retransmits: 0, ignoredAcks: 0 };
  private readonly spec: SimPanelSpec;
  private readonly opts: SimulatedPanelsOptions;
  private readonly key: Buffer | undefined;
  private seq = 0;
  private silent = false;
  private ackDrops = 0;
  private clockOffset: number;
  private queue: Promise<unknown> = Promise.resolve();
  private tcp: Socket | undefined;
  private udp: UdpSocket | undefined;
  private readonly deframer = new Dc09Deframer();
  private waiting: ((text: string) => void) | undefined;
  private periodic: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(spec: SimPanelSpec, opts: SimulatedPanelsOptions) {
    this.spec = spec;
    this.opts = opts;
    this.account = spec.account.toUpperCase();
    this.clockOffset = spec.clockOffsetMs ?? 0;
    this.key = spec.key ? parseKeyHex(spec.key) : undefined;
    if (spec.encrypted && !this.key) throw new Error(`simulated panel ${spec.account}: encrypted needs a key of 32/48/64 hex digits`);
    if (spec.periodicTestS > 0) {
      this.periodic = setInterval(() => void this.periodicTest().catch(() => undefined), spec.periodicTestS * 1000);
      this.periodic.unref();
    }
  }

  get format(): 'SIA-DCS' | 'ADM-CID' {
    return this.spec.format ?? 'SIA-DCS';
  }

  /** Stops sending anything (periodic tests included) until unsilence(). */
  silence(): void {
    this.silent = true;
  }
  unsilence(): void {
    this.silent = false;
  }
  /** Ignores the next n ACKs, as if they were lost: the panel retransmits. */
  dropAcks(n: number): void {
    this.ackDrops += n;
  }

  alarm(zone: number, area = 1): Promise<SendResult> {
    return this.event(`Nri${area}/BA${pad3(zone)}`, `1130 ${pad2(area)} ${pad3(zone)}`);
  }
  restore(zone: number, area = 1): Promise<SendResult> {
    return this.event(`Nri${area}/BR${pad3(zone)}`, `3130 ${pad2(area)} ${pad3(zone)}`);
  }
  tamper(area = 1): Promise<SendResult> {
    return this.event(`Nri${area}/TA000`, `1137 ${pad2(area)} 000`);
  }
  acLoss(): Promise<SendResult> {
    return this.event('Nri0/AT000', '1301 00 000');
  }
  acRestore(): Promise<SendResult> {
    return this.event('Nri0/AR000', '3301 00 000');
  }
  /** A user disarming ('open') or arming ('close') area 1. */
  openClose(user: number, what: 'open' | 'close' = 'close', area = 1): Promise<SendResult> {
    return this.event(
      `Nri${area}/${what === 'open' ? 'OP' : 'CL'}${pad3(user)}`,
      `${what === 'open' ? 1 : 3}401 ${pad2(area)} ${pad3(user)}`,
    );
  }
  periodicTest(): Promise<SendResult> {
    return this.event('Nri0/RP000', '1602 00 000');
  }
  /** A NULL link test. */
  poll(): Promise<SendResult> {
    return this.send('NULL', '');
  }

  /** Sends an event in the panel's format (SIA-DCS body or Contact ID `QEEE GG CCC`). */
  event(sia: string, cid: string): Promise<SendResult> {
    return this.send(this.format, `#${this.account}|${this.format === 'SIA-DCS' ? sia : cid}`);
  }

  /** Queues one message; resolves with the final answer after retransmissions. */
  send(token: string, data: string): Promise<SendResult> {
    const run = this.queue.then(() => this.transact(token, data));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Writes raw text on the panel's transport (tests of hostile input). */
  async raw(text: string | Buffer): Promise<void> {
    await this.write(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.periodic) clearInterval(this.periodic);
    this.tcp?.destroy();
    const udp = this.udp;
    this.udp = undefined;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
  }

  private async transact(token: string, data: string): Promise<SendResult> {
    const seq = formatSeq((this.seq % 9999) + 1);
    this.seq = Number(seq);
    const t0 = performance.now();
    const max = this.opts.maxAttempts ?? 5;
    let last: 'NAK' | 'timeout' = 'timeout';
    for (let attempt = 1; attempt <= max; attempt++) {
      if (this.silent || this.closed) return { answer: 'silenced', attempts: attempt - 1, seq, ms: performance.now() - t0 };
      if (attempt > 1) this.stats.retransmits++;
      const header: Dc09Header = { token, encrypted: this.spec.encrypted, seq, line: this.spec.line ?? '0', account: this.account };
      if (this.spec.receiver !== undefined) header.receiver = this.spec.receiver;
      // A fresh timestamp on every attempt: a retransmission must still be inside the window.
      const msg = encodeMessage(header, { data, extended: [], timestamp: Date.now() + this.clockOffset }, this.key);
      this.stats.sent++;
      const answer = await this.exchange(msg, seq);
      if (answer === 'ACK') {
        this.stats.acked++;
        return { answer, attempts: attempt, seq, ms: performance.now() - t0 };
      }
      if (answer === 'DUH') {
        this.stats.duhs++;
        return { answer, attempts: attempt, seq, ms: performance.now() - t0 };
      }
      if (answer === 'NAK') this.stats.naks++;
      else this.stats.timeouts++;
      last = answer;
    }
    return { answer: last, attempts: max, seq, ms: performance.now() - t0 };
  }

  /** Sends one message and waits for the answer to it: 'ACK' | 'NAK' | 'DUH' | 'timeout'. */
  private async exchange(msg: string, seq: string): Promise<'ACK' | 'NAK' | 'DUH' | 'timeout'> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done('timeout'), this.opts.ackTimeoutMs ?? 2000);
      const done = (a: 'ACK' | 'NAK' | 'DUH' | 'timeout') => {
        clearTimeout(timer);
        this.waiting = undefined;
        resolve(a);
      };
      this.waiting = (text) => {
        const f = parseFrame(text);
        if (!f.ok) return;
        const frame = f.value;
        if (frame.token === 'NAK') {
          const c = openContent(frame);
          // Real panels take the receiver's time from the NAK and retry with it.
          if (c.ok && c.value.timestamp !== undefined) this.clockOffset = c.value.timestamp - Date.now();
          return done('NAK');
        }
        if (frame.seq !== seq) return;
        if (frame.token === 'DUH') return done('DUH');
        if (frame.token !== 'ACK') return;
        if (frame.encrypted !== this.spec.encrypted) return;
        if (frame.encrypted && !openContent(frame, this.key).ok) return;
        if (this.ackDrops > 0) {
          this.ackDrops--;
          this.stats.ignoredAcks++;
          return;
        }
        done('ACK');
      };
      this.write(Buffer.from(msg, 'latin1')).catch(() => undefined);
    });
  }

  private onText(text: string): void {
    this.waiting?.(text);
  }

  private async write(buf: Buffer): Promise<void> {
    if (this.opts.protocol === 'udp') {
      if (!this.udp) {
        const s = createSocket('udp4');
        s.on('message', (m) => this.onText(m.toString('latin1')));
        s.on('error', () => undefined);
        this.udp = s;
      }
      await new Promise<void>((resolve) => this.udp!.send(buf, this.opts.port, this.opts.host, () => resolve()));
      return;
    }
    const socket = this.tcp && !this.tcp.destroyed ? this.tcp : await this.connect();
    socket.write(buf);
  }

  private connect(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      this.deframer.reset();
      const s = connect({ host: this.opts.host, port: this.opts.port, noDelay: true });
      s.once('connect', () => resolve(s));
      s.once('error', reject);
      s.on('error', () => undefined);
      s.on('data', (chunk) => {
        for (const out of this.deframer.push(chunk)) if (out.kind === 'message') this.onText(out.text);
      });
      this.tcp = s;
    });
  }
}

export interface SimulatedPanels {
  panels: SimulatedPanel[];
  panel(account: string): SimulatedPanel;
  stop(): Promise<void>;
}

export async function startSimulatedPanels(opts: SimulatedPanelsOptions): Promise<SimulatedPanels> {
  const panels = opts.panels.map((p) => new SimulatedPanel(p, opts));
  return {
    panels,
    panel(account) {
      const p = panels.find((x) => x.account === account.toUpperCase());
      if (!p) throw new Error(`no simulated panel ${account}`);
      return p;
    },
    async stop() {
      await Promise.all(panels.map((p) => p.close()));
    },
  };
}

const pad2 = (n: number) => String(n).padStart(2, '0');
const pad3 = (n: number) => String(n).padStart(3, '0');
