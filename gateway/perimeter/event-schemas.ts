/**
 * Perimeter partitions and zones, and SIA DC-09 alarm panels.
 * The `data` schemas (zod) of the event types recorded here, declared once: `record()` is typed
 * by them and `npm run docs` generates docs/asyncapi.yaml from them.
 */
import { z } from 'zod';
import { Id, Timestamp } from '../events/common-schemas.js';
import { EXAMPLES } from './event-examples.js';
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
    text: z.string().min(1).meta({
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

export const PERIMETER_EVENTS = eventList([
  {
    type: 'partition.armed',
    class: 'alarm',
    data: PartitionArmData,
    description:
      "By its arm schedule (`by: schedule`) or by `partition.arm` (`by`: the caller's principal). Its perimeter zones report alarms from now on; `notReady` lists the zones tripped at arming, which are not raised until they have been back to normal once. Source: the partition. Raises no alarm.",
    title: 'A perimeter partition was armed',
    examples: EXAMPLES['partition.armed'],
  },
  {
    type: 'partition.disarmed',
    class: 'alarm',
    data: PartitionArmData,
    description:
      'By its arm schedule (`by: schedule`) or by `partition.disarm`. Its perimeter zone alarms clear (`alarm.cleared`); h24, panic and fire zones stay armed. `notReady` is always empty. Raises no alarm.',
    title: 'A perimeter partition was disarmed',
    examples: EXAMPLES['partition.disarmed'],
  },
  {
    type: 'zone.bypassed',
    class: 'alarm',
    data: ZoneBypassedData,
    description:
      'After `zone.bypass`: the zone raises nothing until `until` (`minutes` from the command; a new bypass of a bypassed zone replaces it). Source: the zone. Raises no alarm.',
    title: 'A zone was bypassed',
    examples: EXAMPLES['zone.bypassed'],
  },
  {
    type: 'zone.unbypassed',
    class: 'alarm',
    data: ZoneUnbypassedData,
    description:
      "`by`: the caller's principal after `zone.unbypass`, or `expiry` when its time ran out. Whatever the zone still holds is raised from now on. Raises no alarm itself.",
    title: 'A zone bypass ended',
    examples: EXAMPLES['zone.unbypassed'],
  },
  {
    type: 'panel.opened',
    class: 'access',
    data: PanelEventData,
    description:
      'A person disarmed the panel or an area of it: SIA `OP`, `OA`, `OG`, `OR`, Contact ID 400-409/441 with qualifier 1 (or 6). `user` is the user number when the panel sent one; `zone` is always null. Source: the panel, `point: area-<n>` when the area is known.',
    title: 'A DC-09 alarm panel was disarmed (opening)',
    examples: EXAMPLES['panel.opened'],
  },
  {
    type: 'panel.closed',
    class: 'access',
    data: PanelEventData,
    description:
      "A person (or the panel's own schedule) armed the panel or an area: SIA `CL`, `CA`, `CG`, `NL`, Contact ID 400-409/441 with qualifier 3. Same data as `panel.opened`.",
    title: 'A DC-09 alarm panel was armed (closing)',
    examples: EXAMPLES['panel.closed'],
  },
  {
    type: 'panel.bypassed',
    class: 'device',
    data: PanelEventData,
    description:
      'SIA `BB`, `UB`, `FB`, `TB`; Contact ID 570-574 with qualifier 1 (or 6). Source: the panel, `point: zone-<n>` (or `area-<n>` for zone 0). A fact, not an alarm.',
    title: 'A panel zone was bypassed at the panel',
    examples: EXAMPLES['panel.bypassed'],
  },
  {
    type: 'panel.unbypassed',
    class: 'device',
    data: PanelEventData,
    description: 'SIA `BU`, `UU`, `FU`, `TU`; Contact ID 570-574 with qualifier 3.',
    title: 'A panel zone was put back in service',
    examples: EXAMPLES['panel.unbypassed'],
  },
  {
    type: 'panel.test',
    class: 'device',
    data: PanelEventData,
    description:
      "SIA `RP` (automatic), `RX` (manual); Contact ID 601-603. Every accepted message, NULL link tests included, also feeds the panel's supervision (`panel.offline`). Source: the panel alone.",
    title: "A panel's test report",
    examples: EXAMPLES['panel.test'],
  },
  {
    type: 'panel.event',
    class: 'device',
    data: PanelEventData,
    description:
      'Codes that are neither alarms, troubles, restores of those, openings/closings, bypasses nor tests (power up, program mode, walk test, system reset...), SIA messages of text alone (`code` empty, the text in `text` and `panelText`) and codes the gateway does not know (`text` `SIA XX` / `Contact ID nnn`): kept, never dropped. Source: the panel, with `point` as for alarms.',
    title: 'Any other panel report',
    examples: EXAMPLES['panel.event'],
  },
]);

declare module '../core/events.js' {
  interface EventDataMap {
    'partition.armed': z.input<typeof PartitionArmData>;
    'partition.disarmed': z.input<typeof PartitionArmData>;
    'zone.bypassed': z.input<typeof ZoneBypassedData>;
    'zone.unbypassed': z.input<typeof ZoneUnbypassedData>;
    'panel.opened': z.input<typeof PanelEventData>;
    'panel.closed': z.input<typeof PanelEventData>;
    'panel.bypassed': z.input<typeof PanelEventData>;
    'panel.unbypassed': z.input<typeof PanelEventData>;
    'panel.test': z.input<typeof PanelEventData>;
    'panel.event': z.input<typeof PanelEventData>;
  }
}
