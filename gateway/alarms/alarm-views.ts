/**
 * How an alarm is shown outside the manager: the compact line of `state/alarms`, the full
 * view of a command answer, the actor fields of an event. Times are ISO strings outside.
 */
import type { Alarm, AlarmActor } from './types.js';

export const iso = (ms: number): string => new Date(ms).toISOString();

export function actorData(actor: AlarmActor): Record<string, unknown> {
  return { by: actor.by, ...(actor.role ? { role: actor.role } : {}), ...(actor.note ? { note: actor.note } : {}) };
}

/** One line of `state/alarms`: what a guard's list shows. */
export function summary(a: Alarm): Record<string, unknown> {
  return {
    id: a.id,
    kind: a.kind,
    source: a.source,
    priority: a.priority,
    state: a.state,
    active: a.active,
    count: a.count,
    raisedAt: iso(a.raisedAt),
    lastAt: iso(a.lastAt),
    ...(a.acknowledged ? { acknowledgedBy: a.acknowledged.by } : {}),
  };
}

/** An alarm with ISO times, for command answers. */
export function alarmView(a: Alarm): Record<string, unknown> {
  return {
    ...a,
    raisedAt: iso(a.raisedAt),
    lastAt: iso(a.lastAt),
    ...(a.acknowledged ? { acknowledged: { ...a.acknowledged, at: iso(a.acknowledged.at) } } : {}),
    ...(a.clearedAt !== undefined ? { clearedAt: iso(a.clearedAt) } : {}),
    ...(a.closed ? { closed: { ...a.closed, at: iso(a.closed.at) } } : {}),
  };
}
