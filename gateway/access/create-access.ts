/**
 * Builds the access controller from the compound file: the per-box credential hash key,
 * the decision engine on the outbox database, the reader keys, one OSDP control panel per
 * RS-485 line, and the service that ties readers to doors. Kept out of app.ts so the
 * composition root reads as a list of components.
 */
import type { Secrets } from '../../config/load.js';
import type { CompoundConfig } from '../../config/schema.js';
import { OsdpControlPanel } from '../../drivers/osdp/control-panel.js';
import type { Clock, Timers } from '../clock.js';
import type { CommandDefinition } from '../commands/types.js';
import type { LoggerFactory } from '../log.js';
import type { Outbox } from '../outbox/outbox.js';
import { AccessService, type ReaderLineFactory } from './access-service.js';
import { AccessDecider } from './decider.js';
import { doorCommands } from './door-commands.js';
import { loadOrCreateHashKey, ReaderKeyStore } from './keys.js';
import { publishAccessState, syncCommands } from './sync-commands.js';

export interface AccessComponent {
  service: AccessService;
  decider: AccessDecider;
  commands(): CommandDefinition[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface CreateAccessOptions {
  config: CompoundConfig;
  secrets: Secrets;
  dataDir: string;
  outbox: Outbox;
  clock: Clock;
  timers: Timers;
  logs: LoggerFactory;
  uplinkConnected(): boolean;
  /** Tests and the demo may wrap or replace the serial lines. */
  lineFactory?: ReaderLineFactory;
}

export function createAccess(opts: CreateAccessOptions): AccessComponent {
  const { config } = opts;
  const log = opts.logs.child('access');
  const decider = new AccessDecider({
    db: opts.outbox.db,
    hashKey: loadOrCreateHashKey(opts.dataDir),
    config: config.access,
    doors: config.doors.map((d) => d.id),
    clock: opts.clock,
  });
  const keys = new ReaderKeyStore(opts.dataDir, opts.secrets);
  const osdpLog = opts.logs.child('osdp');
  const lineFactory: ReaderLineFactory =
    opts.lineFactory ?? ((bus, readers) => new OsdpControlPanel({ bus, readers, clock: opts.clock, timers: opts.timers, log: osdpLog.child({ bus: bus.id }) }));
  const service = new AccessService({
    buses: config.osdpBuses,
    readers: config.readers,
    doors: config.doors,
    access: config.access,
    decider,
    lineFactory,
    readerKey: (r) => keys.keyFor(r),
    readerInstalled: (r) => keys.isInstalled(r.id),
    onKeySet: (r, key) => keys.remember(r.id, key),
    outbox: opts.outbox,
    uplinkConnected: opts.uplinkConnected,
    clock: opts.clock,
    timers: opts.timers,
    log,
  });
  let pruneTimer: { cancel(): void } | undefined;
  return {
    service,
    decider,
    commands: () => [...doorCommands(service), ...syncCommands(decider, opts.outbox)],
    async start() {
      await publishAccessState(decider, opts.outbox);
      await service.start();
      // Revoked credentials are kept a while so a revoked card reads as `revoked`, not `unknown`.
      pruneTimer = opts.timers.setInterval(() => decider.store.pruneRevoked(90, opts.clock.now()), 24 * 3600_000);
    },
    async stop() {
      pruneTimer?.cancel();
      await service.stop();
    },
  };
}
