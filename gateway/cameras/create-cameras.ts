/**
 * Builds the camera family from the compound file: the service (one ONVIF connection per
 * camera), the CameraLinkage for alarm linkage, and the commands. Kept out of app.ts so the
 * composition root stays a list of components; app.ts wires it (see the README section
 * "Cameras": sink from the alarms component, mediaStore from the media store).
 */
import type { Secrets } from '../../config/load.js';
import type { CompoundConfig } from '../../config/schema.js';
import type { AlarmSink, CameraLinkage } from '../alarms/types.js';
import type { Clock, Timers } from '../clock.js';
import type { CommandDefinition } from '../commands/types.js';
import type { LoggerFactory } from '../log.js';
import type { Outbox } from '../outbox/outbox.js';
import { cameraCommands } from './camera-commands.js';
import { CameraLinkageImpl } from './camera-linkage.js';
import { CameraService, type CameraServiceOptions } from './camera-service.js';
import type { MediaStore } from './types.js';

export interface CamerasComponent {
  service: CameraService;
  linkage: CameraLinkage;
  commands(): CommandDefinition[];
  start(): Promise<void>;
  stop(): Promise<void>;
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
  tuning?: Pick<CameraServiceOptions, 'backoff' | 'requestTimeoutMs' | 'maxResponseBytes' | 'probeIntervalMs' | 'motionAlarms' | 'motionMinIntervalMs'>;
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
  });
  return {
    service,
    linkage: new CameraLinkageImpl(service, opts.mediaStore),
    commands: () => cameraCommands(service, opts.mediaStore),
    start: () => service.start(),
    stop: () => service.stop(),
  };
}
