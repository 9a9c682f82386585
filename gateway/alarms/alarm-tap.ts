/**
 * Turns the alarm events the device families already record into alarm conditions, without
 * touching those families: they are handed a tapped outbox instead of the real one. Every
 * call is forwarded unchanged (the raw `door.forced` etc. still reach the platform, as the
 * contract documents them); the tap only looks at what passes.
 *
 * Mapping:
 * - class `alarm` with boolean `data.active` (door.forced, door.held_open, reader.tamper,
 *   reader.offline, lock.tamper, access.fire_unlock, charging.fire,
 *   charging.port_over_temperature, charging.port_over_current, charging.port_fault):
 *   `active: true` raises, `active: false` clears; kind = event type.
 * - class `alarm` WITHOUT `active` (none today; future one-shot reports): raised as a
 *   momentary condition, so it stays open, counted on re-reports, until a guard closes it
 *   (it never holds, so close is not refused as ALARM_ACTIVE).
 * - class `device` `device.offline` raises kind `device.offline` (priority medium),
 *   `device.online` clears it. Readers are skipped by default: they also report
 *   `reader.offline` as an alarm, and one outage should be one alarm.
 * - `alarm.*` and `linkage.*` are the lifecycle's own events and never loop back.
 * Priority: `data.priority` when it is a valid one, else the kind's default below.
 */
import type { AlarmPriority } from '../../config/schema.js';
import type { AnyEventInput, EventInput } from '../core/events.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import type { AlarmSink } from './types.js';

/** Priorities of kinds whose events carry none (lock.tamper) or a fallback. */
export const DEFAULT_PRIORITIES: Record<string, AlarmPriority> = {
  'door.forced': 'high',
  'door.held_open': 'medium',
  'reader.tamper': 'high',
  'reader.offline': 'medium',
  'lock.tamper': 'high',
  'access.fire_unlock': 'critical',
  'charging.fire': 'critical',
  'device.offline': 'medium',
};
const FALLBACK_PRIORITY: AlarmPriority = 'high';
const PRIORITIES = new Set(['critical', 'high', 'medium', 'low']);
/** Fields of the source event that describe the condition, not its context. */
const CONTROL_FIELDS = new Set(['active', 'priority']);

export interface AlarmTapOptions {
  log: Logger;
  /** `device.offline` of these families is not an alarm of its own (default: reader, covered by reader.offline). */
  skipOfflineFamilies?: readonly string[];
}

/** The condition an event reports, if any. Exported so tests and other taps use the same table. */
export function conditionOf(e: AnyEventInput, skipOfflineFamilies: readonly string[] = ['reader']):
  | { op: 'raise'; kind: string; priority: AlarmPriority; data: Record<string, unknown>; momentary: boolean }
  | { op: 'clear'; kind: string; data: Record<string, unknown> }
  | undefined {
  if (e.type.startsWith('alarm.') || e.type.startsWith('linkage.')) return undefined;
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.data ?? {})) if (!CONTROL_FIELDS.has(k)) data[k] = v;
  if (e.class === 'alarm') {
    const active = e.data?.active;
    if (active === false) return { op: 'clear', kind: e.type, data };
    return { op: 'raise', kind: e.type, priority: priorityOf(e), data, momentary: active !== true };
  }
  if (e.class === 'device' && (e.type === 'device.offline' || e.type === 'device.online')) {
    if (typeof e.data?.family === 'string' && skipOfflineFamilies.includes(e.data.family)) return undefined;
    return e.type === 'device.offline' ? { op: 'raise', kind: 'device.offline', priority: priorityOf({ ...e, type: 'device.offline' }), data, momentary: false } : { op: 'clear', kind: 'device.offline', data };
  }
  return undefined;
}

function priorityOf(e: AnyEventInput): AlarmPriority {
  const p = e.data?.priority;
  if (typeof p === 'string' && PRIORITIES.has(p)) return p as AlarmPriority;
  return DEFAULT_PRIORITIES[e.type] ?? FALLBACK_PRIORITY;
}

/**
 * The outbox as the device families see it, with alarm conditions fed to the sink. Typed as
 * the outbox it wraps, so it goes wherever an Outbox (or a Pick of one) is expected:
 * everything but `record` is the outbox's own member, bound to it.
 */
export function withAlarmTap<T extends Pick<Outbox, 'record'>>(outbox: T, sink: AlarmSink, opts: AlarmTapOptions): T {
  const skip = opts.skipOfflineFamilies ?? ['reader'];
  const record = (input: EventInput, recordOpts?: { pinned?: boolean }) => {
    // Forward first: the source's own event goes out whatever the lifecycle does with it.
    const result = outbox.record(input, recordOpts);
    try {
      const c = conditionOf(input, skip);
      if (c?.op === 'raise') sink.raise({ kind: c.kind, source: input.source, priority: c.priority, data: c.data, ...(c.momentary ? { momentary: true } : {}) });
      else if (c?.op === 'clear') sink.clear(c.kind, input.source, c.data);
    } catch (err) {
      opts.log.error({ type: input.type, err: (err as Error).message }, 'alarm tap failed; the event was recorded');
    }
    return result;
  };
  return new Proxy(outbox, {
    get(target, prop) {
      if (prop === 'record') return record;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
