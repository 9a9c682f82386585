/**
 * Examples of the events declared in system-events.ts: whole envelopes as published, shown
 * in docs/asyncapi.yaml and checked against their schemas by tests/unit/asyncapi.test.ts and
 * tests/unit/event-types.test.ts.
 */
import { example, type EventExample } from './declare.js';

export const EXAMPLES: Record<string, EventExample[]> = {
  'gateway.started': [
    example('started', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C3S',
      seq: 1,
      ts: '2026-11-21T20:00:00.000Z',
      clock: 'unsynced',
      type: 'gateway.started',
      source: { device: 'gateway' },
      data: { version: '0.1.0', failed: [] },
    }),
  ],
  'gateway.stopping': [
    example('stopping', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C3T',
      seq: 18353,
      ts: '2026-11-21T22:00:00.000Z',
      type: 'gateway.stopping',
      source: { device: 'gateway' },
      data: { version: '0.1.0' },
    }),
  ],
  'component.failed': [
    example('broker', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C3V',
      seq: 2,
      ts: '2026-11-21T20:00:00.000Z',
      clock: 'unsynced',
      type: 'component.failed',
      source: { device: 'gateway', point: 'broker' },
      data: { component: 'broker', error: 'listen EADDRINUSE: address already in use 127.0.0.1:1883' },
    }),
  ],
};
