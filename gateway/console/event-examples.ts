/**
 * Examples of the events declared in event-schemas.ts: whole envelopes as published, shown
 * in docs/asyncapi.yaml and checked against their schemas by tests/unit/asyncapi.test.ts and
 * tests/unit/event-types.test.ts.
 */
import { example, type EventExample } from '../events/declare.js';

export const EXAMPLES: Record<string, EventExample[]> = {
  'console.login': [
    example('wrong password', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C4A',
      seq: 2201,
      ts: '2026-11-21T22:10:00.000Z',
      type: 'console.login',
      source: { device: 'gateway', point: 'console' },
      data: { user: 'guard1', ok: false, reason: 'wrong-password', address: '192.168.1.40' },
    }),
  ],
  'console.user': [
    example('created', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C4B',
      seq: 2202,
      ts: '2026-11-21T22:11:00.000Z',
      type: 'console.user',
      source: { device: 'gateway', point: 'console' },
      data: { action: 'created', user: 'guard2', role: 'guard', by: 'admin' },
    }),
  ],
};
