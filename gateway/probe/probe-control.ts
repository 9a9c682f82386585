/**
 * The daemon's side of `gatehouse check --devices`: the `probe` control request. The probes
 * run here, through the running families (their drivers hold the serial ports and the
 * connections), and each finished device is sent back as a progress line before the answer.
 * Only the daemon's user and root reach the control socket (its file mode is the check).
 * One check at a time: a second one is refused rather than doubling the traffic on a line.
 */
import type { Secrets } from '../../config/load.js';
import type { CompoundConfig } from '../../config/schema.js';
import type { Clock, Timers } from '../core/clock.js';
import { GatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { ControlHandler } from '../control/control-socket.js';
import type { FamilyInstance, FamilyManifest } from '../families/family.js';
import type { UplinkStatus } from '../uplink/uplink.js';

/** The most a device may take when the client does not say (and the most it may ask). */
export const DEFAULT_DEVICE_TIMEOUT_MS = 5000;
export const MAX_DEVICE_TIMEOUT_MS = 30_000;

export function probeControlHandlers(o: {
  config: CompoundConfig;
  secrets: Secrets;
  dataDir: string;
  families: readonly FamilyManifest<CompoundConfig>[];
  clock: Clock;
  timers: Timers;
  log: Logger;
  running(family: string): FamilyInstance | undefined;
  uplink(): UplinkStatus | undefined;
  uplinkUrl?: string | undefined;
}): Record<string, ControlHandler> {
  let busy = false;
  return {
    probe: async (req, io) => {
      if (busy) throw new GatehouseError('CMD_FAILED', 'a device check is already running: wait for it to finish');
      const asked = req.deviceTimeoutMs;
      const deviceTimeoutMs =
        typeof asked === 'number' && Number.isFinite(asked) && asked >= 100
          ? Math.min(asked, MAX_DEVICE_TIMEOUT_MS)
          : DEFAULT_DEVICE_TIMEOUT_MS;
      busy = true;
      try {
        o.log.info({ deviceTimeoutMs }, 'device check requested through the control socket');
        const { runProbes } = await import('./run-probes.js');
        return await runProbes({
          config: o.config,
          secrets: o.secrets,
          dataDir: o.dataDir,
          families: o.families,
          clock: o.clock,
          timers: o.timers,
          log: o.log,
          deviceTimeoutMs,
          progress: (line) => io.progress(line),
          running: o.running,
          uplink: o.uplink,
          uplinkUrl: o.uplinkUrl,
        });
      } finally {
        busy = false;
      }
    },
  };
}
