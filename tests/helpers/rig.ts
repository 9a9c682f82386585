/**
 * "A Gateway + a real Mosquitto platform": the set-up every end-to-end test had written
 * out by hand. `startRig` starts a Mosquitto (tests/helpers/mosquitto.ts), builds a
 * Gateway from the compound file given (a temp data dir, silent logs unless asked), with
 * its uplink pointed at that Mosquitto, connects the platform subscriber
 * (tests/helpers/platform.ts) to the gateway's topic tree before the gateway starts, so
 * nothing it publishes is missed, then starts the gateway. Simulators are the test's: they
 * are started before (their ports go into the compound file) or after (they need the
 * gateway's ports), and stopped by the test before `rig.stop()`.
 *
 * The compound file is the test's, with these defaults where it says nothing:
 * `compound.id` 'e2e-court', `gateway.id` 'gw-1', an ephemeral embedded broker port, the
 * console off, silent logs, and `uplink.url` always the rig's Mosquitto.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secretsFrom } from '../../config/load.js';
import { CompoundConfig, type CompoundConfigInput } from '../../config/schema.js';
import { Gateway, type GatewayOptions } from '../../gateway/app.js';
import { createLoggerFactory, type LoggerFactory } from '../../gateway/core/log.js';
import { startMosquitto, type Mosquitto, type MosquittoOptions } from './mosquitto.js';
import { Platform, type PlatformOptions } from './platform.js';
import type { LocksInstance } from '../../gateway/locks/create-locks.js';
import type { CabinetsInstance } from '../../gateway/charging/create-cabinets.js';
import type { AccessInstance } from '../../gateway/access/create-access.js';
import type { PerimeterInstance } from '../../gateway/perimeter/create-perimeter.js';
import type { Dc09Instance } from '../../gateway/perimeter/create-dc09.js';
import type { CamerasInstance } from '../../gateway/cameras/create-cameras.js';

/** A compound file without what the rig fills in (ids default, the uplink URL is the rig's). */
export type RigCompound = Omit<Partial<CompoundConfigInput>, 'uplink'> & { uplink?: Partial<NonNullable<CompoundConfigInput['uplink']>> };

export interface RigOptions {
  /** The compound file (parsed by CompoundConfig, with the defaults above), or a function of the rig's Mosquitto. */
  config: RigCompound | ((broker: Mosquitto) => RigCompound);
  secrets?: Record<string, string>;
  /** Default: no persistence (a platform with a persistent session needs `persistence: true`). */
  mosquitto?: MosquittoOptions;
  /** Default: client id `platform-{name}`, clean session, reconnecting every 100 ms. */
  platform?: Partial<PlatformOptions>;
  /** Names the temp data dir and the platform client. */
  name?: string;
  logs?: LoggerFactory;
  /** The rest of the Gateway options (clock, timers, operators...). */
  gateway?: Omit<GatewayOptions, 'config' | 'secrets' | 'dataDir' | 'logs'>;
  /** false: build but do not start the gateway (the test starts it). Default true. */
  start?: boolean;
}

/** The families the tests reach into; one place to change when the gateway hands them out otherwise. */
/** The family instances tests reach into, by registry name. */
export interface FamilyInstances {
  locks: LocksInstance;
  cabinets: CabinetsInstance;
  access: AccessInstance;
  perimeter: PerimeterInstance;
  dc09: Dc09Instance;
  cameras: CamerasInstance;
}
export type FamilyName = keyof FamilyInstances;

export interface Rig {
  broker: Mosquitto;
  gateway: Gateway;
  platform: Platform;
  config: CompoundConfig;
  dir: string;
  /**
   * A new Gateway on the same data dir and compound file, started: a restart as `gatehouse
   * run` does it (stops the current one first if it still runs). `rig.gateway` is the new one.
   */
  restartGateway(): Promise<Gateway>;
  /** A family's component, as the gateway holds it. */
  family<K extends FamilyName>(name: K): FamilyInstances[K];
  /** Stops the gateway, the platform client and Mosquitto, and removes the data dir. Idempotent. */
  stop(): Promise<void>;
}

export async function startRig(opts: RigOptions): Promise<Rig> {
  const name = opts.name ?? 'e2e';
  const broker = await startMosquitto({ persistence: false, ...opts.mosquitto });
  let dir: string | undefined;
  let gateway: Gateway | undefined;
  let platform: Platform | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await gateway?.stop();
    await platform?.close();
    await broker.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const input = typeof opts.config === 'function' ? opts.config(broker) : opts.config;
    const config = CompoundConfig.parse({
      compound: { id: 'e2e-court' },
      gateway: { id: 'gw-1' },
      broker: { port: 0 },
      console: { enabled: false },
      log: { level: 'silent' },
      ...input,
      uplink: { ...input.uplink, url: broker.url },
    });
    dir = mkdtempSync(join(tmpdir(), `gh-${name}-`));
    const logs = opts.logs ?? createLoggerFactory({ level: 'silent' }, { destination: process.stderr });
    gateway = new Gateway({ ...opts.gateway, config, secrets: secretsFrom(opts.secrets ?? {}), dataDir: dir, logs });
    platform = await Platform.connect(broker.url, gateway.root, { clientId: `platform-${name}`, ...opts.platform });
    if (opts.start !== false) await gateway.start();
    const make = () => new Gateway({ ...opts.gateway, config, secrets: secretsFrom(opts.secrets ?? {}), dataDir: dir!, logs });
    const rig: Rig = {
      broker,
      gateway,
      platform,
      config,
      dir,
      stop,
      restartGateway: async () => {
        await rig.gateway.stop();
        rig.gateway = gateway = make();
        await rig.gateway.start();
        return rig.gateway;
      },
      family: <K extends FamilyName>(family: K): FamilyInstances[K] => rig.gateway.family<FamilyInstances[K]>(family),
    };
    return rig;
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
