/**
 * What the outbox reports about itself (evictions, full disk).
 * The `data` schemas (zod) of the event types recorded here, declared once: `record()` is typed
 * by them and `npm run docs` generates docs/asyncapi.yaml from them.
 */
import { z } from 'zod';
import { EventClass, Timestamp } from '../events/common-schemas.js';
import { EXAMPLES } from './event-examples.js';
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

export const OUTBOX_EVENTS = eventList([
  {
    type: 'outbox.evicted',
    class: 'system',
    data: OutboxEvictedData,
    description: 'Every undelivered event of `class` with seq in [fromSeq, toSeq] was dropped, `count` in all. Alarms are never evicted.',
    title: 'Events were dropped, and which',
    examples: EXAMPLES['outbox.evicted'],
  },
  {
    type: 'outbox.disk_full',
    class: 'system',
    data: OutboxDiskFullData,
    description:
      'Pinned. `state: full` when a commit failed even after evicting telemetry (recorded at once with the room of the reserve file, or later with its original time); events that could not be committed were refused (a device got no ACK/PUBACK and sends again). `state: recovered` once commits succeed and the reserve is back, with how many events were refused in between. The alarm `outbox.disk_full` (critical) is raised and cleared alongside.',
    title: 'The disk holding the outbox was full, and when it came back',
    examples: EXAMPLES['outbox.disk_full'],
  },
]);

declare module '../core/events.js' {
  interface EventDataMap {
    'outbox.evicted': z.input<typeof OutboxEvictedData>;
    'outbox.disk_full': z.input<typeof OutboxDiskFullData>;
  }
}
