/**
 * How the access service records (moved out of access-service.ts): events and retained
 * states go to the outbox without the door waiting on them, and an alarm event is followed by
 * its condition on the alarm sink, so the platform hears them in this order. A failed write is
 * logged; after the outbox closed (a stop) it is expected and not logged.
 */
import type { EventInput } from '../core/events.js';
import { isGatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import { conditionOfEvent, reportCondition } from '../alarms/report.js';
import type { AlarmSink } from '../alarms/types.js';

export class AccessRecorder {
  constructor(
    private readonly o: {
      outbox: Pick<Outbox, 'record' | 'setState'>;
      /** Where forced, held-open, tamper, reader-offline, power-failure and fire-unlock conditions go (the alarm manager). */
      sink: AlarmSink;
      log: Logger;
    },
  ) {}

  record(e: EventInput): void {
    this.o.outbox.record(e).catch((err: unknown) => this.failed(err, e.type));
  }

  /** A raw alarm event (with `active`), then its condition on the alarm sink: the platform hears them in this order. */
  recordAlarm(e: EventInput): void {
    this.record(e);
    reportCondition(this.o.sink, conditionOfEvent(e), this.o.log);
  }

  /** A device's retained state; `what` names it in the log when it cannot be written. */
  setState(device: string, state: Record<string, unknown>, what: string): void {
    this.o.outbox.setState(device, state).catch((err: unknown) => this.failed(err, what));
  }

  private failed(err: unknown, what: string): void {
    if (isGatehouseError(err, 'OUTBOX_CLOSED')) return;
    this.o.log.error({ what, err: (err as Error).message }, 'could not record an access event');
  }
}
