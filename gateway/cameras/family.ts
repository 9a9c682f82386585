/**
 * The cameras family: ONVIF cameras (events, snapshots on alarm) and their RTSP streams for
 * the console's live view. Declarations only; load() imports the code (onvif, xml2js) when
 * cameras exist. The snapshot store, media publisher and live view hub stay in the core.
 */
import { z } from 'zod';
import { CameraConfig } from '../../config/camera-schema.js';
import type { CompoundConfig } from '../../config/schema.js';
import type { FamilyManifest } from '../families/family.js';
import { ALARM_KINDS } from './alarm-kinds.js';
import { camerasConsole } from './console.js';
import { cameraPasswordSecret } from '../../config/camera-schema.js';
export { cameraPasswordSecret };

export const camerasConfig = {
  /** Cameras (issue 6): ONVIF + RTSP, snapshots on alarm, live view in the console. */
  cameras: z.array(CameraConfig).default([]),
};

export const camerasFamily: FamilyManifest<CompoundConfig> = {
  name: 'cameras',
  config: camerasConfig,
  configured: (c) => c.cameras.length > 0,
  devices: (c) => c.cameras.map((cam, i) => ({ id: cam.id, path: ['cameras', i, 'id'] })),
  summary: (c) => `${c.cameras.length} camera(s)`,
  secrets: (c) =>
    c.cameras.map((cam, i) => ({
      name: cameraPasswordSecret(cam),
      path: ['cameras', i, 'passwordSecret'],
      what: `camera ${cam.id}`,
      required: true,
    })),
  idleStatus: () => ({}),
  needs: ['alarms', 'media', 'presence'],
  provides: ['camera-linkage', 'live-streams'],
  alarms: ALARM_KINDS,
  console: camerasConsole,
  events: async () => (await import('./event-schemas.js')).CAMERA_EVENTS,
  // The live check (`gatehouse check --devices`), loaded like the code: only by that command or the daemon's probe request.
  probe: () => import('./probe.js'),
  load: () => import('./create-cameras.js'),
};
