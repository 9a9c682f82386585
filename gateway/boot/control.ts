/**
 * The local control socket's wiring (moved out of the composition root): `gatehouse user`
 * (the change applied and audited by the owner of outbox.db) and `gatehouse check --devices`
 * while the daemon runs (the probes go through the running families).
 */
import type { CompoundConfig } from '../../config/schema.js';
import type { Secrets } from '../../config/load.js';
import type { Clock, Timers } from '../core/clock.js';
import type { LoggerFactory } from '../core/log.js';
import { userControlHandlers } from '../console/user-control.js';
import { ControlServer } from '../control/control-socket.js';
import type { FamilyInstance, FamilyManifest } from '../families/family.js';
import type { Outbox } from '../outbox/outbox.js';
import { probeControlHandlers } from '../probe/probe-control.js';
import type { UplinkStatus } from '../uplink/uplink.js';

export interface ControlWiring {
  config: CompoundConfig;
  secrets: Secrets;
  dataDir: string;
  /** Every family of the registry (a probe names the ones not configured too). */
  families: readonly FamilyManifest<CompoundConfig>[];
  outbox: Outbox;
  clock: Clock;
  timers: Timers;
  logs: LoggerFactory;
  uplinkUrl: string | undefined;
  /** A running family's instance; undefined when it is not configured or failed to start. */
  running(family: string): FamilyInstance | undefined;
  uplink(): UplinkStatus | undefined;
}

export function createControl(w: ControlWiring): ControlServer {
  return new ControlServer({
    dataDir: w.dataDir,
    handlers: {
      ...userControlHandlers({ outbox: w.outbox, now: () => w.clock.now(), log: w.logs.child('control') }),
      // `gatehouse check --devices` while the daemon runs: the probes go through the running families.
      ...probeControlHandlers({
        config: w.config,
        secrets: w.secrets,
        dataDir: w.dataDir,
        families: w.families,
        clock: w.clock,
        timers: w.timers,
        log: w.logs.child('probe'),
        running: w.running,
        uplink: w.uplink,
        uplinkUrl: w.uplinkUrl,
        outbox: w.outbox,
      }),
    },
    log: w.logs.child('control'),
  });
}
