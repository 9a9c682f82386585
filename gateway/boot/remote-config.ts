/**
 * The remote configuration's wiring (moved out of the composition root): config.get,
 * config.apply and secrets.set on the command router, and what its probation judges a
 * configuration by (failed components, the platform uplink, the devices' presence).
 */
import type { CompoundConfig } from '../../config/schema.js';
import type { Secrets } from '../../config/load.js';
import type { Clock, Timers } from '../core/clock.js';
import type { LoggerFactory } from '../core/log.js';
import type { CommandRouter } from '../commands/router.js';
import type { Outbox } from '../outbox/outbox.js';
import type { PresencePolicy } from '../presence/presence-policy.js';
import { RemoteConfig, type RemoteConfigHost } from '../remote-config/remote-config.js';
import type { UplinkStatus } from '../uplink/uplink.js';

export interface RemoteConfigWiring {
  config: CompoundConfig;
  secrets: Secrets;
  dataDir: string;
  outbox: Outbox;
  router: CommandRouter;
  /** Where the configuration came from and how the daemon restarts; without it config.apply and secrets.set are refused. */
  host: RemoteConfigHost | undefined;
  uplinkUrl: string | undefined;
  clock: Clock;
  timers: Timers;
  logs: LoggerFactory;
  /** Components that failed to start, with their error. */
  failed: ReadonlyMap<string, string>;
  uplink(): UplinkStatus | undefined;
  /** Read when a probation looks, not at construction: the presence policy is built after this. */
  presence(): Pick<PresencePolicy, 'tracked'>;
}

export function createRemoteConfig(w: RemoteConfigWiring): RemoteConfig {
  const remoteConfig = new RemoteConfig({
    config: w.config,
    secrets: w.secrets,
    dataDir: w.dataDir,
    outbox: w.outbox,
    host: w.host,
    health: () => ({
      failed: Object.fromEntries(w.failed),
      uplink: (w.uplinkUrl ?? w.config.uplink?.url) === undefined ? undefined : (w.uplink() ?? { connected: false, lastError: null }),
      devices: w.presence().tracked(),
    }),
    clock: w.clock,
    timers: w.timers,
    log: w.logs.child('remote-config'),
  });
  for (const def of remoteConfig.commands()) w.router.register(def);
  return remoteConfig;
}
