/**
 * How a family reports a condition it has just recorded as a raw `evt/alarm` event (the
 * contract documents `door.forced`, `lock.tamper`, `charging.fire` ... with `active`): it
 * records its event first, then calls reportCondition(). So the platform still sees the raw
 * event before the `alarm.raised` it causes (both are recorded in this order on the same
 * loop turn), and a lifecycle failure can never cost the source its own event.
 *
 * The family decides which of its events are conditions; nothing here inspects events that
 * pass by (the Proxy tap that did so, and its table of every family's priorities, are gone).
 */
import type { AlarmPriority } from '../../config/schema.js';
import type { AnyEventInput, EventSource } from '../core/events.js';
import type { Logger } from '../core/log.js';
import type { AlarmSink } from './types.js';

/** One change of a condition: it holds (`active`) or it is gone. */
export interface ConditionReport {
  kind: string;
  source: EventSource;
  active: boolean;
  /** Only when the source decides it per report; else the kind's declared default applies. */
  priority?: AlarmPriority;
  data?: Record<string, unknown>;
}

/** Fields of a raw alarm event that describe the report itself, not the condition's context. */
const CONTROL_FIELDS = new Set(['active', 'priority']);

/**
 * The condition a family's raw alarm event reports: kind = its type, held while
 * `data.active` is true, its data without `active` and `priority`. The priority is left to
 * the kind's declaration: the raw event carries the same one (the families build it from
 * their ALARM_KINDS).
 */
export function conditionOfEvent(e: AnyEventInput): ConditionReport {
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.data ?? {})) if (!CONTROL_FIELDS.has(k)) data[k] = v;
  return { kind: e.type, source: e.source, active: e.data?.active === true, data };
}

/** Raises or clears on the sink; a failure is logged, never thrown into the source. */
export function reportCondition(sink: AlarmSink, report: ConditionReport, log: Logger): void {
  try {
    if (report.active) {
      const { kind, source, priority, data } = report;
      sink.raise({ kind, source, ...(priority ? { priority } : {}), ...(data ? { data } : {}) });
    } else sink.clear(report.kind, report.source, report.data);
  } catch (err) {
    const why = { kind: report.kind, device: report.source.device, err: (err as Error).message };
    log.error(why, 'alarm condition not reported; the event was recorded');
  }
}
