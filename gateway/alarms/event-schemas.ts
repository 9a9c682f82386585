/**
 * The alarm lifecycle (alarm.*) and linkage.
 * The `data` schemas (zod) of the event types recorded here, declared once: `record()` is typed
 * by them and `npm run docs` generates docs/asyncapi.yaml from them.
 */
import { z } from 'zod';
import { Timestamp } from '../events/common-schemas.js';
import { EXAMPLES } from './event-examples.js';
import { eventList } from '../events/declare.js';

export const AlarmPriority = z.enum(['critical', 'high', 'medium', 'low']).meta({
  id: 'AlarmPriority',
  description:
    'Access alarms today: `access.fire_unlock` critical; `door.forced`, `reader.tamper` high; `door.held_open`, `reader.offline`, `reader.power_failure` medium.',
});
export const AlarmId = z
  .string()
  .regex(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/)
  .meta({
    id: 'AlarmId',
    description: 'ULID of an alarm, stable for its whole life; `alarm.acknowledge`, `alarm.close` and media name it.',
  });
export const AlarmKind = z
  .string()
  .regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/)
  .meta({
    id: 'AlarmKind',
    description:
      "What the condition is, dotted: the type of the source's alarm event (`door.forced`, `charging.fire`, `reader.offline`...) or `device.offline`; for sources that report to the lifecycle directly: `zone.alarm`, `zone.tamper`, `zone.panic`, `zone.fire`, `zone.fault`, `module.offline`, `panel.<category>` (`panel.burglary`, `panel.perimeter`, `panel.fire`, `panel.panic`, `panel.duress`, `panel.medical`, `panel.tamper`, `panel.water`, `panel.gas`), panel troubles `panel.ac_loss`, `panel.low_battery`, `panel.comm_trouble`, `panel.<category>_trouble` (`fire`, `burglary`, `system`, `sensor`) and `panel.offline` (see `evt/alarm`); `device.flapping` (any family: a device held offline by presence damping); the gateway's own `outbox.disk_full` (critical, source `gateway`/`outbox`).",
  });
export const AlarmSource = z
  .strictObject({ device: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/), point: z.string().min(1).max(128).optional() })
  .meta({ id: 'AlarmSource', description: "Where the condition is, as the source's events give it (`point` a part of the device)." });
export const AlarmActive = z.boolean().meta({
  id: 'AlarmActive',
  description: 'The condition holds right now (raised or re-triggered and not cleared since). Never true for a momentary report.',
});
export const AlarmRaisedData = z
  .strictObject({
    alarmId: AlarmId,
    kind: AlarmKind,
    source: AlarmSource,
    priority: AlarmPriority,
    state: z.literal('raised'),
    active: AlarmActive,
    count: z.literal(1),
    lastAt: Timestamp,
    raisedAt: Timestamp,
    data: z
      .looseObject({})
      .meta({ description: 'What the source reported about the condition (open: it depends on the kind). Never secrets.' }),
  })
  .meta({ id: 'AlarmRaisedData' });
export const AlarmCount = z
  .int()
  .min(1)
  .meta({ id: 'AlarmCount', description: 'Times the condition was raised while this alarm was open (1 = once).' });
export const AlarmRetriggeredData = z
  .strictObject({
    alarmId: AlarmId,
    kind: AlarmKind,
    source: AlarmSource,
    priority: AlarmPriority,
    state: z.enum(['raised', 'acknowledged']),
    active: AlarmActive,
    count: AlarmCount,
    lastAt: Timestamp,
    data: z.looseObject({}).meta({ description: "Every report's data merged, the latest winning." }).optional(),
  })
  .meta({ id: 'AlarmRetriggeredData' });
export const AlarmBy = z
  .string()
  .min(1)
  .meta({ id: 'AlarmBy', description: "Who acted: the caller's principal, or `gateway` for automatic closes." });
export const AlarmRole = z.enum(['platform', 'guard', 'installer', 'admin']).meta({ id: 'AlarmRole', description: "The caller's role." });
export const AlarmNote = z.string().min(1).max(500).meta({ id: 'AlarmNote' });
export const AlarmAcknowledgedData = z
  .strictObject({
    alarmId: AlarmId,
    kind: AlarmKind,
    source: AlarmSource,
    priority: AlarmPriority,
    state: z.enum(['acknowledged', 'cleared']),
    active: AlarmActive,
    count: AlarmCount,
    lastAt: Timestamp,
    by: AlarmBy,
    role: AlarmRole.optional(),
    note: AlarmNote.optional(),
  })
  .meta({ id: 'AlarmAcknowledgedData' });
export const AlarmClearedData = z
  .strictObject({
    alarmId: AlarmId,
    kind: AlarmKind,
    source: AlarmSource,
    priority: AlarmPriority,
    state: z.literal('cleared'),
    active: z.literal(false),
    count: AlarmCount,
    lastAt: Timestamp,
    clearedAt: Timestamp.optional(),
    data: z.looseObject({}).meta({ description: 'What the source reported with the clear (open).' }).optional(),
  })
  .meta({ id: 'AlarmClearedData' });
export const AlarmCloseReason = z.enum(['operator', 'auto', 'overflow']).meta({
  id: 'AlarmCloseReason',
  description:
    '`operator`: alarm.close; `auto`: a kind of alarms.autoCloseOnClear cleared; `overflow`: more than alarms.maxOpen open alarms.',
});
export const AlarmClosedData = z
  .strictObject({
    alarmId: AlarmId,
    kind: AlarmKind,
    source: AlarmSource,
    priority: AlarmPriority,
    state: z.literal('closed'),
    active: z.literal(false),
    count: AlarmCount,
    lastAt: Timestamp,
    by: AlarmBy,
    role: AlarmRole.optional(),
    note: AlarmNote.optional(),
    reason: AlarmCloseReason,
  })
  .meta({ id: 'AlarmClosedData' });
export const AlarmState = z.enum(['raised', 'acknowledged', 'cleared', 'closed']).meta({
  id: 'AlarmState',
  description:
    '`raised` (nobody has taken charge), `acknowledged` (a guard has), `cleared` (the condition is gone; acknowledged or not), `closed` (handled, no longer open).',
});
export const AlarmMediaData = z
  .strictObject({
    alarmId: AlarmId,
    kind: AlarmKind,
    source: AlarmSource,
    priority: AlarmPriority,
    state: AlarmState,
    active: AlarmActive,
    count: AlarmCount,
    lastAt: Timestamp,
    mediaId: z.string().min(1).meta({ description: "The snapshot's id in the camera family." }),
  })
  .meta({ id: 'AlarmMediaData' });
export const LinkageExecutedData = z
  .strictObject({
    rule: z.int().min(0).meta({ description: "Index of the rule in the compound file's `linkage`." }),
    alarmId: AlarmId,
    kind: AlarmKind,
    alarmSource: AlarmSource,
    action: z.enum(['output', 'camera', 'notify']),
    target: z.string().min(1).meta({ description: 'The output id, the camera id, or `console` for notify.' }),
    ok: z.boolean(),
    error: z
      .string()
      .meta({
        description: 'Why it failed (`no output driver`, `no camera driver`, the device error; for cameras `preset: …; snapshot: …`).',
      })
      .optional(),
    seconds: z.int().min(1).max(3600).meta({ description: 'output: how long it is held on.' }).optional(),
    extended: z
      .boolean()
      .meta({
        description:
          'output: it was already on; true if its end moved later, false if it already ran at least as long. Absent when it was switched on.',
      })
      .optional(),
    preset: z.string().min(1).max(64).meta({ description: 'camera: the preset it was sent to first.' }).optional(),
    mediaId: z.string().min(1).meta({ description: 'camera: the snapshot taken and attached to the alarm (`alarm.media`).' }).optional(),
  })
  .meta({ id: 'LinkageExecutedData' });

export const ALARM_EVENTS = eventList([
  {
    type: 'alarm.raised',
    class: 'alarm',
    data: AlarmRaisedData,
    description:
      "A source reported a condition for which no alarm is open: a new alarm (new `alarmId`), `state: raised`, `count: 1`. `active` is false only for a momentary report (no clear will follow; it can be closed at once). `data` is what the source reported (its event's data without `active` and `priority`).",
    title: 'A condition became an alarm',
    examples: EXAMPLES['alarm.raised'],
  },
  {
    type: 'alarm.retriggered',
    class: 'alarm',
    data: AlarmRetriggeredData,
    description:
      'Counted on the open alarm (`count`, `lastAt`, `data` merged with the new report), never a new alarm; a cleared alarm becomes active again (`state` back to raised, or acknowledged if it was). At most one per alarm per 60 s: the trailing one carries the alarm as it is then. `data` is left out only on the trailing event written when the gateway stops.',
    title: "An open alarm's condition was reported again",
    examples: EXAMPLES['alarm.retriggered'],
  },
  {
    type: 'alarm.acknowledged',
    class: 'alarm',
    data: AlarmAcknowledgedData,
    description:
      "After `alarm.acknowledge`: `by` is the caller's principal, `role` its role. A raised alarm becomes `acknowledged`; a cleared one stays `cleared` (it is acknowledged all the same).",
    title: 'Someone took charge of an alarm',
    examples: EXAMPLES['alarm.acknowledged'],
  },
  {
    type: 'alarm.cleared',
    class: 'alarm',
    data: AlarmClearedData,
    description:
      "The source reported the condition gone (or, after a restart, did not report it again within the grace: `data.unconfirmedAfterRestart`). The alarm stays open until closed, unless its kind closes itself (an `alarm.closed` with `reason: auto` follows at once). The first clear of an alarm goes out at once with `clearedAt` and the source's `data`; later clears of a flapping condition are rate-limited with its re-triggers and carry neither.",
    title: "An alarm's condition is gone",
    examples: EXAMPLES['alarm.cleared'],
  },
  {
    type: 'alarm.closed',
    class: 'alarm',
    data: AlarmClosedData,
    description:
      '`reason: operator` after `alarm.close` (`by`, `role`, `note` of the caller); `auto` when a kind of `alarms.autoCloseOnClear` cleared, and `overflow` when more than `alarms.maxOpen` alarms were open (`by: gateway` for both). The condition never holds at close (`active: false`). The next report of the same condition raises a new alarm.',
    title: 'An alarm was closed',
    examples: EXAMPLES['alarm.closed'],
  },
  {
    type: 'alarm.media',
    class: 'alarm',
    data: AlarmMediaData,
    description:
      "A camera linkage took a snapshot for the alarm (open or recently closed); `mediaId` names it for the camera family's media.",
    title: 'A picture was attached to an alarm',
    examples: EXAMPLES['alarm.media'],
  },
  {
    type: 'linkage.executed',
    class: 'system',
    data: LinkageExecutedData,
    description:
      'One per action of every matching `linkage` rule (index `rule`), when an alarm is raised or a cleared one becomes active again (not on every re-trigger). `output`: the output on for `seconds` (`extended` when it was already on: true if its end moved later, false if it already ran longer); `camera`: preset then snapshot, `mediaId` when a picture was taken; `notify`: the console was told. `ok: false` with `error` when the device failed; the alarm itself never waits for linkage.',
    title: 'A linkage action ran for an alarm',
    source: z.object({ device: z.literal('gateway'), point: z.literal('linkage') }),
    examples: EXAMPLES['linkage.executed'],
  },
]);

declare module '../core/events.js' {
  interface EventDataMap {
    'alarm.raised': z.input<typeof AlarmRaisedData>;
    'alarm.retriggered': z.input<typeof AlarmRetriggeredData>;
    'alarm.acknowledged': z.input<typeof AlarmAcknowledgedData>;
    'alarm.cleared': z.input<typeof AlarmClearedData>;
    'alarm.closed': z.input<typeof AlarmClosedData>;
    'alarm.media': z.input<typeof AlarmMediaData>;
    'linkage.executed': z.input<typeof LinkageExecutedData>;
  }
}
