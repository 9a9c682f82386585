/**
 * Examples of the events declared in event-schemas.ts: whole envelopes as published, shown
 * in docs/asyncapi.yaml and checked against their schemas by tests/unit/asyncapi.test.ts and
 * tests/unit/event-types.test.ts.
 */
import { example, type EventExample } from '../events/declare.js';

export const EXAMPLES: Record<string, EventExample[]> = {
  'outbox.evicted': [
    example('cap', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C3R',
      seq: 18352,
      ts: '2026-11-21T21:09:00.000Z',
      type: 'outbox.evicted',
      source: { device: 'gateway' },
      data: { class: 'device', fromSeq: 10, toSeq: 2009, count: 1800, reason: 'disk-cap' },
    }),
  ],
  'outbox.disk_full': [
    example('full', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C3Z',
      seq: 18353,
      ts: '2026-11-21T21:10:00.000Z',
      type: 'outbox.disk_full',
      source: { device: 'gateway', point: 'outbox' },
      data: { state: 'full', since: '2026-11-21T21:10:00.000Z', code: 'SQLITE_FULL' },
    }),
    example('recovered', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C40',
      seq: 18354,
      ts: '2026-11-21T21:40:00.000Z',
      type: 'outbox.disk_full',
      source: { device: 'gateway', point: 'outbox' },
      data: { state: 'recovered', since: '2026-11-21T21:10:00.000Z', until: '2026-11-21T21:40:00.000Z', rejected: 12 },
    }),
  ],
};
