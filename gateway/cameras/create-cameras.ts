/**
 * Builds the camera family from the compound file: the service (one ONVIF connection per
 * camera), the CameraLinkage for alarm linkage, and the commands. Kept out of app.ts so the
 * composition root stays a list of components. Wiring in app.ts, after the perimeter:
 *
 *   this.media = new MediaStore({ dataDir: opts.dataDir, outbox: this.outbox, config: config.media, clock: this.clock, log: logs.child('media') });
 *   this.cameras = createCameras({ config, secrets: opts.secrets, outbox: this.outbox, sink: this.alarms.manager,
 *                                  mediaStore: this.media, clock: this.clock, timers, logs });
 *   for (const def of this.cameras.commands()) this.router.register(def);
 *   this.alarms.linkage(this.perimeter.outputs, this.cameras.linkage);   // both drivers: it rebuilds on what it is given
 *   components: { name: 'cameras', essential: false, start: () => this.cameras.start(), stop: () => this.cameras.stop() }
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
