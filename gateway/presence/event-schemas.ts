/**
 * Device presence of every family (device.online, device.offline).
 * The `data` schemas (zod) of the event types recorded here, declared once: `record()` is typed
 * by them and `npm run docs` generates docs/asyncapi.yaml from them.
 */
import { z } from 'zod';
import { EXAMPLES } from './event-examples.js';
import { eventList } from '../events/declare.js';

export const ReaderIdentity = z
  .strictObject({
    vendor: z
      .string()
      .regex(/^[0-9A-F]{6}$/)
      .meta({ description: 'IEEE OUI of the manufacturer, as uppercase hex.' }),
    model: z.int().min(0).max(255),
    version: z.int().min(0).max(255),
    serial: z.int().min(0).max(4294967295),
    firmware: z
      .string()
      .regex(/^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$/)
      .meta({ description: '`major.minor.build`.' }),
  })
  .meta({ description: 'What the reader reported in osdp_PDID.' })
  .meta({ id: 'ReaderIdentity' });
export const DeviceOnlineData = z
  .strictObject({
    family: z.enum(['lock', 'cabinet', 'reader', 'camera', 'module', 'panel']),
    secure: z
      .boolean()
      .meta({ description: 'Readers only: the secure channel is up. `false` only for readers configured `secure: off`.' })
      .optional(),
    identity: ReaderIdentity.optional(),
  })
  // The document's if/then/else below, for zod's own parse (toJSONSchema leaves refinements out).
  .refine((d) => (d.family === 'reader' ? d.secure !== undefined : d.secure === undefined && d.identity === undefined), {
    message: 'a reader says secure; other families say neither secure nor identity',
  })
  .meta({
    description:
      '`device.online`. Locks, cabinets, cameras, input modules and DC-09 panels send `{ family }` only; an OSDP reader also says whether its secure channel is up and, when it answered osdp_ID, who it is.',
    if: { properties: { family: { const: 'reader' } } },
    then: { required: ['secure'] },
    else: { not: { anyOf: [{ required: ['secure'] }, { required: ['identity'] }] } },
  })
  .meta({ id: 'DeviceOnlineData' });
export const DevicePresenceData = z
  .strictObject({
    family: z.enum(['lock', 'cabinet', 'reader', 'camera', 'module', 'panel']),
    reason: z
      .string()
      .max(200)
      .meta({
        description:
          'Why it went offline, e.g. `connection_lost`, `no answer`; input modules `no_answer`, `bus_down`, `timeout`; DC-09 panels `silent` (not heard within supervisionS × 1.5 + 30 s); cameras: `unreachable`, `auth_failed`, `protocol_error`, `missing_secret`.',
      })
      .optional(),
  })
  // The document's if/then below, for zod's own parse (toJSONSchema leaves refinements out).
  .refine((d) => d.family !== 'reader' || d.reason !== undefined, { message: 'a reader always says why it went offline' })
  .meta({
    description:
      '`device.offline` (all families, announced by the shared presence policy: a flapping device is held offline, see `device.flapping`). Readers always carry a `reason`.',
    if: { properties: { family: { const: 'reader' } } },
    then: { required: ['reason'] },
  })
  .meta({ id: 'DevicePresenceData' });

export const PRESENCE_EVENTS = eventList([
  {
    type: 'device.online',
    class: 'device',
    data: DeviceOnlineData,
    description: 'A device came online',
    examples: EXAMPLES['device.online'],
  },
  {
    type: 'device.offline',
    class: 'device',
    data: DevicePresenceData,
    description: 'A device went offline',
    examples: EXAMPLES['device.offline'],
  },
]);

declare module '../core/events.js' {
  interface EventDataMap {
    'device.online': z.input<typeof DeviceOnlineData>;
    'device.offline': z.input<typeof DevicePresenceData>;
  }
}
