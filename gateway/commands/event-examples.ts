/**
 * Examples of the events declared in event-schemas.ts: whole envelopes as published, shown
 * in docs/asyncapi.yaml and checked against their schemas by tests/unit/asyncapi.test.ts and
 * tests/unit/event-types.test.ts.
 */
import { example, type EventExample } from '../events/declare.js';

export const EXAMPLES: Record<string, EventExample[]> = {
  'command.executed': [
    example('refused', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C3P',
      seq: 18350,
      ts: '2026-11-21T21:07:00.000Z',
      type: 'command.executed',
      source: { device: 'gateway' },
      data: {
        command: 'lock.open',
        id: 'c-7',
        caller: { via: 'uplink', role: 'platform', principal: 'platform' },
        ok: false,
        error: 'CMD_EXPIRED',
        durationMs: 0,
      },
    }),
  ],
  'command.refusals_suppressed': [
    example('flood', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C3Q',
      seq: 18351,
      ts: '2026-11-21T21:08:00.000Z',
      type: 'command.refusals_suppressed',
      source: { device: 'gateway' },
      data: {
        caller: { via: 'uplink', role: 'platform', principal: 'platform' },
        count: 480,
        unanswered: 380,
        byCode: { CMD_MALFORMED: 480 },
        from: '2026-11-21T21:07:00.000Z',
        to: '2026-11-21T21:08:00.000Z',
      },
    }),
  ],
};
