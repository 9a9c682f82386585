/**
 * The alarm lifecycle (alarm.*) and linkage.
 * The `data` schemas (zod) of the event types recorded here, declared once: `record()` is typed
 * by them and `npm run docs` generates docs/asyncapi.yaml from them.
 */
import { z } from 'zod';
import { Timestamp } from '../events/common-schemas.js';
import { eventList } from '../events/declare.js';

export const AlarmPriority = z
  .enum(['critical', 'high', 'medium', 'low'])
  .meta({
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
export const AlarmActive = z
  .boolean()
  .meta({
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
export const AlarmCloseReason = z
  .enum(['operator', 'auto', 'overflow'])
  .meta({
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
export const AlarmState = z
  .enum(['raised', 'acknowledged', 'cleared', 'closed'])
  .meta({
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

const AlarmRaisedEvent = AlarmRaisedData;
const AlarmRetriggeredEvent = AlarmRetriggeredData;
const AlarmAcknowledgedEvent = AlarmAcknowledgedData;
const AlarmClearedEvent = AlarmClearedData;
const AlarmClosedEvent = AlarmClosedData;
const AlarmMediaEvent = AlarmMediaData;
const LinkageExecutedEvent = LinkageExecutedData;

export const ALARM_EVENTS = eventList([
  {
    type: 'alarm.raised',
    class: 'alarm',
    data: AlarmRaisedEvent,
    description:
      "A source reported a condition for which no alarm is open: a new alarm (new `alarmId`), `state: raised`, `count: 1`. `active` is false only for a momentary report (no clear will follow; it can be closed at once). `data` is what the source reported (its event's data without `active` and `priority`).",
    title: 'A condition became an alarm',
    examples: [
      {
        name: 'doorForced',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1E01',
          seq: 20030,
          ts: '2026-11-21T02:13:00.001Z',
          clock: 'synced',
          type: 'alarm.raised',
          source: { device: 'lobby' },
          data: {
            alarmId: '01JD3M6R9Q8Z4X7V2N5T0B1D01',
            kind: 'door.forced',
            source: { device: 'lobby' },
            priority: 'high',
            state: 'raised',
            active: true,
            count: 1,
            lastAt: '2026-11-21T02:13:00.000Z',
            raisedAt: '2026-11-21T02:13:00.000Z',
            data: { door: 'lobby' },
          },
        },
      },
      {
        name: 'portHot',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1E02',
          seq: 19010,
          ts: '2026-11-21T22:01:00.001Z',
          clock: 'synced',
          type: 'alarm.raised',
          source: { device: 'cab-1', point: 'port-4' },
          data: {
            alarmId: '01JD3M6R9Q8Z4X7V2N5T0B1D02',
            kind: 'charging.port_over_temperature',
            source: { device: 'cab-1', point: 'port-4' },
            priority: 'high',
            state: 'raised',
            active: true,
            count: 1,
            lastAt: '2026-11-21T22:01:00.000Z',
            raisedAt: '2026-11-21T22:01:00.000Z',
            data: { cabinet: 'cab-1', port: 4, value: 61.5 },
          },
        },
      },
    ],
  },
  {
    type: 'alarm.retriggered',
    class: 'alarm',
    data: AlarmRetriggeredEvent,
    description:
      'Counted on the open alarm (`count`, `lastAt`, `data` merged with the new report), never a new alarm; a cleared alarm becomes active again (`state` back to raised, or acknowledged if it was). At most one per alarm per 60 s: the trailing one carries the alarm as it is then. `data` is left out only on the trailing event written when the gateway stops.',
    title: "An open alarm's condition was reported again",
    examples: [
      {
        name: 'again',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1E03',
          seq: 20035,
          ts: '2026-11-21T02:15:00.001Z',
          clock: 'synced',
          type: 'alarm.retriggered',
          source: { device: 'lobby' },
          data: {
            alarmId: '01JD3M6R9Q8Z4X7V2N5T0B1D01',
            kind: 'door.forced',
            source: { device: 'lobby' },
            priority: 'high',
            state: 'acknowledged',
            active: true,
            count: 4,
            lastAt: '2026-11-21T02:15:00.000Z',
            data: { door: 'lobby' },
          },
        },
      },
    ],
  },
  {
    type: 'alarm.acknowledged',
    class: 'alarm',
    data: AlarmAcknowledgedEvent,
    description:
      "After `alarm.acknowledge`: `by` is the caller's principal, `role` its role. A raised alarm becomes `acknowledged`; a cleared one stays `cleared` (it is acknowledged all the same).",
    title: 'Someone took charge of an alarm',
    examples: [
      {
        name: 'guard',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1E04',
          seq: 20031,
          ts: '2026-11-21T02:13:40.000Z',
          clock: 'synced',
          type: 'alarm.acknowledged',
          source: { device: 'lobby' },
          data: {
            alarmId: '01JD3M6R9Q8Z4X7V2N5T0B1D01',
            kind: 'door.forced',
            source: { device: 'lobby' },
            priority: 'high',
            state: 'acknowledged',
            active: true,
            count: 1,
            lastAt: '2026-11-21T02:13:00.000Z',
            by: 'guard-anna',
            role: 'guard',
            note: 'on my way',
          },
        },
      },
    ],
  },
  {
    type: 'alarm.cleared',
    class: 'alarm',
    data: AlarmClearedEvent,
    description:
      "The source reported the condition gone (or, after a restart, did not report it again within the grace: `data.unconfirmedAfterRestart`). The alarm stays open until closed, unless its kind closes itself (an `alarm.closed` with `reason: auto` follows at once). The first clear of an alarm goes out at once with `clearedAt` and the source's `data`; later clears of a flapping condition are rate-limited with its re-triggers and carry neither.",
    title: "An alarm's condition is gone",
    examples: [
      {
        name: 'doorClosed',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1E05',
          seq: 20033,
          ts: '2026-11-21T02:14:20.001Z',
          clock: 'synced',
          type: 'alarm.cleared',
          source: { device: 'lobby' },
          data: {
            alarmId: '01JD3M6R9Q8Z4X7V2N5T0B1D01',
            kind: 'door.forced',
            source: { device: 'lobby' },
            priority: 'high',
            state: 'cleared',
            active: false,
            count: 1,
            lastAt: '2026-11-21T02:14:20.000Z',
            clearedAt: '2026-11-21T02:14:20.000Z',
            data: { door: 'lobby' },
          },
        },
      },
      {
        name: 'afterRestart',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1E06',
          seq: 20101,
          ts: '2026-11-21T04:05:00.001Z',
          clock: 'synced',
          type: 'alarm.cleared',
          source: { device: 'main-gate' },
          data: {
            alarmId: '01JD3M6R9Q8Z4X7V2N5T0B1D03',
            kind: 'door.held_open',
            source: { device: 'main-gate' },
            priority: 'medium',
            state: 'cleared',
            active: false,
            count: 1,
            lastAt: '2026-11-21T04:05:00.000Z',
            clearedAt: '2026-11-21T04:05:00.000Z',
            data: { unconfirmedAfterRestart: true },
          },
        },
      },
    ],
  },
  {
    type: 'alarm.closed',
    class: 'alarm',
    data: AlarmClosedEvent,
    description:
      '`reason: operator` after `alarm.close` (`by`, `role`, `note` of the caller); `auto` when a kind of `alarms.autoCloseOnClear` cleared, and `overflow` when more than `alarms.maxOpen` alarms were open (`by: gateway` for both). The condition never holds at close (`active: false`). The next report of the same condition raises a new alarm.',
    title: 'An alarm was closed',
    examples: [
      {
        name: 'guard',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1E07',
          seq: 20034,
          ts: '2026-11-21T02:20:00.000Z',
          clock: 'synced',
          type: 'alarm.closed',
          source: { device: 'lobby' },
          data: {
            alarmId: '01JD3M6R9Q8Z4X7V2N5T0B1D01',
            kind: 'door.forced',
            source: { device: 'lobby' },
            priority: 'high',
            state: 'closed',
            active: false,
            count: 1,
            lastAt: '2026-11-21T02:14:20.000Z',
            by: 'guard-anna',
            role: 'guard',
            note: 'door repaired',
            reason: 'operator',
          },
        },
      },
      {
        name: 'auto',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1E08',
          seq: 20041,
          ts: '2026-11-21T21:09:00.001Z',
          clock: 'synced',
          type: 'alarm.closed',
          source: { device: 'main-gate-in' },
          data: {
            alarmId: '01JD3M6R9Q8Z4X7V2N5T0B1D04',
            kind: 'reader.offline',
            source: { device: 'main-gate-in' },
            priority: 'medium',
            state: 'closed',
            active: false,
            count: 1,
            lastAt: '2026-11-21T21:09:00.000Z',
            by: 'gateway',
            reason: 'auto',
          },
        },
      },
    ],
  },
  {
    type: 'alarm.media',
    class: 'alarm',
    data: AlarmMediaEvent,
    description:
      "A camera linkage took a snapshot for the alarm (open or recently closed); `mediaId` names it for the camera family's media.",
    title: 'A picture was attached to an alarm',
    examples: [
      {
        name: 'snapshot',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1E09',
          seq: 20032,
          ts: '2026-11-21T02:13:01.200Z',
          clock: 'synced',
          type: 'alarm.media',
          source: { device: 'lobby' },
          data: {
            alarmId: '01JD3M6R9Q8Z4X7V2N5T0B1D01',
            kind: 'door.forced',
            source: { device: 'lobby' },
            priority: 'high',
            state: 'raised',
            active: true,
            count: 1,
            lastAt: '2026-11-21T02:13:00.000Z',
            mediaId: '01JD3M6R9Q8Z4X7V2N5T0B1F01',
          },
        },
      },
    ],
  },
  {
    type: 'linkage.executed',
    class: 'system',
    data: LinkageExecutedEvent,
    description:
      'One per action of every matching `linkage` rule (index `rule`), when an alarm is raised or a cleared one becomes active again (not on every re-trigger). `output`: the output on for `seconds` (`extended` when it was already on: true if its end moved later, false if it already ran longer); `camera`: preset then snapshot, `mediaId` when a picture was taken; `notify`: the console was told. `ok: false` with `error` when the device failed; the alarm itself never waits for linkage.',
    title: 'A linkage action ran for an alarm',
    source: z.object({ device: z.literal('gateway'), point: z.literal('linkage') }),
    examples: [
      {
        name: 'siren',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1E10',
          seq: 20036,
          ts: '2026-11-21T02:13:00.040Z',
          clock: 'synced',
          type: 'linkage.executed',
          source: { device: 'gateway', point: 'linkage' },
          data: {
            rule: 0,
            alarmId: '01JD3M6R9Q8Z4X7V2N5T0B1D01',
            kind: 'door.forced',
            alarmSource: { device: 'lobby' },
            action: 'output',
            target: 'siren-1',
            seconds: 60,
            ok: true,
          },
        },
      },
      {
        name: 'snapshot',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1E11',
          seq: 20037,
          ts: '2026-11-21T02:13:01.210Z',
          clock: 'synced',
          type: 'linkage.executed',
          source: { device: 'gateway', point: 'linkage' },
          data: {
            rule: 1,
            alarmId: '01JD3M6R9Q8Z4X7V2N5T0B1D01',
            kind: 'door.forced',
            alarmSource: { device: 'lobby' },
            action: 'camera',
            target: 'cam-lobby',
            preset: 'door',
            ok: true,
            mediaId: '01JD3M6R9Q8Z4X7V2N5T0B1F01',
          },
        },
      },
      {
        name: 'noDriver',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1E12',
          seq: 20038,
          ts: '2026-11-21T02:13:00.041Z',
          clock: 'synced',
          type: 'linkage.executed',
          source: { device: 'gateway', point: 'linkage' },
          data: {
            rule: 1,
            alarmId: '01JD3M6R9Q8Z4X7V2N5T0B1D01',
            kind: 'door.forced',
            alarmSource: { device: 'lobby' },
            action: 'camera',
            target: 'cam-lobby',
            ok: false,
            error: 'no camera driver',
          },
        },
      },
      {
        name: 'console',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1E13',
          seq: 20039,
          ts: '2026-11-21T02:13:00.042Z',
          clock: 'synced',
          type: 'linkage.executed',
          source: { device: 'gateway', point: 'linkage' },
          data: {
            rule: 2,
            alarmId: '01JD3M6R9Q8Z4X7V2N5T0B1D01',
            kind: 'door.forced',
            alarmSource: { device: 'lobby' },
            action: 'notify',
            target: 'console',
            ok: true,
          },
        },
      },
    ],
  },
]);

declare module '../core/events.js' {
  interface EventDataMap {
    'alarm.raised': z.input<typeof AlarmRaisedEvent>;
    'alarm.retriggered': z.input<typeof AlarmRetriggeredEvent>;
    'alarm.acknowledged': z.input<typeof AlarmAcknowledgedEvent>;
    'alarm.cleared': z.input<typeof AlarmClearedEvent>;
    'alarm.closed': z.input<typeof AlarmClosedEvent>;
    'alarm.media': z.input<typeof AlarmMediaEvent>;
    'linkage.executed': z.input<typeof LinkageExecutedEvent>;
  }
}
