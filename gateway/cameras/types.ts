/**
 * Shared types of the camera family (issue 6): what the camera service offers the rest of
 * the gateway, and the media store it hands snapshots to (built separately).
 */
import type { CameraEvent } from '../../drivers/onvif/events.js';
import type { DeviceInfo, MediaProfile, Preset } from '../../drivers/onvif/client.js';

export type { CameraEvent, CameraEventKind } from '../../drivers/onvif/events.js';
export type { DeviceInfo, MediaProfile, Preset } from '../../drivers/onvif/client.js';

/**
 * Where snapshots go (gateway/cameras/media-store.ts implements it). `put` stores one JPEG
 * taken for an alarm, or on demand with `alarmId` undefined, and resolves with the media
 * id that alarms and answers refer to; the store records the matching event itself. It may
 * refuse (MEDIA_TOO_LARGE, MEDIA_INVALID) with a GatehouseError.
 */
export interface MediaStore {
  put(camera: string, alarmId: string | undefined, jpeg: Buffer): Promise<string>;
}

/** What the service knows about one camera, published retained on `state/{camera}`. */
export interface CameraStatus {
  camera: string;
  online: boolean;
  /** Set once the camera has answered at least once. */
  info?: DeviceInfo;
  profiles?: MediaProfile[];
  /** The profile used for stream, snapshot and PTZ. */
  profile?: string;
  streamUri?: string;
  /** Camera clock minus ours, ms, as last measured. */
  skewMs?: number;
  /** Whether a PullPoint subscription is running. */
  events: boolean;
  /** ONVIF services the camera advertised (device, media, ptz, events...), sorted; only these are called. */
  services?: string[];
  /** Coded reason of the last failure, while not online. */
  lastError?: string;
}

/** What the commands and the linkage need from the camera service. */
export interface CameraControl {
  has(camera: string): boolean;
  status(camera: string): CameraStatus | undefined;
  snapshot(camera: string): Promise<Buffer>;
  streamUri(camera: string): Promise<string>;
  presets(camera: string): Promise<Preset[]>;
  /** `preset` is a preset token or, failing that, a preset name. */
  gotoPreset(camera: string, preset: string): Promise<void>;
  /** Stores the current position under `preset` (token or name of an existing one, else a new name). */
  setPreset(camera: string, preset: string, name?: string): Promise<Preset>;
}

/** Events the service emits for tests and the console (the outbox gets its own records). */
export interface CameraServiceEvents {
  online: [string, CameraStatus];
  offline: [string, string];
  event: [string, CameraEvent];
}
