/**
 * What the outbox reports about itself (evictions, full disk).
 * The `data` schemas (zod) of the event types recorded here, declared once: `record()` is typed
 * by them and `npm run docs` generates docs/asyncapi.yaml from them.
 */
import { z } from 'zod';
import { EventClass, Timestamp } from '../events/common-schemas.js';
import { eventList } from '../events/declare.js';

export const OutboxEvictedData = z
  .strictObject({
    class: EventClass,
    fromSeq: z.int().min(1),
    toSeq: z.int().min(1),
    count: z.int().min(1),
    reason: z.enum(['disk-cap', 'disk-full', 'ttl']),
  })
  .meta({ id: 'OutboxEvictedData' });
export const OutboxDiskFullData = z
  .strictObject({
    state: z.enum(['full', 'recovered']),
    since: Timestamp,
    until: Timestamp.optional(),
    code: z.string().meta({ description: 'The storage error seen first, e.g. SQLITE_FULL or SQLITE_IOERR_WRITE.' }).optional(),
    rejected: z.int().min(0).meta({ description: 'Events refused (not recorded) while the disk was full.' }).optional(),
  })
  .meta({ id: 'OutboxDiskFullData' });

const OutboxEvictedEvent = OutboxEvictedData;
const OutboxDiskFullEvent = OutboxDiskFullData;

export const OUTBOX_EVENTS = eventList([
  {
    type: 'outbox.evicted',
    class: 'system',
    data: OutboxEvictedEvent,
    description: 'Every undelivered event of `class` with seq in [fromSeq, toSeq] was dropped, `count` in all. Alarms are never evicted.',
    title: 'Events were dropped, and which',
    examples: [
      {
        name: 'cap',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1C3R',
          seq: 18352,
          ts: '2026-11-21T21:09:00.000Z',
          clock: 'synced',
          type: 'outbox.evicted',
          source: { device: 'gateway' },
          data: { class: 'device', fromSeq: 10, toSeq: 2009, count: 1800, reason: 'disk-cap' },
        },
      },
    ],
  },
  {
    type: 'outbox.disk_full',
    class: 'system',
    data: OutboxDiskFullEvent,
    description:
      'Pinned. `state: full` when a commit failed even after evicting telemetry (recorded at once with the room of the reserve file, or later with its original time); events that could not be committed were refused (a device got no ACK/PUBACK and sends again). `state: recovered` once commits succeed and the reserve is back, with how many events were refused in between. The alarm `outbox.disk_full` (critical) is raised and cleared alongside.',
    title: 'The disk holding the outbox was full, and when it came back',
    examples: [
      {
        name: 'full',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1C3Z',
          seq: 18353,
          ts: '2026-11-21T21:10:00.000Z',
          clock: 'synced',
          type: 'outbox.disk_full',
          source: { device: 'gateway', point: 'outbox' },
          data: { state: 'full', since: '2026-11-21T21:10:00.000Z', code: 'SQLITE_FULL' },
        },
      },
      {
        name: 'recovered',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1C40',
          seq: 18354,
          ts: '2026-11-21T21:40:00.000Z',
          clock: 'synced',
          type: 'outbox.disk_full',
          source: { device: 'gateway', point: 'outbox' },
          data: { state: 'recovered', since: '2026-11-21T21:10:00.000Z', until: '2026-11-21T21:40:00.000Z', rejected: 12 },
        },
      },
    ],
  },
]);

declare module '../core/events.js' {
  interface EventDataMap {
    'outbox.evicted': z.input<typeof OutboxEvictedEvent>;
    'outbox.disk_full': z.input<typeof OutboxDiskFullEvent>;
  }
}
