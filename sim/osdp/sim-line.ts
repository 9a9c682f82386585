/**
 * The far end of an RS-485 line with simulated readers on it: the slave end of a socat pty
 * pair, shared by several SimPds the way readers share a multi-drop pair. Every PD sees
 * every frame; only the addressed one answers. Each answer is held for the wire time of
 * command + reply at the baud rate (a pty moves bytes as fast as the kernel copies them)
 * plus the reader's turnaround, so bus timing looks like RS-485. When the pty goes away
 * (socat killed) the line reopens the same path until it is back.
 */
import { SerialPort } from 'serialport';
import type { TimerHandle, Timers } from '../../gateway/core/clock.js';
import type { Logger } from '../../gateway/core/log.js';
import { OsdpDeframer } from '../../drivers/osdp/deframer.js';
import { BROADCAST_ADDRESS } from '../../drivers/osdp/types.js';
import type { SimPd } from './sim-pd.js';

/** 8N1: start + 8 data + stop. */
const BITS_PER_CHAR = 10;
/** Silence after which a partial frame is dropped (OSDP inter-character timeout). */
const INTER_CHAR_MS = 20;

export interface SimLineOptions {
  path: string;
  baudRate: number;
  timers: Timers;
  log: Logger;
  /** Hold each reply for the wire time of command + reply (default true). */
  emulateWire?: boolean;
  /** How often to try reopening a vanished pty (default 100 ms). */
  reopenMs?: number;
}

export type TapListener = (direction: 'rx' | 'tx', bytes: Uint8Array, at: number) => void;

export class SimOsdpLine {
  private port: SerialPort | undefined;
  private readonly deframer = new OsdpDeframer();
  private readonly pds = new Map<number, SimPd>();
  private readonly pending = new Set<TimerHandle>();
  private idle: TimerHandle | undefined;
  private reopen: TimerHandle | undefined;
  private stopped = false;
  /** Bumped to drop replies still being paced (line closed or stopped). */
  private generation = 0;
  private readonly taps = new Set<TapListener>();
  /** Frames that reached the line, frames it could not read, frames for no simulated reader. */
  readonly stats = { frames: 0, badFrames: 0, unaddressed: 0, opens: 0 };

  constructor(private readonly opts: SimLineOptions) {}

  attach(pd: SimPd): void {
    const a = pd.reader.address;
    if (this.pds.has(a)) throw new Error(`OSDP address ${a} is used twice on ${this.opts.path}`);
    this.pds.set(a, pd);
  }

  /** Every byte the readers receive ('rx') and send ('tx'), as on a line tap. Returns the remover. */
  tap(listener: TapListener): () => void {
    this.taps.add(listener);
    return () => this.taps.delete(listener);
  }

  get isOpen(): boolean {
    return this.port?.isOpen === true;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.open();
  }

  private async open(): Promise<void> {
    const port = new SerialPort({ path: this.opts.path, baudRate: this.opts.baudRate, autoOpen: false });
    port.on('error', (err) => this.opts.log.debug({ path: this.opts.path, err: err.message }, 'sim OSDP line error'));
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    if (this.stopped) {
      port.close(() => {});
      return;
    }
    this.port = port;
    this.stats.opens++;
    this.deframer.reset();
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('close', () => {
      if (this.port !== port) return;
      this.port = undefined;
      this.cancelReplies();
      if (!this.stopped) this.scheduleReopen();
    });
  }

  private scheduleReopen(): void {
    this.reopen = this.opts.timers.setTimeout(() => {
      this.reopen = undefined;
      if (this.stopped) return;
      this.open().catch(() => this.scheduleReopen());
    }, this.opts.reopenMs ?? 100);
  }

  private onData(chunk: Buffer): void {
    const now = performance.now();
    for (const t of this.taps) t('rx', chunk, now);
    this.idle?.cancel();
    this.idle = undefined;
    for (const out of this.deframer.push(chunk)) {
      if (out.kind === 'error') {
        this.stats.badFrames++;
        continue;
      }
      const frame = { ...out.frame, raw: out.raw };
      if (frame.reply) continue; // another PD's reply on the shared pair
      this.stats.frames++;
      const pd = this.pds.get(frame.address);
      if (!pd) {
        if (frame.address !== BROADCAST_ADDRESS) this.stats.unaddressed++;
        continue;
      }
      const reply = pd.receive(frame);
      if (!reply) continue;
      const r = pd.reader;
      const wireMs = this.opts.emulateWire === false ? 0 : ((out.raw.length + reply.length) * BITS_PER_CHAR * 1000) / this.opts.baudRate;
      this.later(wireMs + r.replyDelayMs + r.slowMs, () => {
        const port = this.port;
        if (!port?.isOpen) return;
        for (const t of this.taps) t('tx', reply, performance.now());
        port.write(Buffer.from(reply));
      });
    }
    if (this.deframer.buffered > 0) this.idle = this.opts.timers.setTimeout(() => this.deframer.reset(), INTER_CHAR_MS);
  }

  /**
   * Runs `fn` after `ms`, to a fraction of a millisecond: node timers only count whole
   * milliseconds, and at 115,200 baud a poll and its ACK take 1.3 ms, so a plain timer
   * would pace the line up to twice too fast. A coarse timer gets close, then a setImmediate
   * loop (which lets I/O through) waits out the rest.
   */
  private later(ms: number, fn: () => void): void {
    if (ms <= 0) return fn();
    const due = performance.now() + ms;
    const gen = this.generation;
    const spin = () => {
      if (gen !== this.generation) return;
      if (performance.now() >= due) fn();
      else setImmediate(spin);
    };
    const coarse = Math.floor(ms) - 1;
    if (coarse < 1) return void setImmediate(spin);
    const h = this.opts.timers.setTimeout(() => {
      this.pending.delete(h);
      spin();
    }, coarse);
    this.pending.add(h);
  }

  private cancelReplies(): void {
    this.generation++;
    for (const h of this.pending) h.cancel();
    this.pending.clear();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelReplies();
    this.idle?.cancel();
    this.reopen?.cancel();
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen)
      await new Promise<void>((r) => {
        const t = setTimeout(r, 500);
        port.close(() => {
          clearTimeout(t);
          r();
        });
      });
  }
}
