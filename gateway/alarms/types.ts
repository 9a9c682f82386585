/**
 * The alarm lifecycle shared by every family (issue 5). A source (a zone, a DC-09 panel, a
 * door, a cabinet, a camera, a device going offline) reports a CONDITION: raised while it
 * holds, cleared when it is gone. The AlarmManager turns conditions into alarms that people
 * handle:
 *
 *   raised ──acknowledge──> acknowledged ──condition clears──> cleared ──close──> closed
 *      └──condition clears──> cleared (unacknowledged) ──acknowledge──┘
 *
 * - one open alarm per condition key: a re-trigger while open is counted on it (`count`,
 *   `lastAt`), never a new alarm, so a flapping beam cannot flood the guard or the uplink;
 * - a cleared alarm that triggers again before it is closed becomes active again;
 * - close is refused while the condition still holds (ALARM_ACTIVE) and on a closed alarm
 *   (ALARM_CLOSED); acknowledging twice is refused (ALARM_ACKNOWLEDGED);
 * - kinds in `alarms.autoCloseOnClear` close themselves when they clear;
 * - the open alarms survive restarts (outbox.db) and are published retained on `state/alarms`.
 */
import type { AlarmPriority } from '../../config/schema.js';
import type { EventSource } from '../core/events.js';

export type AlarmState = 'raised' | 'acknowledged' | 'cleared' | 'closed';

export interface AlarmCondition {
  /** Dotted kind, e.g. `zone.alarm`, `zone.tamper`, `panel.burglary`, `door.forced`, `charging.fire`, `device.offline`. */
  kind: string;
  source: EventSource;
  /**
   * This report's priority, when the source decides it per report; else the default the
   * family declared for the kind (AlarmManager.declareKinds). `alarms.priorities` in the
   * compound file overrides both.
   */
  priority?: AlarmPriority;
  /** Anything the guard or platform should see (zone name, DC-09 event code, temperature...). Never secrets. */
  data?: Record<string, unknown>;
  /**
   * A one-shot report with no "gone" to follow (a DC-09 burglary code, an event without an
   * `active` flag): the alarm is raised but its condition does not hold, so a guard can
   * close it once handled instead of waiting for a clear that never comes.
   */
  momentary?: boolean;
}

export interface Alarm {
  /** ULID, stable for the alarm's life; referenced by acknowledge/close and by media. */
  id: string;
  /** `${kind}|${source.device}|${source.point ?? ''}`: one open alarm per key. */
  key: string;
  kind: string;
  source: EventSource;
  priority: AlarmPriority;
  state: AlarmState;
  /** The condition holds right now (raised or re-triggered, not yet cleared). */
  active: boolean;
  /** Times the condition was raised while this alarm was open (1 = once). */
  count: number;
  raisedAt: number;
  lastAt: number;
  acknowledged?: { by: string; role?: string; at: number; note?: string };
  clearedAt?: number;
  closed?: { by: string; role?: string; at: number; note?: string; reason: 'operator' | 'auto' | 'overflow' };
  data: Record<string, unknown>;
  /** Media attached later (snapshot ids from the camera family). */
  media: string[];
}

/** Who acted, for the audit trail: the router's Caller principal and role. */
export interface AlarmActor {
  by: string;
  /** The caller's role (guard, platform...), kept in the audit trail next to `by`. */
  role?: string;
  note?: string;
}

/** What the lifecycle tells the rest of the gateway (linkage, console, cameras). */
export interface AlarmManagerEvents {
  raised: [Alarm];
  retriggered: [Alarm];
  /** A cleared (not closed) alarm whose condition came back; also emitted as `retriggered`. Linkage fires again on it. */
  reactivated: [Alarm];
  acknowledged: [Alarm];
  cleared: [Alarm];
  closed: [Alarm];
}

/**
 * The hook the camera family implements (issue 6): called for linkage actions that name a
 * camera. It must not block the alarm: the alarm is recorded first, the picture follows and
 * is attached with AlarmManager.attachMedia().
 */
export interface CameraLinkage {
  snapshot(camera: string, alarm: Alarm): Promise<string | undefined>;
  gotoPreset(camera: string, preset: string): Promise<void>;
}

/** Drives a siren/strobe/relay output (perimeter service implements it over Modbus coils). */
export interface OutputDriver {
  setOutput(output: string, on: boolean): Promise<void>;
}

/**
 * What an alarm source needs from the lifecycle: report a condition raised, and report it
 * gone. Idempotent: raising an active condition counts a re-trigger, clearing a condition
 * that is not active does nothing. Both are synchronous and never wait on the disk (the
 * manager records asynchronously), so a source can call them on its hot path.
 */
export interface AlarmSink {
  raise(condition: AlarmCondition): Alarm;
  clear(kind: string, source: EventSource, data?: Record<string, unknown>): Alarm | undefined;
}
