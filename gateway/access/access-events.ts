/**
 * How access control becomes platform events and retained states (docs/asyncapi.yaml,
 * docs/INTERFACES.md "Doors and readers"). One readable table, apart from the wiring.
 *
 * Classes: decisions and door movements are `access`; forced, held open, tamper and a
 * reader going silent are `alarm` (raised with `active: true`, cleared with `false`);
 * reader health is `device`; installing a key and syncing credentials are `system`.
 */
import type { ReaderCapabilities } from '../../drivers/osdp/capabilities.js';
import { withUncheckedData, type EventDataMap, type EventInput } from '../core/events.js';
import type { DoorEvent, DoorSnapshot } from './door-machine.js';
import { accessAlarmPriority } from './alarm-kinds.js';

export type Direction = 'in' | 'out';
export type AccessMethod = 'card' | 'pin' | 'card+pin';

export interface DecisionRecord {
  door: string;
  reader: string;
  direction: Direction;
  granted: boolean;
  reason: string;
  method: AccessMethod;
  credential: string;
  credentialId?: string;
  /** The uplink was down: the platform learns of it later, the door did not wait. */
  offline: boolean;
  antiPassback?: { area: string; mode: string; violation: boolean };
}

/** What a reader reported in osdp_PDID, as `device.online` carries it. */
export type ReaderIdentity = NonNullable<EventDataMap['device.online']['identity']>;

type DoorDenyReason = Extract<EventDataMap['access.denied'], { by: 'gateway' }>['reason'];

export function decisionEvent(d: DecisionRecord): EventInput {
  const data = {
    door: d.door,
    reader: d.reader,
    direction: d.direction,
    method: d.method,
    credential: d.credential,
    offline: d.offline,
    by: 'gateway' as const,
    ...(d.credentialId !== undefined ? { credentialId: d.credentialId } : {}),
  };
  const source = { device: d.door, point: d.reader };
  // Only a grant carries antiPassback: a soft area lets the violation through (decide.ts); a hard one denies without it.
  if (d.granted) {
    const antiPassback = d.antiPassback?.violation
      ? { antiPassback: { area: d.antiPassback.area, mode: d.antiPassback.mode as 'soft' } }
      : {};
    return { class: 'access', type: 'access.granted', source, data: { ...data, ...antiPassback } };
  }
  return { class: 'access', type: 'access.denied', source, data: { ...data, reason: d.reason as DoorDenyReason } };
}

/** The raw events carry the priority access declares for their kind (alarm-kinds.ts), as the alarm does. */
const ALARM_PRIORITY = {
  forced: accessAlarmPriority('door.forced'),
  held: accessAlarmPriority('door.held_open'),
  tamper: accessAlarmPriority('reader.tamper'),
  offline: accessAlarmPriority('reader.offline'),
  powerFailure: accessAlarmPriority('reader.power_failure'),
};

/** A DoorMachine event as a platform event. */
export function doorEvent(e: DoorEvent): EventInput {
  const door = e.data.door as string;
  const source = { device: door };
  switch (e.type) {
    case 'door.forced':
    case 'door.forced_cleared':
      return {
        class: 'alarm',
        type: 'door.forced',
        source,
        data: { door, active: e.type === 'door.forced', priority: ALARM_PRIORITY.forced },
      };
    case 'door.held_open':
    case 'door.held_cleared':
      return {
        class: 'alarm',
        type: 'door.held_open',
        source,
        data: {
          door,
          active: e.type === 'door.held_open',
          priority: ALARM_PRIORITY.held,
          ...(e.data.openMs !== undefined ? { openMs: e.data.openMs as number } : {}),
        },
      };
    default:
      // DoorMachine's data is untyped (door, authorised, openMs, mode as each type has them).
      return withUncheckedData({ class: 'access', type: e.type, source, data: e.data });
  }
}

export function tamperEvent(reader: string, door: string | undefined, active: boolean): EventInput {
  return {
    class: 'alarm',
    type: 'reader.tamper',
    source: { device: reader },
    data: { reader, ...(door ? { door } : {}), active, priority: ALARM_PRIORITY.tamper },
  };
}

/**
 * The reader reports a power failure (LSTATR power byte): an alarm condition while it lasts.
 * Medium: the reader still answers (it runs on its backup or a failing supply), but the
 * lock it drives may lose power next.
 */
export function powerFailureEvent(reader: string, door: string | undefined, active: boolean): EventInput {
  const data = { reader, ...(door ? { door } : {}), active, priority: ALARM_PRIORITY.powerFailure };
  return { class: 'alarm', type: 'reader.power_failure', source: { device: reader }, data };
}

export function readerOfflineAlarm(reader: string, door: string | undefined, active: boolean, reason?: string): EventInput {
  return {
    class: 'alarm',
    type: 'reader.offline',
    source: { device: reader },
    data: { reader, ...(door ? { door } : {}), active, priority: ALARM_PRIORITY.offline, ...(reason ? { reason } : {}) },
  };
}

export function readerHealthEvent(
  reader: string,
  online: boolean,
  detail: { secure?: boolean; reason?: string; identity?: ReaderIdentity },
): EventInput {
  return online
    ? {
        class: 'device',
        type: 'device.online',
        source: { device: reader },
        data: { family: 'reader', secure: detail.secure ?? false, ...(detail.identity ? { identity: detail.identity } : {}) },
      }
    : {
        class: 'device',
        type: 'device.offline',
        source: { device: reader },
        data: { family: 'reader', reason: detail.reason ?? 'no answer' },
      };
}

export function doorState(s: DoorSnapshot, lockReaderOnline: boolean): Record<string, unknown> {
  return { mode: s.mode, unlocked: s.unlocked, open: s.open, forced: s.forced, heldOpen: s.heldOpen, online: lockReaderOnline };
}

export interface ReaderStateView {
  online: boolean;
  secure: boolean;
  tamper: boolean;
  powerFailure: boolean;
  lastSeen: number | null; // epoch ms
  capabilities: ReaderCapabilities | undefined;
}

export function readerState(s: ReaderStateView): Record<string, unknown> {
  return {
    online: s.online,
    secure: s.secure,
    tamper: s.tamper,
    powerFailure: s.powerFailure,
    lastSeen: s.lastSeen === null ? null : new Date(s.lastSeen).toISOString(),
    ...(s.capabilities ? { capabilities: s.capabilities } : {}),
  };
}
