/**
 * The OSDP control panel (CP) for one RS-485 line: the gateway's side of up to 126 readers.
 *
 * - Exactly one command in flight: RS-485 is half duplex and a PD may only talk when asked.
 * - Round-robin POLL of every reader; commands from the access logic (OUT, LED, BUZ,
 *   KEYSET) jump ahead of the round robin, so a granted card's unlock goes out right after
 *   the reply that carried the card, not one full cycle later.
 * - SQN per spec: 0 on (re)connect (ID), then 1, 2, 3, 1...; a command that timed out is
 *   repeated byte for byte (same SQN, same MAC) so a PD that did get it resends its reply
 *   instead of executing it twice; a NAK SEQUENCE restarts the reader from SQN 0.
 * - A reader is online after ID + CAP (+ the secure handshake when configured); it goes
 *   offline after `offlineAfterMisses` unanswered commands and is then probed with backoff,
 *   so a dead reader costs the healthy ones one reply timeout per probe, not per cycle.
 * - Secure channel per reader ('required', 'install', 'off'); a failed handshake leaves the
 *   reader offline ('secure-failed'), never in clear text.
 * - The line itself (unplugged USB adapter) is reopened with backoff.
 *
 * Reader setup and reply handling are in cp-reader.ts; bytes are in cp-codec.ts.
 */
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle, Timers } from '../../gateway/core/clock.js';
import { GatehouseError } from '../../gateway/core/errors.js';
import type { Logger } from '../../gateway/core/log.js';

import {
  Cmd,
  type BuzzerControl,
  type LedControl,
  type OutputControl,
  type ReaderEvent,
  type ReaderLinkStatus,
  type OsdpFrame,
} from './types.js';
import { openSerialLine, type OsdpLine } from './line.js';
import { CpDeframer, encodeBuzzer, encodeCommand, encodeKeyset, encodeLed, encodeOutput } from './cp-codec.js';
import { ReaderMachine } from './cp-reader.js';
import type { Job, LineState, OsdpBusConfig, OsdpControlPanelEvents, OsdpControlPanelOptions, OsdpLineStats, PdLink } from './cp-types.js';

export type {
  OsdpBusConfig,
  OsdpControlPanelEvents,
  OsdpControlPanelOptions,
  OsdpLineStats,
  OsdpReaderOptions,
  SecureMode,
} from './cp-types.js';

/** Bits per character on the wire: start + 8 data + stop (OSDP is 8N1). */
const BITS_PER_CHAR = 10;

export class OsdpControlPanel extends EventEmitter<OsdpControlPanelEvents> {
  private readonly bus: OsdpBusConfig;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly log: Logger;
  private readonly line: OsdpLine;
  private readonly machine: ReaderMachine;
  private readonly links = new Map<number, PdLink>();
  private readonly order: PdLink[];
  private readonly deframer = new CpDeframer();
  private readonly interCharMs: number;
  private readonly lineBackoff: { minMs: number; maxMs: number };

  private state: LineState = 'idle';
  private rr = 0;
  private roundPauseUntil = 0;
  private userQueue: Job[] = [];
  private inFlight: { job: Job; timer: TimerHandle } | undefined;
  private wake: TimerHandle | undefined;
  private wakeAt = Infinity;
  private kicked = false;
  private lastByteAt = -Infinity;
  private reopenTimer: TimerHandle | undefined;
  private reopenDelay: number;
  private linkToken = 0;
  private readonly counters = {
    framesSent: 0,
    bytesSent: 0,
    framesReceived: 0,
    bytesReceived: 0,
    droppedWrongAddress: 0,
    droppedWrongSqn: 0,
    droppedUnexpected: 0,
    badFrames: 0,
    interCharResets: 0,
    secureErrors: 0,
    reopens: 0,
  };

  constructor(opts: OsdpControlPanelOptions) {
    super();
    this.bus = opts.bus;
    this.clock = opts.clock;
    this.timers = opts.timers;
    this.log = opts.log;
    this.interCharMs = opts.interCharTimeoutMs ?? 20;
    this.lineBackoff = opts.lineBackoff ?? { minMs: 250, maxMs: 10_000 };
    this.reopenDelay = this.lineBackoff.minMs;
    this.line = (opts.openPort ?? openSerialLine)(opts.bus.path, opts.bus.baudRate);
    this.machine = new ReaderMachine({
      clock: opts.clock,
      log: opts.log,
      backoff: opts.readerBackoff ?? { minMs: 500, maxMs: 8000 },
      offlineAfterMisses: opts.bus.offlineAfterMisses,
      emit: (e) => this.emitEvent(e),
      rejectQueued: (link, err) => this.rejectQueued(link, err),
      requeueFront: (job) => this.userQueue.unshift(job),
      ...(opts.random ? { random: opts.random } : {}),
    });
    for (const r of opts.readers) {
      if (!Number.isInteger(r.address) || r.address < 0 || r.address > 126)
        throw new GatehouseError('CONFIG_INVALID', `OSDP address must be 0-126, got ${r.address}`);
      if (this.links.has(r.address))
        throw new GatehouseError('CONFIG_INVALID', `OSDP address ${r.address} is used twice on ${opts.bus.id}`);
      if (r.secure === 'required' && r.key?.length !== 16)
        throw new GatehouseError('CONFIG_INVALID', `reader ${r.address} on ${opts.bus.id}: secure 'required' needs a 16-byte key`);
      this.links.set(r.address, this.machine.newLink(r));
    }
    this.order = [...this.links.values()];
    this.line.onData((chunk) => this.onData(chunk));
    this.line.onClose((reason) => {
      if (this.state === 'open') this.lineDown(reason);
    });
  }

  /** Opens the line; never rejects: a line that cannot open is retried with backoff. */
  start(): void {
    if (this.state !== 'idle') return;
    this.openLine();
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    this.linkToken++;
    this.reopenTimer?.cancel();
    this.wake?.cancel();
    this.failEverything('stopped');
    await this.line.close();
  }

  status(): ReaderLinkStatus[] {
    return this.order.map((l) => ({
      address: l.address,
      online: l.online,
      secure: l.secure,
      ...(l.identity ? { identity: l.identity } : {}),
      ...(l.lastSeen !== undefined ? { lastSeen: l.lastSeen } : {}),
      naks: l.naks,
      timeouts: l.timeouts,
    }));
  }

  stats(): OsdpLineStats {
    return {
      state: this.state,
      ...this.counters,
      readers: this.order.map((l) => ({ address: l.address, phase: l.phase, polls: l.polls, replies: l.replies, misses: l.misses })),
    };
  }

  output(address: number, controls: OutputControl[]): Promise<void> {
    return this.command(address, Cmd.OUT, () => encodeOutput(controls));
  }
  led(address: number, led: LedControl): Promise<void> {
    return this.command(address, Cmd.LED, () => encodeLed(led));
  }
  buzzer(address: number, buzzer: BuzzerControl): Promise<void> {
    return this.command(address, Cmd.BUZ, () => encodeBuzzer(buzzer));
  }
  /** Sets a new SCBK over the open secure channel; the next session uses it. */
  keyset(address: number, key: Uint8Array): Promise<void> {
    const link = this.links.get(address);
    if (link && link.online && !link.secure)
      return Promise.reject(
        new GatehouseError('DEVICE_REFUSED', `reader ${address} has no secure channel: a key is never sent in clear`, { address }),
      );
    if (key.length !== 16) return Promise.reject(new GatehouseError('CMD_INVALID', 'an OSDP key is 16 bytes'));
    return this.command(address, Cmd.KEYSET, () => encodeKeyset(key), key);
  }

  private command(address: number, code: number, payload: () => Uint8Array, newKey?: Uint8Array): Promise<void> {
    const link = this.links.get(address);
    if (!link)
      return Promise.reject(new GatehouseError('DEVICE_UNKNOWN', `no reader at address ${address} on ${this.bus.id}`, { address }));
    if (this.state !== 'open' || link.phase !== 'ready' || !link.online)
      return Promise.reject(this.offline(link, this.state !== 'open' ? 'line down' : 'reader offline'));
    let data: Uint8Array;
    try {
      data = payload();
    } catch (err) {
      return Promise.reject(new GatehouseError('CMD_INVALID', err instanceof Error ? err.message : String(err), { address }));
    }
    return new Promise<void>((resolve, reject) => {
      this.userQueue.push({
        link,
        kind: 'user',
        code,
        data,
        sends: 0,
        resolve,
        reject,
        ...(newKey ? { newKey: Uint8Array.from(newKey) } : {}),
      } as Job);
      this.kick();
    });
  }

  private offline(link: PdLink, reason: string): GatehouseError {
    return new GatehouseError('DEVICE_OFFLINE', `reader ${link.address} on ${this.bus.id}: ${reason}`, { address: link.address, reason });
  }

  private emitEvent(e: ReaderEvent): void {
    // Stopping the gateway is not a reader going offline: no events from the teardown.
    if (this.state === 'stopped') return;
    try {
      this.emit('event', e);
    } catch (err) {
      // A throwing listener must not wedge the line with a command in flight.
      this.log.error({ err, event: e.kind }, 'OSDP event listener threw');
    }
  }

  // --- scheduling -------------------------------------------------------------------------

  /** Runs the scheduler after the current call stack: a fake line answering inside write() must not recurse. */
  private kick(): void {
    if (this.kicked) return;
    this.kicked = true;
    queueMicrotask(() => {
      this.kicked = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.state !== 'open' || this.inFlight) return;
    const job = this.nextJob();
    if (job) this.send(job);
  }

  private nextJob(): Job | undefined {
    // 1. Commands from the access logic, in order, ahead of the round robin; a reader that
    //    owes a retransmission gets it first (same SQN), so its later commands wait.
    for (let i = 0; i < this.userQueue.length; i++) {
      const j = this.userQueue[i]!;
      if (j.link.retransmit && j.link.retransmit !== j) continue;
      this.userQueue.splice(i, 1);
      j.link.retransmit = undefined;
      return j;
    }
    const now = this.clock.monotonic();
    if (now < this.roundPauseUntil) return this.sleepUntil(this.roundPauseUntil);
    // 2. The round robin: every reader that is due, one command each.
    let earliest = Infinity;
    for (let i = 0; i < this.order.length; i++) {
      const link = this.order[this.rr]!;
      this.rr = (this.rr + 1) % this.order.length;
      if (this.rr === 0 && this.bus.idleMs > 0) this.roundPauseUntil = now + this.bus.idleMs;
      const due = this.machine.dueAt(link);
      if (due > now) {
        earliest = Math.min(earliest, due);
        continue;
      }
      const retransmit = link.retransmit;
      if (retransmit) {
        link.retransmit = undefined;
        if (retransmit.kind === 'user') this.userQueue = this.userQueue.filter((j) => j !== retransmit);
        return retransmit;
      }
      return this.machine.nextJob(link);
    }
    return this.sleepUntil(earliest);
  }

  private sleepUntil(at: number): undefined {
    if (at === Infinity || (this.wake && this.wakeAt <= at)) return undefined;
    this.wake?.cancel();
    this.wakeAt = at;
    this.wake = this.timers.setTimeout(
      () => {
        this.wake = undefined;
        this.wakeAt = Infinity;
        this.pump();
      },
      Math.max(0, at - this.clock.monotonic()),
    );
    return undefined;
  }

  private send(job: Job): void {
    const link = job.link;
    if (!job.bytes) {
      job.sqn = link.sqn;
      try {
        job.bytes = encodeCommand(link.address, link.sqn, job.code, job.data, link.session);
      } catch (err) {
        this.log.error({ err, address: link.address, code: job.code }, 'OSDP command could not be encoded');
        job.reject?.(
          new GatehouseError('INTERNAL', `reader ${link.address}: command could not be encoded`, { address: link.address }, { cause: err }),
        );
        this.kick();
        return;
      }
    }
    job.sends++;
    if (job.kind === 'poll') link.polls++;
    this.counters.framesSent++;
    this.counters.bytesSent += job.bytes.length;
    // The reply window opens when our last byte has left the wire.
    const wireMs = (job.bytes.length * BITS_PER_CHAR * 1000) / this.bus.baudRate;
    const timer = this.timers.setTimeout(() => this.onTimeout(job), this.bus.replyTimeoutMs + wireMs);
    this.inFlight = { job, timer };
    this.line.write(job.bytes);
  }

  private onTimeout(job: Job): void {
    if (this.inFlight?.job !== job) return;
    this.inFlight = undefined;
    this.machine.timedOut(job);
    this.pump();
  }

  private onData(chunk: Uint8Array): void {
    const now = this.clock.monotonic();
    if (this.deframer.pending > 0 && now - this.lastByteAt > this.interCharMs) {
      this.deframer.reset();
      this.counters.interCharResets++;
    }
    this.lastByteAt = now;
    this.counters.bytesReceived += chunk.length;
    const { frames, errors } = this.deframer.push(chunk);
    this.counters.badFrames += errors;
    for (const f of frames) this.onFrame(f);
  }

  private onFrame(f: OsdpFrame & { raw: Uint8Array }): void {
    const flight = this.inFlight;
    if (!f.reply || !flight) {
      this.counters.droppedUnexpected++;
      return;
    }
    const job = flight.job;
    if (f.address !== job.link.address) {
      this.counters.droppedWrongAddress++;
      return;
    }
    if (f.sqn !== job.sqn) {
      this.counters.droppedWrongSqn++;
      return;
    }
    flight.timer.cancel();
    this.inFlight = undefined;
    this.counters.framesReceived++;
    if (!this.machine.replied(job, f)) this.counters.secureErrors++;
    this.kick();
  }

  private rejectQueued(link: PdLink, err: GatehouseError): void {
    const mine = this.userQueue.filter((j) => j.link === link);
    this.userQueue = this.userQueue.filter((j) => j.link !== link);
    for (const j of mine) j.reject?.(err);
  }

  private failEverything(reason: string): void {
    const flight = this.inFlight;
    this.inFlight = undefined;
    flight?.timer.cancel();
    if (flight?.job.kind === 'user') flight.job.reject?.(this.offline(flight.job.link, reason));
    for (const link of this.order) this.machine.lineLost(link, reason);
    for (const j of this.userQueue) j.reject?.(this.offline(j.link, reason));
    this.userQueue = [];
  }

  // --- the line ---------------------------------------------------------------------------

  private openLine(): void {
    this.state = 'opening';
    const token = ++this.linkToken;
    this.line.open().then(
      () => {
        if (token !== this.linkToken) return;
        this.state = 'open';
        this.reopenDelay = this.lineBackoff.minMs;
        this.deframer.reset();
        this.log.info({ line: this.line.describe() }, 'OSDP line open');
        this.emit('lineUp');
        this.kick();
      },
      (err: unknown) => {
        if (token !== this.linkToken || this.state === 'stopped') return;
        this.state = 'down';
        this.log.debug(
          { line: this.line.describe(), err: err instanceof Error ? err.message : String(err), retryInMs: this.reopenDelay },
          'OSDP line cannot open',
        );
        this.scheduleReopen();
      },
    );
  }

  private lineDown(reason: string): void {
    this.state = 'down';
    this.linkToken++;
    this.failEverything('line down');
    this.log.warn({ line: this.line.describe(), reason, retryInMs: this.reopenDelay }, 'OSDP line down');
    this.emit('lineDown', reason);
    void this.line.close();
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    this.reopenTimer?.cancel();
    const delay = this.reopenDelay;
    this.reopenDelay = Math.min(this.reopenDelay * 2, this.lineBackoff.maxMs);
    this.reopenTimer = this.timers.setTimeout(() => {
      this.reopenTimer = undefined;
      if (this.state === 'down') {
        this.counters.reopens++;
        this.openLine();
      }
    }, delay);
  }
}
