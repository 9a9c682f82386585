/**
 * The alarm kinds of access control, with their default priorities. The raw `evt/alarm`
 * events carry the same priority (access-events.ts reads it from here), so the platform
 * sees one priority per kind whether it reads the raw event or the alarm.
 */
import type { AlarmKind } from '../families/family.js';

export const ALARM_KINDS: AlarmKind[] = [
  { kind: 'door.forced', priority: 'high', description: 'A door opened without a grant or an exit request; clears when it closes.' },
  { kind: 'door.held_open', priority: 'medium', description: 'A door stayed open past its held-open time; clears when it closes.' },
  { kind: 'reader.tamper', priority: 'high', description: 'A reader reports tampering; clears when the reader says so.' },
  { kind: 'reader.offline', priority: 'medium', description: 'A reader stopped answering (one alarm per outage); clears when it is back.' },
  { kind: 'reader.power_failure', priority: 'medium', description: 'A reader reports a power failure; its door lock may lose power next.' },
  {
    kind: 'access.fire_unlock',
    priority: 'critical',
    description: 'The fire input is active: the egress doors are unlocked; clears when it is released.',
  },
];

/** The declared priority of one of these kinds. */
export function accessAlarmPriority(kind: string): AlarmKind['priority'] {
  const k = ALARM_KINDS.find((a) => a.kind === kind);
  if (!k) throw new Error(`access declares no alarm kind ${kind}`);
  return k.priority;
}
