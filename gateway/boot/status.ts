/**
 * The gateway's status (moved out of the composition root): what `gateway.status`, the
 * console's System page and `state/gateway` show. Each family appears under its name; one
 * not configured (or not created) keeps its key with its idle shape, so consumers see one shape.
 */
import type { CompoundConfig } from '../../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { AlarmManager } from '../alarms/alarm-manager.js';
import type { LiveViewHub } from '../cameras/live-view.js';
import type { FamilyInstance, FamilyManifest } from '../families/family.js';
import type { Outbox } from '../outbox/outbox.js';
import type { PresencePolicy } from '../presence/presence-policy.js';
import type { RemoteConfig } from '../remote-config/remote-config.js';
import type { Uplink } from '../uplink/uplink.js';
import { VERSION } from '../version.js';

/** The live view's status while no camera exists (its hub is then never loaded). */
const NO_LIVE_VIEW = { streams: [], viewers: 0, ffmpegMissing: false };

export function gatewayStatus(g: {
  config: CompoundConfig;
  clock: Clock;
  failed: ReadonlyMap<string, string>;
  uplink: Uplink | undefined;
  outbox: Outbox;
  alarms: AlarmManager;
  presence: PresencePolicy;
  registry: readonly FamilyManifest<CompoundConfig>[];
  instances: ReadonlyMap<string, FamilyInstance>;
  liveView: LiveViewHub | undefined;
  remoteConfig: RemoteConfig;
}): Record<string, unknown> {
  return {
    version: VERSION,
    compound: g.config.compound.id,
    gateway: g.config.gateway.id,
    clock: g.clock.state(),
    failedComponents: Object.fromEntries(g.failed),
    uplink: g.uplink?.status() ?? { connected: false },
    // The console polls status: per-class counts may be up to 10 s old (a table scan each).
    outbox: g.outbox.stats({ maxAgeMs: 10_000 }),
    alarms: { open: g.alarms.openCount() },
    presence: { flapping: g.presence.flapping() },
    ...Object.fromEntries(
      g.registry.flatMap((m) => {
        const instance = g.instances.get(m.name);
        if (instance?.status) return [[m.name, instance.status()]];
        return m.idleStatus ? [[m.name, m.idleStatus(g.config)]] : [];
      }),
    ),
    liveView: g.liveView?.stats() ?? NO_LIVE_VIEW,
    config: g.remoteConfig.status(),
  };
}
