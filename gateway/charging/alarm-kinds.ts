/**
 * The alarm kinds of the e-bike charging cabinets, with their default priorities: the ones
 * the safety rules raise (safety.ts), which the raw `evt/alarm` events carry as well.
 */
import type { AlarmKind } from '../families/family.js';
import { DEVICE_OFFLINE_ALARM } from '../presence/alarm-kinds.js';

export const ALARM_KINDS: AlarmKind[] = [
  {
    kind: 'charging.fire',
    priority: 'critical',
    description: 'Smoke or over-temperature in a cabinet: its power is cut and latched until charging.reset.',
  },
  { kind: 'charging.port_over_temperature', priority: 'high', description: 'A port is too hot: it is stopped.' },
  { kind: 'charging.port_over_current', priority: 'high', description: 'A port draws more than its limit: it is stopped.' },
  { kind: 'charging.port_fault', priority: 'high', description: 'A port reports a fault during a session: it is stopped.' },
  {
    kind: 'cabinet.unsupervised',
    priority: 'high',
    description: 'The cabinet cannot be read for too long to supervise charging: its power is cut.',
  },
  DEVICE_OFFLINE_ALARM,
];
