/**
 * Examples of the events declared in event-schemas.ts: whole envelopes as published, shown
 * in docs/asyncapi.yaml and checked against their schemas by the AsyncAPI tests.
 */
import { example, type EventExample } from '../events/declare.js';

const HASH = 'sha256:9f2c1e0b7d4a5f36e8c1b2a3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b';

export const EXAMPLES: Record<string, EventExample[]> = {
  'config.applied': [
    example('applied', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C4A',
      seq: 4,
      ts: '2026-11-21T20:01:12.000Z',
      type: 'config.applied',
      source: { device: 'gateway' },
      data: { version: '2026-11-21.2', hash: HASH, previousVersion: '2026-11-21.1', probationMs: 4200 },
    }),
  ],
  'config.rolled_back': [
    example(
      { name: 'uplink', summary: 'The new uplink URL never connected' },
      {
        id: '01JD3M6R9Q8Z4X7V2N5T0B1C4B',
        seq: 9,
        ts: '2026-11-21T20:03:00.000Z',
        type: 'config.rolled_back',
        source: { device: 'gateway' },
        data: {
          version: '2026-11-21.3',
          hash: HASH,
          restoredVersion: '2026-11-21.2',
          reason: 'not healthy within 120000 ms: uplink not connected (connect ECONNREFUSED 10.0.0.9:8883)',
        },
      },
    ),
  ],
  'config.secrets_set': [
    example('lock', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C4C',
      seq: 12,
      ts: '2026-11-21T20:05:00.000Z',
      type: 'config.secrets_set',
      source: { device: 'gateway' },
      data: { names: ['devices.flat-3-201'] },
    }),
  ],
};
