/** The alarm kinds of the ONVIF cameras, with their default priorities (camera-service.ts raises them). */
import type { AlarmKind } from '../families/family.js';

export const ALARM_KINDS: AlarmKind[] = [
  { kind: 'camera.tamper', priority: 'high', description: 'The camera reports tampering (covered, moved, defocused).' },
  { kind: 'camera.line', priority: 'high', description: 'Something crossed a line the camera watches (momentary: closed by a guard).' },
  { kind: 'camera.field', priority: 'high', description: 'Something entered a field the camera watches.' },
  { kind: 'camera.motion', priority: 'low', description: 'Motion, when `motionAlarms` makes it an alarm.' },
];
