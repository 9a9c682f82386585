/**
 * The core services every family is created with (moved out of the composition root): the
 * outbox (essential: nothing can be recorded without it), the alarm lifecycle, the presence
 * policy and the media store with its publisher.
 */
import { join } from 'node:path';
import type { CompoundConfig } from '../../config/schema.js';
import type { Clock, Timers } from '../core/clock.js';
import type { LoggerFactory } from '../core/log.js';
import { createAlarms, type AlarmsComponent } from '../alarms/create-alarms.js';
import { MediaPublisher } from '../cameras/media-publisher.js';
import { MediaStore } from '../cameras/media-store.js';
import type { CommandRouter } from '../commands/router.js';
import type { FamilyManifest } from '../families/family.js';
import { ALARM_KINDS as OUTBOX_ALARM_KINDS } from '../outbox/alarm-kinds.js';
import { reportOutboxStart, watchDiskFull } from '../outbox/disk-full-alarm.js';
import { Outbox } from '../outbox/outbox.js';
import { ALARM_KINDS as PRESENCE_ALARM_KINDS } from '../presence/alarm-kinds.js';
import { PresencePolicy } from '../presence/presence-policy.js';
import { ALARM_KINDS as UPLINK_ALARM_KINDS } from '../uplink/alarm-kinds.js';

/** {dataDir}/outbox.db, its errors and evictions logged, and how it opened reported. */
export function openOutbox(w: { config: CompoundConfig; dataDir: string; clock: Clock; timers: Timers; logs: LoggerFactory }): Outbox {
  const outbox = new Outbox({ file: join(w.dataDir, 'outbox.db'), clock: w.clock, timers: w.timers, config: w.config.outbox });
  const outboxLog = w.logs.child('outbox');
  outbox.on('error', (err) => outboxLog.error({ code: err.code, err: err.message }, 'outbox error'));
  outbox.on('evicted', (r) => outboxLog.warn(r, 'outbox cap reached: events evicted and reported'));
  reportOutboxStart(outbox, outboxLog);
  return outbox;
}

export interface CoreServices {
  alarms: AlarmsComponent;
  presence: PresencePolicy;
  media: MediaStore;
  mediaPublisher: MediaPublisher;
}

export function createCoreServices(w: {
  config: CompoundConfig;
  dataDir: string;
  outbox: Outbox;
  router: CommandRouter;
  /** Every family of the registry: each declares its alarm kinds. */
  registry: readonly FamilyManifest<CompoundConfig>[];
  clock: Clock;
  timers: Timers;
  logs: LoggerFactory;
  root: string;
}): CoreServices {
  const { config, outbox, clock, timers, logs } = w;
  // The alarm lifecycle first: open alarms are restored before any source runs; every
  // family reports its conditions to the manager (its alarm sink) with the kinds it declares.
  const alarms = createAlarms({ config, outbox, clock, timers, logs });
  alarms.manager.declareKinds([
    ...OUTBOX_ALARM_KINDS,
    ...PRESENCE_ALARM_KINDS,
    ...UPLINK_ALARM_KINDS,
    ...w.registry.flatMap((m) => m.alarms ?? []),
  ]);
  watchDiskFull(outbox, alarms.manager, logs.child('outbox'));
  for (const def of alarms.commands()) w.router.register(def);
  const presenceLog = logs.child('presence');
  const presence = new PresencePolicy({ config: config.presence, clock, timers, sink: alarms.manager, log: presenceLog });
  // Snapshots live on disk beside the outbox; they reach the platform on media/{id}.
  const media = new MediaStore({
    dataDir: w.dataDir,
    outbox,
    config: config.media,
    clock,
    log: logs.child('media'),
    isAlarmOpen: (id) => (alarms.manager.get(id)?.state ?? 'closed') !== 'closed',
  });
  const mediaPublisher = new MediaPublisher({ store: media, root: w.root, log: logs.child('media') });
  return { alarms, presence, media, mediaPublisher };
}
