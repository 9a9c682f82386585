import { existsSync } from 'node:fs';

/**
 * Time is injected everywhere so that logic is testable without real sleeps and so that
 * the "is the wall clock trustworthy" question (a Raspberry Pi has no RTC) has one answer.
 */
export type ClockState = 'synced' | 'unsynced';

export interface Clock {
  /** Wall-clock milliseconds since the epoch. */
  now(): number;
  /** Monotonic milliseconds, for durations and timeouts; never jumps when NTP steps the clock. */
  monotonic(): number;
  /** Whether the wall clock has been synchronised (NTP) since boot. */
  state(): ClockState;
}

export interface TimerHandle {
  cancel(): void;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  setInterval(fn: () => void, ms: number): TimerHandle;
}

export const realTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref?.();
    return { cancel: () => clearInterval(t) };
  },
};

/**
 * systemd-timesyncd touches this file once the clock has been synchronised; chrony and
 * ntpd users can point `clock.syncedFlagFile` elsewhere or force the state in config.
 */
export const DEFAULT_SYNC_FLAG = '/run/systemd/timesync/synchronized';

export function systemClock(opts: { syncedFlagFile?: string; forceState?: ClockState; exists?: (path: string) => boolean } = {}): Clock {
  const started = performance.now();
  let cached: { state: ClockState; at: number } | undefined;
  return {
    now: () => Date.now(),
    monotonic: () => performance.now() - started,
    state() {
      if (opts.forceState) return opts.forceState;
      const t = performance.now();
      // A stat per event would be wasteful; the answer changes once per boot at most.
      if (cached && t - cached.at < 5000) return cached.state;
      const exists = opts.exists ?? defaultExists;
      const state: ClockState = exists(opts.syncedFlagFile ?? DEFAULT_SYNC_FLAG) ? 'synced' : 'unsynced';
      cached = { state, at: t };
      return state;
    },
  };
}

function defaultExists(path: string): boolean {
  return existsSync(path);
}

/** A hand-driven clock and timer wheel for unit tests. */
export class ManualClock implements Clock, Timers {
  private wall: number;
  private mono = 0;
  private syncState: ClockState;
  private timers: { at: number; fn: () => void; every?: number; id: number }[] = [];
  private nextId = 1;

  constructor(startWall = Date.UTC(2026, 10, 21, 12, 0, 0), state: ClockState = 'synced') {
    this.wall = startWall;
    this.syncState = state;
  }
  now(): number {
    return this.wall;
  }
  monotonic(): number {
    return this.mono;
  }
  state(): ClockState {
    return this.syncState;
  }
  setState(s: ClockState): void {
    this.syncState = s;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.push({ at: this.mono + ms, fn, id });
    return {
      cancel: () => {
        this.timers = this.timers.filter((t) => t.id !== id);
      },
    };
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.push({ at: this.mono + ms, fn, every: ms, id });
    return {
      cancel: () => {
        this.timers = this.timers.filter((t) => t.id !== id);
      },
    };
  }
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const target = this.mono + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.wall += next.at - this.mono;
      this.mono = next.at;
      if (next.every) next.at += next.every;
      else this.timers.shift();
      next.fn();
    }
    this.wall += target - this.mono;
    this.mono = target;
  }
}
