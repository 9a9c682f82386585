/**
 * Creating the configured families and what depends on them (moved out of the composition
 * root). Each family's code is imported here, at its load(), never before; one whose load()
 * or create() throws is kept as an error and fails at its start, reported like any
 * component, while the rest are created. Then the live view (only when a family provides
 * live streams) and the console (only when enabled) are built on what the families provide.
 */
import type { CompoundConfig } from '../../config/schema.js';
import type { Secrets } from '../../config/load.js';
import type { Clock, Timers } from '../core/clock.js';
import type { LoggerFactory } from '../core/log.js';
import type { AlarmsComponent } from '../alarms/create-alarms.js';
import type { LiveViewHub } from '../cameras/live-view.js';
import type { MediaStore } from '../cameras/media-store.js';
import type { CommandRouter } from '../commands/router.js';
import { consoleCatalogue } from '../console/catalogue.js';
import type { ConsoleServer } from '../console/console-server.js';
import { familyContext } from '../families/boot.js';
import type { Capability, FamilyInstance, FamilyManifest, GatewayObserver } from '../families/family.js';
import type { Outbox } from '../outbox/outbox.js';

export interface FamiliesWiring {
  config: CompoundConfig;
  dataDir: string;
  secrets: Secrets;
  outbox: Outbox;
  router: CommandRouter;
  clock: Clock;
  timers: Timers;
  logs: LoggerFactory;
  /** The metrics' hooks, when metrics.enabled. */
  observe: GatewayObserver | undefined;
  /** What the core provides; each family adds what it declares as it is created. */
  provided: Map<Capability, unknown>;
  /** Filled: the created instances, and the families whose load() or create() threw. */
  instances: Map<string, FamilyInstance>;
  createErrors: Map<string, Error>;
}

/** Loads and creates the configured families in start order, registering their commands and what they provide. */
export async function createFamilies(ordered: readonly FamilyManifest<CompoundConfig>[], w: FamiliesWiring): Promise<void> {
  for (const m of ordered) {
    try {
      const code = await m.load();
      const ctx = familyContext(m, {
        config: w.config,
        dataDir: w.dataDir,
        outbox: w.outbox,
        secrets: w.secrets,
        clock: w.clock,
        timers: w.timers,
        log: w.logs.child(m.name),
        logs: w.logs,
        provided: w.provided,
        ...(w.observe ? { observe: w.observe } : {}),
      });
      const instance = await code.create(ctx);
      for (const def of instance.commands?.() ?? []) w.router.register(def);
      for (const c of m.provides ?? []) w.provided.set(c, instance.provides?.[c]);
      w.instances.set(m.name, instance);
    } catch (err) {
      w.createErrors.set(m.name, err as Error);
    }
  }
}

/** The live view's hub when a family provides live streams (cameras); its code (ws, ffmpeg supervision) is loaded only then. */
export async function createLiveView(w: FamiliesWiring): Promise<LiveViewHub | undefined> {
  const streams = w.provided.get('live-streams') as { has(id: string): boolean; streamUrl(id: string): Promise<string> } | undefined;
  if (!streams) return undefined;
  const { LiveViewHub } = await import('../cameras/live-view.js');
  return new LiveViewHub({
    config: w.config.liveView,
    hasCamera: (id) => streams.has(id),
    resolveUrl: (id) => streams.streamUrl(id),
    rtspTransport: w.config.liveView.rtspTransport,
    clock: w.clock,
    log: w.logs.child('live-view'),
  });
}

/** The guards' console when console.enabled; its code is loaded only then. */
export async function createConsoleServer(
  w: FamiliesWiring,
  parts: {
    /** Every family of the registry: the catalogue of views names the configured ones. */
    registry: readonly FamilyManifest<CompoundConfig>[];
    alarms: AlarmsComponent;
    media: MediaStore;
    liveView: LiveViewHub | undefined;
    status(): Record<string, unknown>;
  },
): Promise<ConsoleServer | undefined> {
  if (!w.config.console.enabled) return undefined;
  const { createConsole } = await import('../console/console-server.js');
  return createConsole({
    config: w.config,
    dataDir: w.dataDir,
    outbox: w.outbox,
    router: w.router,
    alarms: parts.alarms.manager,
    linkage: parts.alarms.linkage(),
    status: parts.status,
    ...(parts.liveView ? { liveView: parts.liveView } : {}),
    media: parts.media,
    catalogue: consoleCatalogue(parts.registry, w.config),
    clock: w.clock,
    timers: w.timers,
    logs: w.logs,
  });
}
