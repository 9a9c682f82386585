/**
 * The retained `state/alarms`: what a guard's list shows (open alarms, highest priority then
 * newest first), written at most once per debounce interval. A failed write is logged, never
 * thrown: the next change writes the whole state again.
 */
import type { AlarmPriority } from '../../config/schema.js';
import type { TimerHandle, Timers } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import { summary } from './alarm-views.js';
import type { Alarm } from './types.js';

/** The retained topic `state/alarms`. */
export const ALARMS_STATE_DEVICE = 'alarms';
/** Summaries in `state/alarms` (the rest is counted, and listed by `alarm.list`). */
export const STATE_MAX_SUMMARIES = 200;

const PRIORITY_RANK: Record<AlarmPriority, number> = { critical: 3, high: 2, medium: 1, low: 0 };
export const priorityRank = (p: AlarmPriority): number => PRIORITY_RANK[p];

/** Highest priority first, then newest, then by id (ULIDs) so the order is total. */
export function sortOpen(alarms: Iterable<Alarm>): Alarm[] {
  return [...alarms].sort(
    (x, y) => PRIORITY_RANK[y.priority] - PRIORITY_RANK[x.priority] || y.raisedAt - x.raisedAt || (y.id < x.id ? -1 : 1),
  );
}

/** The retained `state/alarms` body for the open alarms. */
export function alarmsStateBody(open: ReadonlyMap<string, Alarm>): Record<string, unknown> {
  const counts = { raised: 0, acknowledged: 0, cleared: 0 };
  for (const a of open.values()) counts[a.state as keyof typeof counts]++;
  return { open: sortOpen(open.values()).slice(0, STATE_MAX_SUMMARIES).map(summary), total: open.size, counts };
}

export interface AlarmStatePublisherOptions {
  outbox: Pick<Outbox, 'setState'>;
  log: Logger;
  timers: Timers;
  debounceMs: number;
  body: () => Record<string, unknown>;
  /** After stop() nothing is scheduled: the final state is written by stop() itself. */
  stopped: () => boolean;
}

export class AlarmStatePublisher {
  private timer: TimerHandle | undefined;

  constructor(private readonly opts: AlarmStatePublisherOptions) {}

  /** Something changed: writes the state once the debounce interval has passed. */
  changed(): void {
    if (this.timer || this.opts.stopped()) return;
    this.timer = this.opts.timers.setTimeout(() => {
      this.timer = undefined;
      void this.publish();
    }, this.opts.debounceMs);
  }

  cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Never rejects: a failed write is logged. */
  publish(): Promise<void> {
    try {
      return this.opts.outbox
        .setState(ALARMS_STATE_DEVICE, this.opts.body())
        .catch((err: Error) => this.opts.log.error({ err: err.message }, 'state/alarms not written'));
    } catch (err) {
      this.opts.log.error({ err: (err as Error).message }, 'state/alarms not written');
      return Promise.resolve();
    }
  }
}
