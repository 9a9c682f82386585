/**
 * The families that passed their priorities with each raise before issue 12 (perimeter
 * zones and modules, DC-09 panels, the outbox's disk-full alarm) now also declare their
 * kinds; the declarations must say what the code raises with, or the console and docs
 * would show another priority than the alarms get.
 */
import { describe, expect, it } from 'vitest';
import { ALARM_KINDS as OUTBOX_ALARM_KINDS } from '../../gateway/outbox/alarm-kinds.js';
import { DISK_FULL_ALARM } from '../../gateway/outbox/disk-full-alarm.js';
import { ALARM_KINDS as PERIMETER_ALARM_KINDS, DC09_ALARM_KINDS } from '../../gateway/perimeter/alarm-kinds.js';
import { conditionPriority } from '../../gateway/perimeter/panel-service.js';
import { MODULE_OFFLINE } from '../../gateway/perimeter/perimeter-service.js';
import { ZONE_ALARM, ZONE_FAULT } from '../../gateway/perimeter/zone-logic.js';

const byKind = (kinds: { kind: string; priority: string }[]) => Object.fromEntries(kinds.map((k) => [k.kind, k.priority]));

describe('declared kinds match what the families raise', () => {
  it('perimeter: every zone type, the zone fault and the module outage', () => {
    const raised = [...Object.values(ZONE_ALARM), ZONE_FAULT, MODULE_OFFLINE];
    expect(byKind(PERIMETER_ALARM_KINDS)).toEqual(byKind(raised));
  });

  it('DC-09 panels: each declared kind is raised at its declared priority', () => {
    for (const k of DC09_ALARM_KINDS) expect(conditionPriority(k.kind), k.kind).toBe(k.priority);
  });

  it('outbox: disk full', () => {
    expect(byKind(OUTBOX_ALARM_KINDS)).toEqual({ [DISK_FULL_ALARM]: 'critical' });
  });
});
