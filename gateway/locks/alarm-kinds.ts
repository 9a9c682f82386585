/** The alarm kinds of the smart locks, with their default priorities (the raw `lock.tamper` carries none). */
import type { AlarmKind } from '../families/family.js';
import { DEVICE_OFFLINE_ALARM } from '../presence/alarm-kinds.js';

export const ALARM_KINDS: AlarmKind[] = [
  {
    kind: 'lock.tamper',
    priority: 'high',
    description: 'The lock reports tampering (cover opened, forced cylinder); clears when the lock says so.',
  },
  DEVICE_OFFLINE_ALARM,
];
