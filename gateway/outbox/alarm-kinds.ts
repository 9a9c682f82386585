/** The alarm kinds of the outbox itself (disk-full-alarm.ts raises it). */
import type { AlarmKind } from '../families/family.js';

export const ALARM_KINDS: AlarmKind[] = [
  { kind: 'outbox.disk_full', priority: 'critical', description: 'The disk is full: events are refused until space is back.' },
];
