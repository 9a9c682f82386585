/**
 * The alarm kinds of the perimeter (zones on input modules) and of the SIA DC-09 alarm
 * panels, with their default priorities. Declarations only, so a manifest can import them
 * without the services; tests/unit/alarm-kinds-families.test.ts checks they agree with the
 * priorities zone-logic.ts, perimeter-service.ts and panel-service.ts raise with.
 */
import type { AlarmKind } from '../families/family.js';

export const ALARM_KINDS: AlarmKind[] = [
  { kind: 'zone.alarm', priority: 'high', description: 'A perimeter zone (beam, fence) triggered while armed.' },
  { kind: 'zone.tamper', priority: 'high', description: 'A 24-hour zone (tamper loop) triggered, armed or not.' },
  { kind: 'zone.panic', priority: 'critical', description: 'A panic button was pressed.' },
  { kind: 'zone.fire', priority: 'critical', description: 'A fire zone triggered.' },
  { kind: 'zone.fault', priority: 'medium', description: 'A supervised zone reads cut or shorted: it cannot report an alarm.' },
  { kind: 'module.offline', priority: 'medium', description: 'An input module stopped answering: its zones are blind.' },
];

/** DC-09 panels: the event categories a panel reports, as `panel.<category>` and its troubles. */
export const DC09_ALARM_KINDS: AlarmKind[] = [
  { kind: 'panel.fire', priority: 'critical', description: 'The panel reports a fire alarm.' },
  { kind: 'panel.panic', priority: 'critical', description: 'The panel reports a panic alarm.' },
  { kind: 'panel.duress', priority: 'critical', description: 'The panel reports a duress code.' },
  { kind: 'panel.gas', priority: 'critical', description: 'The panel reports a gas alarm.' },
  { kind: 'panel.burglary', priority: 'high', description: 'The panel reports a burglary alarm.' },
  { kind: 'panel.perimeter', priority: 'high', description: 'The panel reports a perimeter alarm.' },
  { kind: 'panel.medical', priority: 'high', description: 'The panel reports a medical alarm.' },
  { kind: 'panel.tamper', priority: 'high', description: 'The panel reports tampering.' },
  { kind: 'panel.water', priority: 'high', description: 'The panel reports a water leak.' },
  { kind: 'panel.offline', priority: 'medium', description: 'The panel missed its supervision interval.' },
  { kind: 'panel.fire_trouble', priority: 'medium', description: 'The panel reports a fire-circuit trouble.' },
  { kind: 'panel.comm_trouble', priority: 'medium', description: 'The panel reports a communication trouble.' },
  { kind: 'panel.ac_loss', priority: 'low', description: 'The panel runs on its battery (mains lost).' },
  { kind: 'panel.low_battery', priority: 'low', description: 'The panel battery is low.' },
];
