/** The alarm kinds of the battery-swap cabinets, with their default priorities (safety.ts raises them). */
import type { AlarmKind } from '../families/family.js';
import { DEVICE_OFFLINE_ALARM } from '../presence/alarm-kinds.js';

export const SWAP_ALARM_KINDS: AlarmKind[] = [
  {
    kind: 'swap.thermal',
    priority: 'critical',
    description: 'A pack too hot or heating too fast: its slot is isolated (charger off, door locked, never issued).',
  },
  {
    kind: 'swap.fire',
    priority: 'critical',
    description: 'Smoke or over-temperature in a swap cabinet: its power is cut and fire suppression triggered if fitted.',
  },
  {
    kind: 'cabinet.unsupervised',
    priority: 'high',
    description: "A cabinet's safety registers cannot be read or decoded for too long to supervise it: its power is cut.",
  },
  DEVICE_OFFLINE_ALARM,
];
