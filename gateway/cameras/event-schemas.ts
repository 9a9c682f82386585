/**
 * Camera events (ONVIF activity, snapshots).
 * The `data` schemas (zod) of the event types recorded here, declared once: `record()` is typed
 * by them and `npm run docs` generates docs/asyncapi.yaml from them.
 */
import { z } from 'zod';
import { AlarmId } from '../alarms/event-schemas.js';
import { Id, Ulid } from '../events/common-schemas.js';
import { EXAMPLES } from './event-examples.js';
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

export const CAMERA_EVENTS = eventList([
  {
    type: 'media.snapshot',
    class: 'alarm',
    data: MediaSnapshotEvent,
    description:
      "The picture itself follows on `media/{mediaId}` (image/jpeg); the lifecycle's `alarm.media` attaches the id to the alarm.",
    title: 'A snapshot was taken for an alarm',
    examples: EXAMPLES['media.snapshot'],
  },
  {
    type: 'camera.snapshot',
    class: 'device',
    data: MediaSnapshotData,
    description: 'On request (console, platform); the picture follows on `media/{mediaId}` (image/jpeg).',
    title: 'A snapshot was taken outside any alarm',
    examples: EXAMPLES['camera.snapshot'],
  },
  {
    type: 'camera.motion',
    class: 'device',
    data: CameraActivityData,
    description:
      'Changes only, and at most one `active: true` per camera every 10 s: motion is noisy (trees, rain, headlights), so it is not an alarm by default. Camera tamper, line crossing and field intrusion are alarm conditions instead (kinds `camera.tamper`, `camera.line`, `camera.field`, on `evt/alarm`).',
    title: "A camera's motion detection started or stopped",
    examples: EXAMPLES['camera.motion'],
  },
  {
    type: 'camera.input',
    class: 'device',
    data: CameraActivityData,
    description:
      "What is wired to the input differs per site; a linkage rule or the platform gives it meaning. `source.point` is the camera's input token.",
    title: "A camera's digital input changed",
    examples: EXAMPLES['camera.input'],
  },
]);

declare module '../core/events.js' {
  interface EventDataMap {
    'media.snapshot': z.input<typeof MediaSnapshotEvent>;
    'camera.snapshot': z.input<typeof MediaSnapshotData>;
    'camera.motion': z.input<typeof CameraActivityData>;
    'camera.input': z.input<typeof CameraActivityData>;
  }
}
