/**
 * Flood control of an alarm's noisy events (re-triggers, and clears of a flapping
 * condition): at most one per alarm per RETRIGGER_EVENT_INTERVAL_MS; one held back is
 * recorded when the window ends, with whatever the alarm looks like then. Every recorded
 * event carries the full count and state, so it supersedes a held-back one.
 */
import type { Clock, TimerHandle, Timers } from '../core/clock.js';

/** Flood control: at most one "it happened again" event per alarm per this long. */
export const RETRIGGER_EVENT_INTERVAL_MS = 60_000;

interface Flood {
  lastNoisyAt?: number;
  pending: boolean;
  timer?: TimerHandle;
  clearedOnce: boolean;
}

export interface FloodControlOptions {
  clock: Clock;
  timers: Timers;
  stopped: () => boolean;
  /** Records the held-back event of an alarm at the end of its window; false when the alarm is no longer open. */
  recordLate: (alarmId: string) => boolean;
}

export class FloodControl {
  private readonly flood = new Map<string, Flood>();

  constructor(private readonly opts: FloodControlOptions) {}

  private floodOf(id: string): Flood {
    let f = this.flood.get(id);
    if (!f) this.flood.set(id, (f = { pending: false, clearedOnce: false }));
    return f;
  }

  /** True for the alarm's first clear, which always goes out at once. */
  firstClear(id: string): boolean {
    const f = this.floodOf(id);
    if (f.clearedOnce) return false;
    f.clearedOnce = true;
    return true;
  }

  /** True when a noisy event may be recorded now; otherwise it is held back for the end of the window. */
  noisy(id: string): boolean {
    const f = this.floodOf(id);
    const now = this.opts.clock.monotonic();
    if (f.lastNoisyAt === undefined || now - f.lastNoisyAt >= RETRIGGER_EVENT_INTERVAL_MS) {
      f.lastNoisyAt = now;
      return true;
    }
    f.pending = true;
    if (f.timer || this.opts.stopped()) return false;
    f.timer = this.opts.timers.setTimeout(
      () => {
        f.timer = undefined;
        if (!f.pending) return;
        const at = this.opts.clock.monotonic();
        if (this.opts.recordLate(id)) f.lastNoisyAt = at;
      },
      f.lastNoisyAt + RETRIGGER_EVENT_INTERVAL_MS - now,
    );
    return false;
  }

  /** An event of the alarm was recorded: it supersedes a held-back one. */
  superseded(id: string): void {
    const f = this.flood.get(id);
    if (f) f.pending = false;
  }

  /** The alarm closed: nothing of it is held back any more. */
  forget(id: string): void {
    this.flood.get(id)?.timer?.cancel();
    this.flood.delete(id);
  }

  /** At stop: cancels every window; returns the alarms with an event held back, in order. */
  drainPending(): string[] {
    const pending: string[] = [];
    for (const [id, f] of this.flood) {
      f.timer?.cancel();
      f.timer = undefined;
      if (f.pending) pending.push(id);
    }
    return pending;
  }
}
