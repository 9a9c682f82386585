/**
 * Examples of the events declared in event-schemas.ts: whole envelopes as published, shown
 * in docs/asyncapi.yaml and checked against their schemas by tests/unit/asyncapi.test.ts and
 * tests/unit/event-types.test.ts.
 */
import { example, type EventExample } from '../events/declare.js';

export const EXAMPLES: Record<string, EventExample[]> = {
  'media.snapshot': [
    example('gateCamera', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1M3E',
      seq: 20110,
      ts: '2026-11-21T21:03:12.400Z',
      type: 'media.snapshot',
      source: { device: 'cam-gate' },
      data: {
        mediaId: '01JD3M6R9Q8Z4X7V2N5T0B1M3D',
        camera: 'cam-gate',
        alarmId: '01JD3M6R9Q8Z4X7V2N5T0B1A1A',
        bytes: 48213,
        sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      },
    }),
  ],
  'camera.snapshot': [
    example('onRequest', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1M3G',
      seq: 20111,
      ts: '2026-11-21T21:05:00.000Z',
      type: 'camera.snapshot',
      source: { device: 'cam-yard' },
      data: {
        mediaId: '01JD3M6R9Q8Z4X7V2N5T0B1M3F',
        camera: 'cam-yard',
        bytes: 51200,
        sha256: '2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae',
      },
    }),
  ],
  'camera.motion': [
    example('started', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1M4A',
      seq: 20120,
      ts: '2026-11-21T21:06:00.100Z',
      type: 'camera.motion',
      source: { device: 'cam-gate' },
      data: { camera: 'cam-gate', at: '2026-11-21T21:06:00.000Z', point: 'MyMotionDetectorRule', active: true },
    }),
  ],
  'camera.input': [
    example('closed', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1M4B',
      seq: 20121,
      ts: '2026-11-21T21:06:02.100Z',
      type: 'camera.input',
      source: { device: 'cam-gate', point: 'DI_1' },
      data: { camera: 'cam-gate', at: '2026-11-21T21:06:02.000Z', point: 'DI_1', active: true },
    }),
  ],
};
