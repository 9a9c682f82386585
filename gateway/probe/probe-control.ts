/**
 * The daemon's side of `gatehouse check --devices`: the `probe` control request. The probes
 * run here, through the running families (their drivers hold the serial ports and the
 * connections), and each finished device is sent back as a progress line before the answer.
 * Only the daemon's user and root reach the control socket (its file mode is the check).
 * One check at a time: a second one is refused rather than doubling the traffic on a line.
 * Each request is audited like a command (`command.executed`, `devices.check`, via `cli`): it
 * drives every device of the compound, so the platform learns that a check ran, and when.
 */
import { randomUUID } from 'node:crypto';
import type { Secrets } from '../../config/load.js';
import type { CompoundConfig } from '../../config/schema.js';
import type { Clock, Timers } from '../core/clock.js';
import { GatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { ControlHandler } from '../control/control-socket.js';
import type { FamilyInstance, FamilyManifest } from '../families/family.js';
import type { UplinkStatus } from '../uplink/uplink.js';
import type { Outbox } from '../outbox/outbox.js';
import { toGatehouseError } from '../core/errors.js';

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
  /** Where the audit event goes. */
  outbox: Pick<Outbox, 'record'>;
}): Record<string, ControlHandler> {
  let busy = false;
  const audit = async (startedAt: number, error?: unknown): Promise<void> => {
    const code = error === undefined ? undefined : toGatehouseError(error).code;
    try {
      await o.outbox.record({
        class: 'system',
        type: 'command.executed',
        source: { device: 'gateway' },
        data: {
          command: 'devices.check',
          id: randomUUID(),
          // Whoever reaches the socket is the daemon's user or root on the box: an installer's rights.
          caller: { via: 'cli', role: 'installer', principal: 'cli' },
          ok: code === undefined,
          ...(code !== undefined ? { error: code } : {}),
          durationMs: Math.max(0, Math.round(o.clock.monotonic() - startedAt)),
        },
      });
    } catch (err) {
      o.log.error({ err: (err as Error).message }, 'device check ran, but its audit event could not be recorded');
    }
  };
  return {
    probe: async (req, io) => {
      const startedAt = o.clock.monotonic();
      if (busy) {
        const refused = new GatehouseError('CMD_FAILED', 'a device check is already running: wait for it to finish');
        await audit(startedAt, refused);
        throw refused;
      }
      const asked = req.deviceTimeoutMs;
      const deviceTimeoutMs =
        typeof asked === 'number' && Number.isFinite(asked) && asked >= 100
          ? Math.min(asked, MAX_DEVICE_TIMEOUT_MS)
          : DEFAULT_DEVICE_TIMEOUT_MS;
      busy = true;
      try {
        o.log.info({ deviceTimeoutMs }, 'device check requested through the control socket');
        const { runProbes } = await import('./run-probes.js');
        const run = await runProbes({
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
        await audit(startedAt);
        return run;
      } catch (err) {
        await audit(startedAt, err);
        throw err;
      } finally {
        busy = false;
      }
    },
  };
}
