/**
 * The link of a Modbus bus (a serial line or a TCP connection): opened with a timeout, and
 * reopened with exponential backoff when it cannot open or goes away (unplugged USB adapter,
 * rebooted TCP device). A token per attempt drops the late outcome of an abandoned one.
 */
import type { Clock, TimerHandle, Timers } from '../../gateway/core/clock.js';
import type { Logger } from '../../gateway/core/log.js';
import type { Backoff, BusState } from './bus-types.js';
import type { ModbusTransport } from './transport.js';

export interface ModbusLinkOptions {
  name: string;
  transport: ModbusTransport;
  backoff: Backoff;
  openTimeoutMs: number;
  clock: Clock;
  timers: Timers;
  log: Logger;
  /** The link is open (again); `downForMs` is null at the first open. */
  onUp: (downForMs: number | null) => void;
  /** The open link went away; `retryInMs` is when the next open is tried. */
  onDown: (reason: string, retryInMs: number) => void;
}

export class ModbusLink {
  state: BusState = 'idle';
  reconnects = 0;
  private token = 0;
  private reopenTimer: TimerHandle | undefined;
  private reopenDelay: number;
  private downSince: number | null = null;

  constructor(private readonly o: ModbusLinkOptions) {
    this.reopenDelay = o.backoff.minMs;
  }

  /** No more opens; an open in progress is abandoned. */
  stop(): void {
    this.state = 'stopped';
    this.token++;
    this.reopenTimer?.cancel();
    this.reopenTimer = undefined;
  }

  open(): void {
    this.state = 'opening';
    const token = ++this.token;
    let done = false;
    const timer = this.o.timers.setTimeout(() => {
      if (done || token !== this.token) return;
      done = true;
      void this.o.transport.close();
      this.openFailed(`open timed out after ${this.o.openTimeoutMs} ms`);
    }, this.o.openTimeoutMs);
    this.o.transport.open().then(
      () => {
        timer.cancel();
        if (done || token !== this.token) return;
        done = true;
        this.up();
      },
      (err: unknown) => {
        timer.cancel();
        if (done || token !== this.token) return;
        done = true;
        this.openFailed(err instanceof Error ? err.message : String(err));
      },
    );
  }

  private up(): void {
    this.state = 'open';
    this.reopenDelay = this.o.backoff.minMs;
    if (this.downSince !== null) this.reconnects++;
    const downFor = this.downSince === null ? null : this.o.clock.monotonic() - this.downSince;
    this.downSince = null;
    this.o.onUp(downFor);
  }

  private openFailed(reason: string): void {
    if (this.state === 'stopped') return;
    const first = this.downSince === null;
    if (first) this.downSince = this.o.clock.monotonic();
    this.state = 'down';
    // Once per outage at warn; an adapter left unplugged all night must not flood journald.
    if (first) this.o.log.warn({ bus: this.o.name, reason, retryInMs: this.reopenDelay }, 'modbus bus cannot open');
    else this.o.log.debug({ bus: this.o.name, reason, retryInMs: this.reopenDelay }, 'modbus bus still cannot open');
    this.scheduleReopen();
  }

  /** The open link went away (closed by the transport, or a request found it closed). */
  down(reason: string): void {
    this.state = 'down';
    this.token++;
    this.downSince = this.o.clock.monotonic();
    this.o.onDown(reason, this.reopenDelay);
    void this.o.transport.close();
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    this.reopenTimer?.cancel();
    const delay = this.reopenDelay;
    this.reopenDelay = Math.min(this.reopenDelay * 2, this.o.backoff.maxMs);
    this.reopenTimer = this.o.timers.setTimeout(() => {
      this.reopenTimer = undefined;
      if (this.state === 'down') this.open();
    }, delay);
  }
}
