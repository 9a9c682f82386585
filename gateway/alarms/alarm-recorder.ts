/**
 * Recording of alarm events in the outbox (class `alarm`), and the two ways back when the
 * outbox refuses one: an `alarm.raised` that failed marks its alarm, so the source's next
 * report records it as raised again; every event a full disk refused is kept and recorded
 * once space is back. Nothing here throws into a source: failures are logged.
 */
import { isGatehouseError } from '../core/errors.js';
import { withUncheckedData, type AnyEventInput, type EventInput } from '../core/events.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import { iso } from './alarm-views.js';
import { UnrecordedEvents } from './unrecorded-events.js';
import type { Alarm } from './types.js';

/** The lifecycle events recordEvent() writes (their data is built from the alarm plus extras). */
export type AlarmEventType = 'alarm.raised' | 'alarm.retriggered' | 'alarm.acknowledged' | 'alarm.cleared' | 'alarm.closed' | 'alarm.media';

export class AlarmRecorder {
  /** Record promises of the raise/clear calls running inside AlarmManager.committed(). */
  capture: Promise<unknown>[] | undefined;
  /** Alarms whose `alarm.raised` was not recorded (disk full...): their next report records it again. */
  private readonly unrecordedRaised = new Set<string>();
  /** Alarm events the outbox refused for lack of disk space, in order, for retryUnrecorded(). */
  private readonly unrecorded = new UnrecordedEvents();

  constructor(
    private readonly outbox: Pick<Outbox, 'record'>,
    private readonly log: Logger,
    /** Whether the alarm is still open. */
    private readonly isOpen: (alarmId: string) => boolean,
  ) {}

  /** Whether the alarm's `alarm.raised` never reached the outbox. */
  raiseUnrecorded(alarmId: string): boolean {
    return this.unrecordedRaised.has(alarmId);
  }

  /** The alarm closed: its next report would be a new alarm. */
  forget(alarmId: string): void {
    this.unrecordedRaised.delete(alarmId);
  }

  record(type: AlarmEventType, a: Alarm, extra: Record<string, unknown> = {}): void {
    const data = {
      alarmId: a.id,
      kind: a.kind,
      source: { ...a.source },
      priority: a.priority,
      state: a.state,
      active: a.active,
      count: a.count,
      lastAt: iso(a.lastAt),
      ...structuredClone(extra),
    };
    this.recordInput(withUncheckedData({ class: 'alarm', type, source: { ...a.source }, data }), a.id);
  }

  /**
   * Records one alarm event. Two ways back from a refusal, which must not both record it:
   * an `alarm.raised` that failed marks its alarm (`unrecordedRaised`), so the source's next
   * report (a DC-09 panel resending after our NAK) records it as raised again; and every event
   * a full disk refused is kept (`unrecorded`) and recorded once space is back — except a
   * raise that a later report has recorded meanwhile.
   */
  private recordInput(input: EventInput, alarmId: string): void {
    const { type } = input;
    const raised = type === 'alarm.raised';
    let recorded: Promise<unknown>;
    try {
      recorded = this.outbox.record(input);
    } catch (err) {
      recorded = Promise.reject(err as Error);
    }
    recorded.then(
      () => raised && this.unrecordedRaised.delete(alarmId),
      (err: Error) => {
        if (raised && this.isOpen(alarmId)) this.unrecordedRaised.add(alarmId);
        this.log.error({ type, alarmId, err: err.message }, 'alarm event not recorded');
        // A full disk refuses the event, not the alarm: it is recorded again once space is back.
        if (isGatehouseError(err, 'OUTBOX_DISK_FULL')) this.unrecorded.keep(input);
      },
    );
    this.capture?.push(recorded);
  }

  /** Records the events a full disk refused, in their order; returns how many. */
  retryUnrecorded(): number {
    const { events: pending, dropped } = this.unrecorded.take();
    if (dropped) this.log.error({ dropped }, 'alarm events refused on a full disk and not kept for a retry');
    let retried = 0;
    for (const input of pending) {
      const alarmId = String((input as AnyEventInput).data?.alarmId ?? '');
      // Its (still open) alarm was reported again meanwhile and recorded as raised then: not twice.
      if (input.type === 'alarm.raised' && this.isOpen(alarmId) && !this.unrecordedRaised.has(alarmId)) continue;
      this.recordInput(input, alarmId);
      retried++;
    }
    return retried;
  }
}
