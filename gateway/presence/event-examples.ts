/**
 * Examples of the events declared in event-schemas.ts: whole envelopes as published, shown
 * in docs/asyncapi.yaml and checked against their schemas by tests/unit/asyncapi.test.ts and
 * tests/unit/event-types.test.ts.
 */
import { example, type EventExample } from '../events/declare.js';

export const EXAMPLES: Record<string, EventExample[]> = {
  'device.online': [
    example('lock', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C3M',
      seq: 18348,
      ts: '2026-11-21T21:05:00.000Z',
      type: 'device.online',
      source: { device: 'flat-2-201' },
      data: { family: 'lock' },
    }),
    example('reader', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C5M',
      seq: 20011,
      ts: '2026-11-21T20:00:05.000Z',
      type: 'device.online',
      source: { device: 'main-gate-in' },
      data: {
        family: 'reader',
        secure: true,
        identity: { vendor: '0A1B2C', model: 3, version: 1, serial: 305419896, firmware: '2.4.17' },
      },
    }),
  ],
  'device.offline': [
    example('lock', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C3N',
      seq: 18349,
      ts: '2026-11-21T21:06:00.000Z',
      type: 'device.offline',
      source: { device: 'flat-2-201' },
      data: { family: 'lock', reason: 'connection_lost' },
    }),
    example('reader', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C5N',
      seq: 20012,
      ts: '2026-11-21T21:06:00.000Z',
      type: 'device.offline',
      source: { device: 'main-gate-in' },
      data: { family: 'reader', reason: 'no answer' },
    }),
  ],
};
