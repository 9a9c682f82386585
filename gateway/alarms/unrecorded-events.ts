/**
 * Alarm events the outbox refused for lack of disk space, kept in order for a second try
 * once space is back (AlarmManager.retryUnrecorded). Bounded: beyond MAX_UNRECORDED the
 * oldest go first and are counted, so a disk that stays full cannot exhaust memory.
 */
import type { EventInput } from '../core/events.js';

/** Alarm events kept for a second try when the disk was full (the oldest go first beyond this). */
export const MAX_UNRECORDED = 10_000;

export class UnrecordedEvents {
  private kept: EventInput[] = [];
  private dropped = 0;

  keep(input: EventInput): void {
    this.kept.push(input);
    if (this.kept.length > MAX_UNRECORDED) {
      this.kept.shift();
      this.dropped++;
    }
  }

  /** Everything kept, in order, and how many were dropped for the bound; empties the queue. */
  take(): { events: EventInput[]; dropped: number } {
    const taken = { events: this.kept, dropped: this.dropped };
    this.kept = [];
    this.dropped = 0;
    return taken;
  }
}
