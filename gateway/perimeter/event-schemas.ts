/**
 * Perimeter partitions and zones, and SIA DC-09 alarm panels.
 * The `data` schemas (zod) of the event types recorded here, declared once: `record()` is typed
 * by them and `npm run docs` generates docs/asyncapi.yaml from them.
 */
import { z } from 'zod';
import { Id, Timestamp } from '../events/common-schemas.js';
import { eventList } from '../events/declare.js';

export const PartitionArmData = z
  .strictObject({
    partition: Id,
    by: z.string().min(1).meta({ description: "`schedule`, or the principal of the command's caller." }),
    notReady: z
      .array(Id)
      .meta({ description: 'Zones tripped when the partition was armed: not raised until back to normal once. Empty on disarm.' }),
  })
  .meta({ id: 'PartitionArmData' });
export const ZoneBypassedData = z
  .strictObject({
    zone: Id,
    by: z.string().min(1).meta({ description: "The caller's principal." }),
    minutes: z.int().min(1).max(1440),
    until: Timestamp,
  })
  .meta({ id: 'ZoneBypassedData' });
export const ZoneUnbypassedData = z
  .strictObject({
    zone: Id,
    by: z.string().min(1).meta({ description: "The caller's principal, or `expiry` when the bypass time ran out." }),
  })
  .meta({ id: 'ZoneUnbypassedData' });
export const Dc09ExtendedData = z
  .strictObject({
    raw: z.array(z.string()).meta({ description: 'Every block without its brackets, in order (`M0026B9E4268B`, `X8.5417E`).' }),
    authenticationHash: z.string().meta({ description: 'A' }).optional(),
    supervisionCategory: z.string().meta({ description: 'C' }).optional(),
    occurredAt: z.string().meta({ description: 'H: when the event happened, as sent.' }).optional(),
    occurredAtIso: z.iso.datetime().meta({ description: 'H as ISO-8601, when it is a DC-09 timestamp (GMT).' }).optional(),
    alarmText: z.string().meta({ description: 'I' }).optional(),
    networkPath: z.string().meta({ description: 'J' }).optional(),
    keyChange: z.literal(true).meta({ description: 'K: the panel sent a key exchange (the key itself is dropped).' }).optional(),
    location: z.string().meta({ description: 'L' }).optional(),
    mac: z.string().meta({ description: 'M: MAC address of the panel, upper case.' }).optional(),
    networkAddress: z.string().meta({ description: 'N' }).optional(),
    buildingName: z.string().meta({ description: 'O' }).optional(),
    program: z.string().meta({ description: 'P' }).optional(),
    room: z.string().meta({ description: 'R' }).optional(),
    siteName: z.string().meta({ description: 'S' }).optional(),
    trigger: z.string().meta({ description: 'T' }).optional(),
    verification: z.string().meta({ description: 'V: verification (audio/video) information as sent.' }).optional(),
    verificationUrl: z.string().meta({ description: 'V when it is an http(s) link.' }).optional(),
    longitude: z.string().meta({ description: 'X as sent.' }).optional(),
    latitude: z.string().meta({ description: 'Y as sent.' }).optional(),
    altitude: z.string().meta({ description: 'Z as sent.' }).optional(),
    longitudeDeg: z.number().min(-180).max(180).meta({ description: 'X in decimal degrees, east positive, when it parses.' }).optional(),
    latitudeDeg: z.number().min(-90).max(90).meta({ description: 'Y in decimal degrees, north positive, when it parses.' }).optional(),
    altitudeM: z.number().meta({ description: 'Z in metres, when it parses.' }).optional(),
  })
  .meta({
    description:
      'DC-09 extended data (`[X…]` blocks after the data) of the message: every block as sent in `raw`, known identifiers as named fields. A `K` (new encryption key) is never kept: `keyChange: true` and `K[redacted]` in `raw`.',
  })
  .meta({ id: 'Dc09ExtendedData' });
export const PanelEventData = z
  .strictObject({
    account: z
      .string()
      .regex(/^[0-9A-Fa-f]{3,16}$/)
      .meta({ description: "The panel's account as configured (`alarmPanels[].account`)." }),
    protocol: z.enum(['SIA-DCS', 'ADM-CID']).meta({ description: 'SIA-DCS (SIA DC-03 codes) or ADM-CID (Contact ID).' }),
    code: z
      .string()
      .regex(/^([A-Z]{2}|[ERP][0-9]{3}|)$/)
      .meta({
        description:
          'As sent: a SIA two-letter code (`OP`, `BB`, `RP`...) or the Contact ID qualifier (E new/opening, R restore/closing, P previously reported) and event (`E401`, `R570`); empty for a SIA message of text alone (`#1234|AService visit`).',
      }),
    text: z
      .string()
      .min(1)
      .meta({
        description: 'What the code means (`Opening report`), or `SIA XX` / `Contact ID nnn` for a code the gateway does not know.',
      }),
    area: z
      .int()
      .min(0)
      .nullable()
      .meta({ description: 'Area / partition (SIA `ri`, Contact ID group); null when the panel did not say.' }),
    zone: z.int().min(0).nullable().meta({ description: 'Zone; null for openings/closings and when absent. 0 is the panel itself.' }),
    user: z.int().min(0).meta({ description: 'User number (openings/closings, SIA `id`).' }).optional(),
    seq: z
      .string()
      .regex(/^[0-9]{4}$/)
      .meta({ description: "The message's DC-09 sequence number." }),
    note: z.string().meta({ description: 'Free text the panel appended (SIA `^...^`).' }).optional(),
    panelTime: Timestamp.meta({ description: "The panel's own timestamp, when it sent one." }).optional(),
    panelText: z
      .string()
      .meta({
        description:
          "Text of the message's SIA ASCII `A` block(s) (`#1234|NRR|Atest` gives `test`); for a text-only message also its `text`.",
      })
      .optional(),
    blocks: z.array(z.string()).meta({ description: 'SIA data blocks that are neither events nor text, as sent.' }).optional(),
    extended: Dc09ExtendedData.optional(),
    verificationUrl: z
      .string()
      .regex(/^[Hh][Tt][Tt][Pp][Ss]?:\/\//)
      .meta({
        description:
          "The panel's audio/video verification link (extended data `V`) when it is an http(s) URL: on the alarm, so the console can open it.",
      })
      .optional(),
  })
  .meta({ description: 'What a SIA DC-09 panel said, for every panel event (and as the `data` of panel alarm conditions).' })
  .meta({ id: 'PanelEventData' });

const PartitionArmedEvent = PartitionArmData;
const PartitionDisarmedEvent = PartitionArmData;
const ZoneBypassedEvent = ZoneBypassedData;
const ZoneUnbypassedEvent = ZoneUnbypassedData;
const PanelOpenedEvent = PanelEventData;
const PanelClosedEvent = PanelEventData;
const PanelBypassedEvent = PanelEventData;
const PanelUnbypassedEvent = PanelEventData;
const PanelTestEvent = PanelEventData;
const PanelEventEvent = PanelEventData;

export const PERIMETER_EVENTS = eventList([
  {
    type: 'partition.armed',
    class: 'alarm',
    data: PartitionArmedEvent,
    description:
      "By its arm schedule (`by: schedule`) or by `partition.arm` (`by`: the caller's principal). Its perimeter zones report alarms from now on; `notReady` lists the zones tripped at arming, which are not raised until they have been back to normal once. Source: the partition. Raises no alarm.",
    title: 'A perimeter partition was armed',
    examples: [
      {
        name: 'bySchedule',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1P01',
          seq: 21001,
          ts: '2026-11-21T22:00:00.005Z',
          clock: 'synced',
          type: 'partition.armed',
          source: { device: 'north' },
          data: { partition: 'north', by: 'schedule', notReady: [] },
        },
      },
      {
        name: 'byGuardNotReady',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1P02',
          seq: 21002,
          ts: '2026-11-21T22:05:00.000Z',
          clock: 'synced',
          type: 'partition.armed',
          source: { device: 'north' },
          data: { partition: 'north', by: 'guard-anna', notReady: ['north-beam-2'] },
        },
      },
    ],
  },
  {
    type: 'partition.disarmed',
    class: 'alarm',
    data: PartitionDisarmedEvent,
    description:
      'By its arm schedule (`by: schedule`) or by `partition.disarm`. Its perimeter zone alarms clear (`alarm.cleared`); h24, panic and fire zones stay armed. `notReady` is always empty. Raises no alarm.',
    title: 'A perimeter partition was disarmed',
    examples: [
      {
        name: 'morning',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1P03',
          seq: 21010,
          ts: '2026-11-22T06:00:00.005Z',
          clock: 'synced',
          type: 'partition.disarmed',
          source: { device: 'north' },
          data: { partition: 'north', by: 'schedule', notReady: [] },
        },
      },
    ],
  },
  {
    type: 'zone.bypassed',
    class: 'alarm',
    data: ZoneBypassedEvent,
    description:
      'After `zone.bypass`: the zone raises nothing until `until` (`minutes` from the command; a new bypass of a bypassed zone replaces it). Source: the zone. Raises no alarm.',
    title: 'A zone was bypassed',
    examples: [
      {
        name: 'delivery',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1P04',
          seq: 21020,
          ts: '2026-11-21T22:10:00.000Z',
          clock: 'synced',
          type: 'zone.bypassed',
          source: { device: 'north-beam-2' },
          data: { zone: 'north-beam-2', by: 'guard-anna', minutes: 30, until: '2026-11-21T22:40:00.000Z' },
        },
      },
    ],
  },
  {
    type: 'zone.unbypassed',
    class: 'alarm',
    data: ZoneUnbypassedEvent,
    description:
      "`by`: the caller's principal after `zone.unbypass`, or `expiry` when its time ran out. Whatever the zone still holds is raised from now on. Raises no alarm itself.",
    title: 'A zone bypass ended',
    examples: [
      {
        name: 'expired',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1P05',
          seq: 21030,
          ts: '2026-11-21T22:40:00.001Z',
          clock: 'synced',
          type: 'zone.unbypassed',
          source: { device: 'north-beam-2' },
          data: { zone: 'north-beam-2', by: 'expiry' },
        },
      },
      {
        name: 'byGuard',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1P06',
          seq: 21031,
          ts: '2026-11-21T22:20:00.000Z',
          clock: 'synced',
          type: 'zone.unbypassed',
          source: { device: 'north-beam-2' },
          data: { zone: 'north-beam-2', by: 'guard-anna' },
        },
      },
    ],
  },
  {
    type: 'panel.opened',
    class: 'access',
    data: PanelOpenedEvent,
    description:
      'A person disarmed the panel or an area of it: SIA `OP`, `OA`, `OG`, `OR`, Contact ID 400-409/441 with qualifier 1 (or 6). `user` is the user number when the panel sent one; `zone` is always null. Source: the panel, `point: area-<n>` when the area is known.',
    title: 'A DC-09 alarm panel was disarmed (opening)',
    examples: [
      {
        name: 'user3',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1P07',
          seq: 21040,
          ts: '2026-11-22T07:02:11.000Z',
          clock: 'synced',
          type: 'panel.opened',
          source: { device: 'panel-b7', point: 'area-1' },
          data: {
            account: 'B7A1',
            protocol: 'ADM-CID',
            code: 'E401',
            text: 'Open/close by user',
            area: 1,
            zone: null,
            seq: '0042',
            user: 3,
            panelTime: '2026-11-22T07:02:10.000Z',
          },
        },
      },
    ],
  },
  {
    type: 'panel.closed',
    class: 'access',
    data: PanelClosedEvent,
    description:
      "A person (or the panel's own schedule) armed the panel or an area: SIA `CL`, `CA`, `CG`, `NL`, Contact ID 400-409/441 with qualifier 3. Same data as `panel.opened`.",
    title: 'A DC-09 alarm panel was armed (closing)',
    examples: [
      {
        name: 'sia',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1P08',
          seq: 21041,
          ts: '2026-11-21T22:30:00.000Z',
          clock: 'synced',
          type: 'panel.closed',
          source: { device: 'panel-b7', point: 'area-1' },
          data: { account: 'B7A1', protocol: 'SIA-DCS', code: 'CL', text: 'Closing report', area: 1, zone: null, seq: '0043', user: 12 },
        },
      },
    ],
  },
  {
    type: 'panel.bypassed',
    class: 'device',
    data: PanelBypassedEvent,
    description:
      'SIA `BB`, `UB`, `FB`, `TB`; Contact ID 570-574 with qualifier 1 (or 6). Source: the panel, `point: zone-<n>` (or `area-<n>` for zone 0). A fact, not an alarm.',
    title: 'A panel zone was bypassed at the panel',
    examples: [
      {
        name: 'zone7',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1P09',
          seq: 21050,
          ts: '2026-11-21T22:31:00.000Z',
          clock: 'synced',
          type: 'panel.bypassed',
          source: { device: 'panel-b7', point: 'zone-7' },
          data: { account: 'B7A1', protocol: 'ADM-CID', code: 'E570', text: 'Zone bypass', area: 1, zone: 7, seq: '0044' },
        },
      },
    ],
  },
  {
    type: 'panel.unbypassed',
    class: 'device',
    data: PanelUnbypassedEvent,
    description: 'SIA `BU`, `UU`, `FU`, `TU`; Contact ID 570-574 with qualifier 3.',
    title: 'A panel zone was put back in service',
    examples: [
      {
        name: 'zone7',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1P10',
          seq: 21051,
          ts: '2026-11-22T06:00:00.000Z',
          clock: 'synced',
          type: 'panel.unbypassed',
          source: { device: 'panel-b7', point: 'zone-7' },
          data: { account: 'B7A1', protocol: 'SIA-DCS', code: 'BU', text: 'Burglary unbypass', area: 1, zone: 7, seq: '0051' },
        },
      },
    ],
  },
  {
    type: 'panel.test',
    class: 'device',
    data: PanelTestEvent,
    description:
      "SIA `RP` (automatic), `RX` (manual); Contact ID 601-603. Every accepted message, NULL link tests included, also feeds the panel's supervision (`panel.offline`). Source: the panel alone.",
    title: "A panel's test report",
    examples: [
      {
        name: 'periodic',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1P11',
          seq: 21060,
          ts: '2026-11-21T23:00:00.000Z',
          clock: 'synced',
          type: 'panel.test',
          source: { device: 'panel-b7' },
          data: { account: 'B7A1', protocol: 'ADM-CID', code: 'E602', text: 'Periodic test', area: 0, zone: 0, seq: '0045' },
        },
      },
    ],
  },
  {
    type: 'panel.event',
    class: 'device',
    data: PanelEventEvent,
    description:
      'Codes that are neither alarms, troubles, restores of those, openings/closings, bypasses nor tests (power up, program mode, walk test, system reset...), SIA messages of text alone (`code` empty, the text in `text` and `panelText`) and codes the gateway does not know (`text` `SIA XX` / `Contact ID nnn`): kept, never dropped. Source: the panel, with `point` as for alarms.',
    title: 'Any other panel report',
    examples: [
      {
        name: 'unknown',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1P12',
          seq: 21070,
          ts: '2026-11-21T23:05:00.000Z',
          clock: 'synced',
          type: 'panel.event',
          source: { device: 'panel-b7', point: 'zone-3' },
          data: { account: 'B7A1', protocol: 'SIA-DCS', code: 'ZZ', text: 'SIA ZZ', area: 2, zone: 3, seq: '0046', note: 'vendor note' },
        },
      },
      {
        name: 'powerUp',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1P13',
          seq: 21071,
          ts: '2026-11-21T23:06:00.000Z',
          clock: 'synced',
          type: 'panel.event',
          source: { device: 'panel-b7' },
          data: { account: 'B7A1', protocol: 'SIA-DCS', code: 'RR', text: 'Power up', area: null, zone: null, seq: '0047' },
        },
      },
      {
        name: 'textWithExtendedData',
        summary:
          'A SIA message of text alone (`#B7A1|AService visit]`) with extended data: no code is invented, the text is kept, `[M…]` and `[X…]`/`[Y…]` are named.',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1P14',
          seq: 21072,
          ts: '2026-11-21T23:07:00.000Z',
          clock: 'synced',
          type: 'panel.event',
          source: { device: 'panel-b7' },
          data: {
            account: 'B7A1',
            protocol: 'SIA-DCS',
            code: '',
            text: 'Service visit',
            area: null,
            zone: null,
            seq: '0048',
            panelText: 'Service visit',
            extended: {
              raw: ['M0026B9E4268B', 'X8.5417E', 'YN47.3769'],
              mac: '0026B9E4268B',
              longitude: '8.5417E',
              longitudeDeg: 8.5417,
              latitude: 'N47.3769',
              latitudeDeg: 47.3769,
            },
          },
        },
      },
    ],
  },
]);

declare module '../core/events.js' {
  interface EventDataMap {
    'partition.armed': z.input<typeof PartitionArmedEvent>;
    'partition.disarmed': z.input<typeof PartitionDisarmedEvent>;
    'zone.bypassed': z.input<typeof ZoneBypassedEvent>;
    'zone.unbypassed': z.input<typeof ZoneUnbypassedEvent>;
    'panel.opened': z.input<typeof PanelOpenedEvent>;
    'panel.closed': z.input<typeof PanelClosedEvent>;
    'panel.bypassed': z.input<typeof PanelBypassedEvent>;
    'panel.unbypassed': z.input<typeof PanelUnbypassedEvent>;
    'panel.test': z.input<typeof PanelTestEvent>;
    'panel.event': z.input<typeof PanelEventEvent>;
  }
}
