/**
 * The camera family against simulated cameras on loopback: a recording AlarmSink, outbox
 * and media store, so tests read what the service did without the alarm manager or SQLite.
 */
import { CameraConfig, MediaConfig } from '../../config/camera-schema.js';
import { secretsFrom } from '../../config/load.js';
import type { Alarm, AlarmCondition, AlarmSink } from '../../gateway/alarms/types.js';
import { createCameras, type CamerasComponent, type CreateCamerasOptions } from '../../gateway/cameras/create-cameras.js';
import type { MediaStore } from '../../gateway/cameras/types.js';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import type { EventInput, EventSource } from '../../gateway/core/events.js';
import { silentLogger, type LoggerFactory } from '../../gateway/core/log.js';
import type { SimulatedCamera } from '../../sim/camera/index.js';

export interface SinkCall {
  op: 'raise' | 'clear';
  kind: string;
  source: EventSource;
  priority?: string;
  momentary?: boolean;
}

export class RecordingSink implements AlarmSink {
  calls: SinkCall[] = [];
  raise(c: AlarmCondition): Alarm {
    this.calls.push({
      op: 'raise',
      kind: c.kind,
      source: c.source,
      priority: c.priority,
      momentary: (c as { momentary?: boolean }).momentary,
    });
    return {
      id: `A${this.calls.length}`,
      key: '',
      kind: c.kind,
      source: c.source,
      priority: c.priority ?? 'high',
      state: 'raised',
      active: true,
      count: 1,
      raisedAt: 0,
      lastAt: 0,
      data: c.data ?? {},
      media: [],
    };
  }
  clear(kind: string, source: EventSource): Alarm | undefined {
    this.calls.push({ op: 'clear', kind, source });
    return undefined;
  }
}

export class RecordingOutbox {
  events: EventInput[] = [];
  states = new Map<string, Record<string, unknown>>();
  async record(e: EventInput) {
    this.events.push(e);
    return {
      v: 1 as const,
      id: 'x',
      seq: this.events.length,
      ts: new Date().toISOString(),
      clock: 'synced' as const,
      type: e.type,
      source: e.source,
      data: e.data,
    };
  }
  async setState(device: string, state: Record<string, unknown>) {
    this.states.set(device, state);
  }
  types(device?: string): string[] {
    return this.events.filter((e) => !device || e.source.device === device).map((e) => e.type);
  }
}

export class RecordingMediaStore implements MediaStore {
  items: { camera: string; alarmId: string | undefined; jpeg: Buffer }[] = [];
  async put(camera: string, alarmId: string | undefined, jpeg: Buffer): Promise<string> {
    this.items.push({ camera, alarmId, jpeg });
    return `M${this.items.length}`;
  }
}

export const silentLogs: LoggerFactory = { root: silentLogger(), child: () => silentLogger() };

export interface CameraRig {
  cameras: CamerasComponent;
  sink: RecordingSink;
  outbox: RecordingOutbox;
  store: RecordingMediaStore;
}

/** Camera configs pointing at the simulators; `passwords` overrides the secrets (default: the sim's). */
export function cameraRig(
  sims: SimulatedCamera[],
  passwords: Record<string, string>,
  opts: { configs?: Record<string, Partial<CameraConfig>>; media?: Partial<MediaConfig>; tuning?: CreateCamerasOptions['tuning'] } = {},
): CameraRig {
  const sink = new RecordingSink();
  const outbox = new RecordingOutbox();
  const store = new RecordingMediaStore();
  const cameras = createCameras({
    config: {
      cameras: sims.map((s) =>
        CameraConfig.parse({
          id: s.id,
          host: '127.0.0.1',
          port: s.httpPort,
          username: 'admin',
          offlineAfterMs: 1000,
          ...opts.configs?.[s.id],
        }),
      ),
      // Not parsed: tests may go below the schema's minimum to exercise the cap on a small picture.
      media: { ...MediaConfig.parse({}), ...opts.media },
    },
    secrets: secretsFrom(Object.fromEntries(Object.entries(passwords).map(([id, pw]) => [`cameras.${id}`, pw]))),
    outbox,
    sink,
    mediaStore: store,
    clock: systemClock({ forceState: 'synced' }),
    timers: realTimers,
    logs: silentLogs,
    tuning: { backoff: { initialMs: 100, maxMs: 400 }, probeIntervalMs: 300, motionMinIntervalMs: 0, ...opts.tuning },
  });
  return { cameras, sink, outbox, store };
}
