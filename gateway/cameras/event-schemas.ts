/**
 * Camera events (ONVIF activity, snapshots).
 * The `data` schemas (zod) of the event types recorded here, declared once: `record()` is typed
 * by them and `npm run docs` generates docs/asyncapi.yaml from them.
 */
import { z } from 'zod';
import { AlarmId } from '../alarms/event-schemas.js';
import { Id, Ulid } from '../events/common-schemas.js';
import { eventList } from '../events/declare.js';

export const MediaSnapshotData = z
  .strictObject({
    mediaId: Ulid,
    camera: Id,
    alarmId: AlarmId.optional(),
    bytes: z.int().min(4),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .meta({ id: 'MediaSnapshotData' });
export const CameraActivityData = z
  .strictObject({
    camera: Id,
    at: z.iso.datetime().meta({ description: "When the camera saw it, corrected for the camera's clock skew." }),
    point: z.string().max(120).meta({ description: "The camera's rule name or input token." }).optional(),
    active: z.boolean(),
  })
  .meta({ description: '`camera.motion`, `camera.input`.' })
  .meta({ id: 'CameraActivityData' });

const MediaSnapshotEvent = MediaSnapshotData.required({ alarmId: true });
const CameraSnapshotEvent = MediaSnapshotData;
const CameraMotionEvent = CameraActivityData;
const CameraInputEvent = CameraActivityData;

export const CAMERA_EVENTS = eventList([
  {
    type: 'media.snapshot',
    class: 'alarm',
    data: MediaSnapshotEvent,
    description:
      "The picture itself follows on `media/{mediaId}` (image/jpeg); the lifecycle's `alarm.media` attaches the id to the alarm.",
    title: 'A snapshot was taken for an alarm',
    examples: [
      {
        name: 'gateCamera',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1M3E',
          seq: 20110,
          ts: '2026-11-21T21:03:12.400Z',
          clock: 'synced',
          type: 'media.snapshot',
          source: { device: 'cam-gate' },
          data: {
            mediaId: '01JD3M6R9Q8Z4X7V2N5T0B1M3D',
            camera: 'cam-gate',
            alarmId: '01JD3M6R9Q8Z4X7V2N5T0B1A1A',
            bytes: 48213,
            sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
          },
        },
      },
    ],
  },
  {
    type: 'camera.snapshot',
    class: 'device',
    data: CameraSnapshotEvent,
    description: 'On request (console, platform); the picture follows on `media/{mediaId}` (image/jpeg).',
    title: 'A snapshot was taken outside any alarm',
    examples: [
      {
        name: 'onRequest',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1M3G',
          seq: 20111,
          ts: '2026-11-21T21:05:00.000Z',
          clock: 'synced',
          type: 'camera.snapshot',
          source: { device: 'cam-yard' },
          data: {
            mediaId: '01JD3M6R9Q8Z4X7V2N5T0B1M3F',
            camera: 'cam-yard',
            bytes: 51200,
            sha256: '2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae',
          },
        },
      },
    ],
  },
  {
    type: 'camera.motion',
    class: 'device',
    data: CameraMotionEvent,
    description:
      'Changes only, and at most one `active: true` per camera every 10 s: motion is noisy (trees, rain, headlights), so it is not an alarm by default. Camera tamper, line crossing and field intrusion are alarm conditions instead (kinds `camera.tamper`, `camera.line`, `camera.field`, on `evt/alarm`).',
    title: "A camera's motion detection started or stopped",
    examples: [
      {
        name: 'started',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1M4A',
          seq: 20120,
          ts: '2026-11-21T21:06:00.100Z',
          clock: 'synced',
          type: 'camera.motion',
          source: { device: 'cam-gate' },
          data: { camera: 'cam-gate', at: '2026-11-21T21:06:00.000Z', point: 'MyMotionDetectorRule', active: true },
        },
      },
    ],
  },
  {
    type: 'camera.input',
    class: 'device',
    data: CameraInputEvent,
    description:
      "What is wired to the input differs per site; a linkage rule or the platform gives it meaning. `source.point` is the camera's input token.",
    title: "A camera's digital input changed",
    examples: [
      {
        name: 'closed',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1M4B',
          seq: 20121,
          ts: '2026-11-21T21:06:02.100Z',
          clock: 'synced',
          type: 'camera.input',
          source: { device: 'cam-gate', point: 'DI_1' },
          data: { camera: 'cam-gate', at: '2026-11-21T21:06:02.000Z', point: 'DI_1', active: true },
        },
      },
    ],
  },
]);

declare module '../core/events.js' {
  interface EventDataMap {
    'media.snapshot': z.input<typeof MediaSnapshotEvent>;
    'camera.snapshot': z.input<typeof CameraSnapshotEvent>;
    'camera.motion': z.input<typeof CameraMotionEvent>;
    'camera.input': z.input<typeof CameraInputEvent>;
  }
}
