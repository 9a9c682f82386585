/**
 * The outbox's disk-full state: entered when a commit fails for lack of space even after
 * evicting telemetry and giving back the reserve; left by itself once a retry (injected
 * timers, every `outbox.diskRetryMs`) can re-create the reserve and commit.
 *
 * The condition is reported as pinned `system` events `outbox.disk_full`: `state: full`
 * (committed at once with the reserve's room, or with its original time at the first
 * commit that succeeds) and `state: recovered` with how many events were refused.
 */
import type { Clock, TimerHandle, Timers } from '../core/clock.js';
import type { EventDataMap, EventInput } from '../core/events.js';
import type { DiskReserve } from './disk-space.js';

/** The disk-full condition as reported in events and to listeners. */
export interface DiskFullInfo {
  since: number;
  code: string;
  rejected: number;
}

export interface DiskFullStateOptions {
  clock: Clock;
  timers: Timers;
  retryMs: number;
  reserve: DiskReserve;
  /** Commits these events at once, ahead of anything queued; true when they are on disk. */
  commitNow(events: { input: EventInput; ts: number }[]): boolean;
  onFull(info: DiskFullInfo): void;
  onRecovered(info: DiskFullInfo & { until: number }): void;
}

const SOURCE = { device: 'gateway', point: 'outbox' };

export class DiskFullState {
  private current: (DiskFullInfo & { reported: boolean }) | undefined;
  private retry: TimerHandle | undefined;

  constructor(private readonly o: DiskFullStateOptions) {}

  get active(): boolean {
    return this.current !== undefined;
  }

  /** For `status`: since when, how many refused, the first storage error. */
  view(): { since: string; rejected: number; code: string } | null {
    const c = this.current;
    return c ? { since: new Date(c.since).toISOString(), rejected: c.rejected, code: c.code } : null;
  }

  /** Starts the state once: reports it and arms the retry. */
  enter(code: string): void {
    if (this.current) return;
    this.current = { since: this.o.clock.now(), code, rejected: 0, reported: false };
    this.commitReports(false);
    this.retry ??= this.o.timers.setInterval(() => this.probe(), this.o.retryMs);
    this.o.onFull(this.info());
  }

  /** Counts events that were refused while the disk is full. */
  refused(events: number): void {
    if (this.current) this.current.rejected += events;
  }

  /** The retry: space is back when the reserve fits again and the reports commit. */
  probe(): void {
    if (!this.current) return;
    if (!this.o.reserve.ensure()) return;
    if (!this.commitReports(true)) return;
    const info = { ...this.info(), until: this.o.clock.now() };
    this.current = undefined;
    this.stop();
    this.o.onRecovered(info);
  }

  stop(): void {
    this.retry?.cancel();
    this.retry = undefined;
  }

  private info(): DiskFullInfo {
    const { since, code, rejected } = this.current!;
    return { since, code, rejected };
  }

  /** The start (if not yet on disk, stamped with its own time) and, with `recovered`, the end. */
  private commitReports(recovered: boolean): boolean {
    const s = this.current!;
    const now = this.o.clock.now();
    const since = new Date(s.since).toISOString();
    const events: { input: EventInput; ts: number }[] = [];
    const add = (data: EventDataMap['outbox.disk_full'], ts: number) => {
      events.push({ input: { class: 'system', type: 'outbox.disk_full', source: SOURCE, data }, ts });
    };
    if (!s.reported) add({ state: 'full', since, code: s.code }, s.since);
    if (recovered) add({ state: 'recovered', since, until: new Date(now).toISOString(), rejected: s.rejected }, now);
    if (events.length === 0) return true;
    const ok = this.o.commitNow(events);
    if (ok) s.reported = true;
    return ok;
  }
}
