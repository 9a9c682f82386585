/**
 * Keeps a flood of bad commands from one caller from filling the outbox and the log.
 *
 * Every refused command is normally answered and audited. Past `auditPerMinute`
 * refusals in one minute from the same caller, refusals are only counted, and one
 * summary per caller and minute is recorded instead; past `replyPerMinute`, they are
 * no longer answered either (answers sit in the outbox until the uplink drains them).
 * Commands that pass validation and run are never limited: those ids are claimed in the
 * replay store, so a caller cannot repeat them, and their audit trail must be complete.
 */
import type { Clock, TimerHandle, Timers } from '../core/clock.js';
import type { Caller } from './types.js';

export interface RefusalLimits {
  /** Refusals per caller and minute that are audited one by one. */
  auditPerMinute: number;
  /** Refusals per caller and minute that still get an answer (at least auditPerMinute). */
  replyPerMinute: number;
}

export const DEFAULT_REFUSAL_LIMITS: RefusalLimits = { auditPerMinute: 20, replyPerMinute: 120 };

export interface RefusalSummary {
  caller: Caller;
  /** Refusals that were not audited one by one. */
  count: number;
  /** Of those, how many got no answer. */
  unanswered: number;
  byCode: Record<string, number>;
  from: string;
  to: string;
}

interface Window {
  caller: Caller;
  startMono: number;
  startWall: number;
  count: number;
  suppressed: number;
  unanswered: number;
  byCode: Record<string, number>;
  timer: TimerHandle | undefined;
}

const WINDOW_MS = 60_000;
/** Bounds memory whatever the number of distinct principals (console users are few). */
const MAX_CALLERS = 1000;

export class RefusalLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly limits: RefusalLimits,
    private readonly onSummary: (s: RefusalSummary) => void,
  ) {}

  /** Counts one refusal and says what may be done about it. */
  admit(caller: Caller, code: string): { audit: boolean; reply: boolean } {
    const key = `${caller.via}\u0000${caller.role}\u0000${caller.principal}`;
    const now = this.clock.monotonic();
    let w = this.windows.get(key);
    if (w && now - w.startMono >= WINDOW_MS) {
      this.close(key, w);
      w = undefined;
    }
    if (!w) {
      if (this.windows.size >= MAX_CALLERS) this.evictOldest();
      w = {
        caller: { ...caller },
        startMono: now,
        startWall: this.clock.now(),
        count: 0,
        suppressed: 0,
        unanswered: 0,
        byCode: {},
        timer: undefined,
      };
      this.windows.set(key, w);
    }
    w.count++;
    const audit = w.count <= this.limits.auditPerMinute;
    const reply = w.count <= Math.max(this.limits.replyPerMinute, this.limits.auditPerMinute);
    if (!audit) {
      w.suppressed++;
      if (!reply) w.unanswered++;
      w.byCode[code] = (w.byCode[code] ?? 0) + 1;
      // Report at the end of the window even if the flood stops and nothing else arrives.
      if (!w.timer) {
        const win = w;
        w.timer = this.timers.setTimeout(() => this.close(key, win), Math.max(0, win.startMono + WINDOW_MS - now));
      }
    }
    return { audit, reply };
  }

  /** Reports every open window that suppressed something (e.g. at shutdown). */
  flush(): void {
    for (const [key, w] of [...this.windows]) this.close(key, w);
  }

  private close(key: string, w: Window): void {
    w.timer?.cancel();
    w.timer = undefined;
    if (this.windows.get(key) === w) this.windows.delete(key);
    if (w.suppressed === 0) return;
    const summary: RefusalSummary = {
      caller: w.caller,
      count: w.suppressed,
      unanswered: w.unanswered,
      byCode: w.byCode,
      from: new Date(w.startWall).toISOString(),
      to: new Date(w.startWall + Math.min(WINDOW_MS, Math.max(0, this.clock.now() - w.startWall))).toISOString(),
    };
    w.suppressed = 0;
    this.onSummary(summary);
  }

  private evictOldest(): void {
    const first = this.windows.entries().next();
    if (!first.done) this.close(first.value[0], first.value[1]);
  }
}
