/**
 * Examples of the events declared in event-schemas.ts: whole envelopes as published, shown
 * in docs/asyncapi.yaml and checked against their schemas by tests/unit/asyncapi.test.ts and
 * tests/unit/event-types.test.ts.
 */
import { example, type EventExample } from '../events/declare.js';

export const EXAMPLES: Record<string, EventExample[]> = {
  'lock.tamper': [
    example('tamper', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C3E',
      seq: 18342,
      ts: '2026-11-21T21:03:11.123Z',
      type: 'lock.tamper',
      source: { device: 'flat-2-201' },
      data: { lock: 'flat-2-201', active: true },
    }),
  ],
  'lock.battery_low': [
    example('low', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C3K',
      seq: 18347,
      ts: '2026-11-21T21:04:00.000Z',
      type: 'lock.battery_low',
      source: { device: 'flat-2-201' },
      data: { lock: 'flat-2-201', level: 12 },
    }),
  ],
};
