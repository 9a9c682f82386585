/**
 * Builds the access controller from the compound file: the per-box credential hash key,
 * the decision engine on the outbox database, the reader keys, one OSDP control panel per
 * RS-485 line, and the service that ties readers to doors. Kept out of app.ts so the
 * composition root reads as a list of components.
 */
import { randomBytes } from 'node:crypto';
import type { Secrets } from '../../config/load.js';
import type { CompoundConfig, ReaderConfig } from '../../config/schema.js';
import { GatehouseError } from '../core/errors.js';
import { OsdpControlPanel } from '../../drivers/osdp/control-panel.js';
import type { Clock, Timers } from '../core/clock.js';
import type { CommandDefinition } from '../commands/types.js';
import type { LoggerFactory } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import { AccessService, type ReaderLineFactory } from './access-service.js';
import { AccessDecider } from './decider.js';
import { doorCommands } from './door-commands.js';
import { loadOrCreateHashKey, ReaderKeyStore } from './keys.js';
import { publishAccessState, syncCommands } from './sync-commands.js';
import type { PresenceTracker } from '../presence/presence-policy.js';
import type { AlarmSink } from '../alarms/types.js';
import { tolerateStorageError } from '../outbox/disk-space.js';
import type { DoorGrants, FamilyContext, FamilyInstance } from '../families/family.js';

export interface AccessComponent {
  service: AccessService;
  decider: AccessDecider;
  commands(): CommandDefinition[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The family instance (gateway/access/family.ts): the component, its status behind status(). */
export type AccessInstance = FamilyInstance & AccessComponent;

export function create(ctx: FamilyContext<CompoundConfig>): AccessInstance {
  const access = createAccess({
    config: ctx.config,
    secrets: ctx.secrets,
    dataDir: ctx.dataDir,
    outbox: ctx.outbox,
    sink: ctx.use<AlarmSink>('alarms'),
    clock: ctx.clock,
    timers: ctx.timers,
    logs: ctx.logs,
    uplinkConnected: ctx.use<() => boolean>('uplink-status'),
    presence: ctx.use<PresenceTracker>('presence'),
  });
  return {
    ...access,
    status: () => ({ ...access.service.states(), credentials: access.decider.syncState() }),
    provides: { 'door-grants': ((l) => access.service.onGrant(l)) satisfies DoorGrants },
  };
}

export interface CreateAccessOptions {
  config: CompoundConfig;
  secrets: Secrets;
  dataDir: string;
  outbox: Outbox;
  /** Where the doors' and readers' alarm conditions go (the alarm manager). */
  sink: AlarmSink;
  clock: Clock;
  timers: Timers;
  logs: LoggerFactory;
  uplinkConnected(): boolean;
  /** The gateway's presence policy (readers flapping are held offline). */
  presence?: PresenceTracker;
  /** Tests and the demo may wrap or replace the serial lines. */
  lineFactory?: ReaderLineFactory;
}

export function createAccess(opts: CreateAccessOptions): AccessComponent {
  const { config } = opts;
  const log = opts.logs.child('access');
  // A damaged key file must not stop the whole gateway: access control reports itself failed
  // at start (with what to do) and refuses credential syncs, and the other families run.
  let keyError: Error | undefined;
  let hashKey: Buffer;
  const onRecovered = (message: string): void =>
    log.warn({ problem: message }, 'damaged key file restored from its backup; check the storage (SD card) of the box');
  try {
    hashKey = loadOrCreateHashKey(opts.dataDir, { onRecovered });
  } catch (err) {
    keyError = err as Error;
    // Never used to store anything: syncs are refused and no decision is made while failed.
    hashKey = randomBytes(32);
  }
  let keys: ReaderKeyStore | undefined;
  try {
    keys = new ReaderKeyStore(opts.dataDir, opts.secrets, { onRecovered });
  } catch (err) {
    keyError ??= err as Error;
  }
  const decider = new AccessDecider({
    db: opts.outbox.scope('access'),
    hashKey,
    config: config.access,
    doors: config.doors.map((d) => d.id),
    clock: opts.clock,
  });
  const readerKey = (r: ReaderConfig): Uint8Array | undefined => {
    try {
      return keys?.keyFor(r);
    } catch (err) {
      // A malformed secret leaves this reader without a secure channel (offline), not the gateway down.
      log.error({ reader: r.id, err: (err as Error).message }, 'reader key unusable');
      return undefined;
    }
  };
  const osdpLog = opts.logs.child('osdp');
  const lineFactory: ReaderLineFactory =
    opts.lineFactory ??
    ((bus, readers) => new OsdpControlPanel({ bus, readers, clock: opts.clock, timers: opts.timers, log: osdpLog.child({ bus: bus.id }) }));
  const service = new AccessService({
    buses: config.osdpBuses,
    readers: config.readers,
    doors: config.doors,
    access: config.access,
    decider,
    lineFactory,
    readerKey,
    readerInstalled: (r) => keys?.isInstalled(r.id) ?? false,
    onKeySet: (r, key) => keys?.remember(r.id, key),
    outbox: opts.outbox,
    sink: opts.sink,
    uplinkConnected: opts.uplinkConnected,
    ...(opts.presence ? { presence: opts.presence } : {}),
    clock: opts.clock,
    timers: opts.timers,
    log,
  });
  let pruneTimer: { cancel(): void } | undefined;
  return {
    service,
    decider,
    commands: () => [...doorCommands(service), ...syncCommands(decider, opts.outbox, () => keyError)],
    async start() {
      if (keyError) throw new GatehouseError('CONFIG_INVALID', `access control not started: ${keyError.message}`);
      await publishAccessState(decider, opts.outbox);
      await service.start();
      // Revoked credentials are kept a while so a revoked card reads as `revoked`, not `unknown`.
      const prune = () => decider.store.pruneRevoked(90, opts.clock.now());
      const failed = (err: Error) => log.error({ err: err.message }, 'pruning revoked credentials failed (disk full?); retried tomorrow');
      pruneTimer = opts.timers.setInterval(() => tolerateStorageError(prune, 0, failed), 24 * 3600_000);
    },
    async stop() {
      pruneTimer?.cancel();
      await service.stop();
    },
  };
}
