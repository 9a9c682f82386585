/**
 * One polled Modbus unit on a shared bus: what a charging cabinet and a digital input
 * module have in common, written once. The family gives the reads of one poll and what to
 * do with the answer (register decoding, safety, zones); this file owns the rest:
 *
 * - the poll schedule: one poll at a time, on a grid of `pollMs` (the next one `pollMs` after the last was due)
 *   (a slow poll is not followed by a burst of catch-up polls);
 * - presence: online when a poll answers, offline when the bus says the unit stopped
 *   answering or its line is down, announced through the gateway's presence tracker
 *   (which damps flapping); a unit that has never answered is not reported offline during
 *   a boot grace, because the link may still be opening;
 * - the backoff for a dead unit is the bus's (drivers/modbus/bus.ts): after `deadAfter`
 *   misses its requests fail fast with DEVICE_OFFLINE and only one probe per doubling
 *   backoff step reaches the wire, so the unit keeps its poll cadence without costing the
 *   other units on the line a timeout per poll;
 * - per-unit failure isolation: every unit listens to its bus's unit events itself, and a
 *   unit whose handler throws is logged without keeping the event from the others.
 *
 * A reading the unit answered but that cannot be trusted (a Modbus exception, a register
 * map that does not fit) is the family's to judge (`answeredBadly`): the unit is alive, so
 * it never counts as offline here; the cabinet's supervision (cabinet-supervision.ts)
 * counts such polls as blind.
 */
import type { Clock, TimerHandle, Timers } from '../core/clock.js';
import { isGatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import {
  passThroughPresence,
  type DeviceFamily,
  type DevicePresence,
  type PresenceAnnouncement,
  type PresenceTracker,
} from '../presence/presence-policy.js';

/** A unit that has never answered is reported offline only after this (the link may still be opening). */
export const BOOT_GRACE_MS = 5000;

/** What of the bus a polled unit uses itself; the family's reads go through its own handle. */
export interface PolledBus {
  isReachable(unitId: number): boolean;
  on(event: 'unitOffline', listener: (unitId: number, reason: string) => void): unknown;
  on(event: 'unitOnline', listener: (unitId: number) => void): unknown;
  off(event: 'unitOffline', listener: (unitId: number, reason: string) => void): unknown;
  off(event: 'unitOnline', listener: (unitId: number) => void): unknown;
}

export interface PolledUnitOptions<T> {
  /** The device id (config id). */
  id: string;
  unitId: number;
  pollMs: number;
  bus: PolledBus;
  clock: Clock;
  timers: Timers;
  log: Logger;
  /** Presence family, and the key and words of the log lines: `{ cabinet: id }`, "cabinet offline". */
  family: DeviceFamily;
  logKey: string;
  label: string;
  /** Decides what of the raw online/offline is announced (gateway/presence); default: everything. */
  presence?: PresenceTracker;
  /** What the presence policy decided to announce. */
  announce(a: PresenceAnnouncement): void;
  /** The reads of one poll. Throws the bus's coded errors. */
  read(): Promise<T>;
  /**
   * One answered poll, at monotonic `at`. Calls `answered()` where its order needs it (the
   * cabinet after its safety writes are queued); if it does not, the unit is marked online
   * after it returns.
   */
  onReading(value: T, at: number): void;
  /** The unit answered with something the family cannot use (DEVICE_PROTOCOL, DEVICE_REFUSED). */
  answeredBadly?(err: unknown, code: string): void;
  /** The unit may have changed (it went offline, or answers again after being dead): forget its identity. */
  forget?(): void;
  /** After the unit went offline and presence observed it. */
  wentOffline?(reason: string): void;
  /** How long each answered poll took, all its reads (the metrics' gatehouse_poll_cycle_seconds). */
  pollCycle?(seconds: number): void;
}

export class PolledUnit<T> {
  /** null until the first poll settles (or the bus reports the unit offline). */
  online: boolean | null = null;
  /** Answered polls, for tests and status. */
  polls = 0;
  readonly presence: DevicePresence;
  private timer: TimerHandle | undefined;
  private running = false;
  private startedMono = 0;
  private lastError: string | undefined;
  private readonly onOffline = (unitId: number, reason: string): void => {
    if (unitId === this.o.unitId) this.isolated('unitOffline', () => this.markOffline(reason));
  };
  private readonly onOnline = (unitId: number): void => {
    if (unitId === this.o.unitId) this.isolated('unitOnline', () => this.o.forget?.());
  };

  constructor(private readonly o: PolledUnitOptions<T>) {
    this.presence = (o.presence ?? passThroughPresence).track(o.id, o.family, (a) => o.announce(a));
  }

  get id(): string {
    return this.o.id;
  }

  /** Listens to the bus and schedules the first poll at once (it runs when the timers next turn). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedMono = this.o.clock.monotonic();
    this.o.bus.on('unitOffline', this.onOffline);
    this.o.bus.on('unitOnline', this.onOnline);
    this.schedule(0);
  }

  stop(): void {
    if (this.running) {
      this.o.bus.off('unitOffline', this.onOffline);
      this.o.bus.off('unitOnline', this.onOnline);
    }
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** The unit answered: online (once per change), announced through the presence policy. `detail`: for the log line. */
  answered(detail: Record<string, unknown> = {}): void {
    if (this.online === true) return;
    this.online = true;
    this.o.log.info({ [this.o.logKey]: this.o.id, ...detail }, `${this.o.label} online`);
    this.presence.observe(true);
  }

  /** The bus says the unit stopped answering (or the link is down). */
  markOffline(reason: string): void {
    this.o.forget?.();
    if (this.online === false) return;
    this.online = false;
    this.o.log.warn({ [this.o.logKey]: this.o.id, reason }, `${this.o.label} offline`);
    this.presence.observe(false, reason);
    this.o.wentOffline?.(reason);
  }

  /**
   * Polls keep to a grid of pollMs from the first one: a timer fires late by however busy the
   * event loop is, and counting each period from when the (late) poll began added that
   * lateness to every period, so a busy gateway made fewer polls than due (issue 18: 96 % at
   * 64 cabinets). After a stall longer than a period the grid starts again from the late poll:
   * no burst of catch-up polls.
   */
  private due = 0;

  private schedule(ms: number, due = this.o.clock.monotonic() + ms): void {
    if (!this.running) return;
    this.due = due;
    this.timer = this.o.timers.setTimeout(() => void this.poll(), ms);
  }

  /** `began`: when the poll that just ended began. */
  private scheduleNext(began: number): void {
    let next = this.due + this.o.pollMs;
    // It began after the next one was due: a whole period was lost (a stall), so the grid starts again from it.
    if (next < began) next = began + this.o.pollMs;
    this.schedule(Math.max(0, next - this.o.clock.monotonic()), next);
  }

  private async poll(): Promise<void> {
    const began = this.o.clock.monotonic();
    try {
      const value = await this.o.read();
      if (!this.running) return;
      this.o.pollCycle?.((this.o.clock.monotonic() - began) / 1000);
      this.polls++;
      this.lastError = undefined;
      this.o.onReading(value, this.o.clock.monotonic());
      this.answered();
    } catch (err) {
      if (this.running) this.onPollError(err);
    } finally {
      this.scheduleNext(began);
    }
  }

  private onPollError(err: unknown): void {
    const code = isGatehouseError(err) ? err.code : 'INTERNAL';
    const message = (err as Error).message;
    const booting = this.online === null && this.o.clock.monotonic() - this.startedMono < Math.max(BOOT_GRACE_MS, 3 * this.o.pollMs);
    if (code === 'DEVICE_PROTOCOL' || code === 'DEVICE_REFUSED') this.o.answeredBadly?.(err, code);
    else if (booting) {
      // Still opening the link at start-up: not news yet.
    } else if (code === 'DEVICE_OFFLINE' || !this.o.bus.isReachable(this.o.unitId)) {
      this.markOffline(code === 'DEVICE_OFFLINE' ? 'no_answer' : 'bus_down');
    }
    if (this.lastError !== message) this.o.log.warn({ [this.o.logKey]: this.o.id, code, err: message }, `${this.o.label} poll failed`);
    this.lastError = message;
  }

  /** One unit's handler failing must not keep a bus event from the other units on the line. */
  private isolated(event: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.o.log.error({ [this.o.logKey]: this.o.id, event, err: (err as Error).message }, `${this.o.label}: handling a bus event failed`);
    }
  }
}
