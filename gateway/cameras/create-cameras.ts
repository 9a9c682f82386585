/**
 * Builds the camera family from the compound file: the service (one ONVIF connection per
 * camera), the CameraLinkage for alarm linkage, and the commands. `create(ctx)` is what the
 * composition root calls (gateway/cameras/family.ts declares the family).
 *
 * Tamper, line and field reach the manager through `sink`; what the family records itself is
 * class `device` (online/offline, motion, input).
 */
import type { Secrets } from '../../config/load.js';
import type { CompoundConfig } from '../../config/schema.js';
import type { AlarmSink, CameraLinkage } from '../alarms/types.js';
import type { Clock, Timers } from '../core/clock.js';
import type { CommandDefinition } from '../commands/types.js';
import type { LoggerFactory } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import { cameraCommands } from './camera-commands.js';
import { CameraLinkageImpl } from './camera-linkage.js';
import { CameraService, type CameraServiceOptions } from './camera-service.js';
import type { MediaStore } from './types.js';
import type { FamilyContext, FamilyInstance } from '../families/family.js';
import { cameraPasswordSecret } from './family.js';

export interface CamerasComponent {
  service: CameraService;
  linkage: CameraLinkage;
  commands(): CommandDefinition[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What the console's live view needs of the cameras ('live-streams'). */
export interface LiveStreams {
  has(id: string): boolean;
  /** The camera's RTSP URL with its credentials, for ffmpeg (ONVIF stream URIs carry none). */
  streamUrl(id: string): Promise<string>;
}

/** The family instance (gateway/cameras/family.ts); provides `camera-linkage` and `live-streams`. */
export type CamerasInstance = FamilyInstance & CamerasComponent;

export function create(ctx: FamilyContext<CompoundConfig>): CamerasInstance {
  const cameras = createCameras({
    config: ctx.config,
    secrets: ctx.secrets,
    outbox: ctx.outbox,
    sink: ctx.use<AlarmSink>('alarms'),
    mediaStore: ctx.use<MediaStore>('media'),
    clock: ctx.clock,
    timers: ctx.timers,
    logs: ctx.logs,
    presence: ctx.use<NonNullable<CameraServiceOptions['presence']>>('presence'),
  });
  const streams: LiveStreams = {
    has: (id) => cameras.service.has(id),
    async streamUrl(id) {
      const url = new URL(await cameras.service.streamUri(id));
      const cam = ctx.config.cameras.find((c) => c.id === id);
      const password = cam ? ctx.secrets.get(cameraPasswordSecret(cam)) : undefined;
      if (cam && password !== undefined && !url.username) {
        url.username = cam.username;
        url.password = password;
      }
      return url.toString();
    },
  };
  return {
    ...cameras,
    status: () => Object.fromEntries(ctx.config.cameras.map((c) => [c.id, cameras.service.status(c.id) ?? null])),
    provides: { 'camera-linkage': cameras.linkage, 'live-streams': streams },
  };
}

export interface CreateCamerasOptions {
  config: Pick<CompoundConfig, 'cameras' | 'media'>;
  secrets: Secrets;
  outbox: Pick<Outbox, 'record' | 'setState'>;
  sink: AlarmSink;
  mediaStore: MediaStore;
  clock: Clock;
  timers: Timers;
  logs: LoggerFactory;
  /** Tuning for tests and special sites (backoff, timeouts, motion alarms). */
  tuning?: Pick<
    CameraServiceOptions,
    'backoff' | 'requestTimeoutMs' | 'maxResponseBytes' | 'probeIntervalMs' | 'motionAlarms' | 'motionMinIntervalMs'
  >;
  /** The gateway's presence policy (flapping cameras are held offline). */
  presence?: CameraServiceOptions['presence'];
}

export function createCameras(opts: CreateCamerasOptions): CamerasComponent {
  const service = new CameraService({
    cameras: opts.config.cameras,
    media: opts.config.media,
    secrets: opts.secrets,
    outbox: opts.outbox,
    sink: opts.sink,
    clock: opts.clock,
    timers: opts.timers,
    log: opts.logs.child('cameras'),
    ...opts.tuning,
    ...(opts.presence ? { presence: opts.presence } : {}),
  });
  return {
    service,
    linkage: new CameraLinkageImpl(service, opts.mediaStore),
    commands: () => cameraCommands(service, opts.mediaStore),
    start: () => service.start(),
    stop: () => service.stop(),
  };
}
