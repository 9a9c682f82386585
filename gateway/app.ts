/**
 * The composition root. It builds the core services, loads the device families the compound
 * file configures (gateway/families/registry.ts; no family code is imported otherwise),
 * starts everything in dependency order (families by their declared needs), stops it in
 * reverse, and isolates failures: a device family that cannot be created or started is
 * reported and the rest of the gateway keeps running. The outbox is
 * essential — without it nothing can be recorded, so the daemon refuses to run — and so is
 * any component the compound file requires (requiredComponents()): a gateway without the
 * broker its locks log in to, or without the uplink to its platform, would run deaf and
 * mute while telling systemd it is fine. It exits 1 instead, saying what to fix.
 */
import { randomBytes } from 'node:crypto';
import type { CompoundConfig } from '../config/schema.js';
import type { Secrets } from '../config/load.js';
import { systemClock, realTimers, type Clock, type Timers } from './core/clock.js';
import type { LoggerFactory, Logger } from './core/log.js';
import { topicRoot } from './core/topics.js';
import type { Outbox } from './outbox/outbox.js';
import type { EmbeddedBroker } from './broker/embedded-broker.js';
import { CommandRouter } from './commands/router.js';
import { registerSystemCommands } from './commands/system-commands.js';
import type { AlarmsComponent } from './alarms/create-alarms.js';
import type { CameraLinkage, OutputDriver } from './alarms/types.js';
import type { MediaStore } from './cameras/media-store.js';
import type { MediaPublisher } from './cameras/media-publisher.js';
import type { LiveViewHub } from './cameras/live-view.js';
import type { CertificateExpiry } from './uplink/cert-expiry.js';
import type { Uplink } from './uplink/uplink.js';
import type { GatewayMetrics } from './metrics/gateway-metrics.js';
import type { Health, MetricsServer } from './metrics/metrics-server.js';
import type { ConsoleServer } from './console/console-server.js';
import type { ControlServer } from './control/control-socket.js';
import type { PresencePolicy } from './presence/presence-policy.js';
import type { RemoteConfig, RemoteConfigHost } from './remote-config/remote-config.js';
import { SystemdNotifier } from './systemd.js';
import { VERSION } from './version.js';
import type { Capability, FamilyInstance, FamilyManifest } from './families/family.js';
import { FAMILIES, configuredFamilies } from './families/registry.js';
import { orderFamilies } from './families/boot.js';
import { requiredComponents } from './required-components.js';
import { createBroker } from './boot/broker.js';
import { gatewayComponents } from './boot/components.js';
import { createControl } from './boot/control.js';
import { createCoreServices, openOutbox } from './boot/core-services.js';
import { createFamilies, createConsoleServer, createLiveView, type FamiliesWiring } from './boot/families.js';
import { startComponents, stopComponents, watchdogChecks, type Component } from './boot/lifecycle.js';
import { createMetrics, gatewayHealth } from './boot/metrics.js';
import { createRemoteConfig } from './boot/remote-config.js';
import { gatewayStatus } from './boot/status.js';

export { requiredComponents } from './required-components.js';

export interface GatewayOptions {
  config: CompoundConfig;
  secrets: Secrets;
  dataDir: string;
  logs: LoggerFactory;
  clock?: Clock;
  timers?: Timers;
  /** Overrides uplink.url/urls (GATEHOUSE_UPLINK_URL): one URL or a comma-separated list of cluster nodes. */
  uplinkUrl?: string;
  /** Extra accounts on the embedded broker, e.g. the demo's platform watcher. */
  operators?: { username: string; password: string }[];
  /** The device families; default the registry (tests add a fixture family). */
  families?: readonly FamilyManifest<CompoundConfig>[];
  /** Where the configuration came from and how the daemon restarts (config.apply, secrets.set); without it they are refused. */
  remoteConfig?: RemoteConfigHost;
}

export class Gateway {
  readonly outbox: Outbox;
  readonly broker: EmbeddedBroker;
  readonly router: CommandRouter;
  readonly alarms: AlarmsComponent;
  /** What every family announces of its devices' presence: flapping devices held offline, silence on a planned stop. */
  readonly presence: PresencePolicy;
  readonly media: MediaStore;
  /** Live video for the console: ffmpeg per watched camera; loaded at start, only when cameras exist. */
  liveView: LiveViewHub | undefined;
  private readonly mediaPublisher: MediaPublisher;
  /** The guards' web console: the only way into live video, behind its login; loaded at start, only when enabled. */
  consoleServer: ConsoleServer | undefined;
  /** The local control socket ({dataDir}/control.sock) for `gatehouse user`. */
  private readonly control: ControlServer;
  consoleUrl: string | undefined;
  uplink: Uplink | undefined;
  /** Prometheus metrics and /healthz (metrics.enabled); prom-client is loaded only then. */
  metrics: GatewayMetrics | undefined;
  metricsServer: MetricsServer | undefined;
  metricsUrl: string | undefined;
  /** Between the end of start() and the beginning of stop(): what /healthz calls started. */
  private running = false;
  /** The expiry of the uplink's client certificate (state/gateway, event at 30 days, alarm at 7). */
  certificateExpiry: CertificateExpiry | undefined;
  readonly root: string;
  brokerPort = 0;
  private readonly log: Logger;
  private readonly components: Component[];
  private started: Component[] = [];
  private readonly failed = new Map<string, string>();
  /** Components the compound file cannot do without, with the reason. */
  private readonly required: Map<string, string>;
  private readonly notifier: SystemdNotifier;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly internalPassword = randomBytes(24).toString('base64url');
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Every family of the registry, and the configured ones in start order (needs before their providers' users). */
  private readonly registry: readonly FamilyManifest<CompoundConfig>[];
  private readonly ordered: FamilyManifest<CompoundConfig>[];
  private readonly instances = new Map<string, FamilyInstance>();
  /** Families whose load() or create() threw: they fail at their start, reported like any component. */
  private readonly createErrors = new Map<string, Error>();
  /** What the core provides to families; families add theirs as they are created. */
  private readonly provided = new Map<Capability, unknown>();
  private prepared = false;
  /** config.get / config.apply / secrets.set and the probation of a configuration the platform applied. */
  readonly remoteConfig: RemoteConfig;

  constructor(private readonly opts: GatewayOptions) {
    const { config, logs, dataDir, uplinkUrl } = opts;
    this.log = logs.child('gateway');
    this.clock = opts.clock ?? systemClock({ syncedFlagFile: config.clock.syncedFlagFile, forceState: config.clock.force });
    const timers = opts.timers ?? realTimers;
    this.timers = timers;
    this.root = topicRoot(config.compound.id, config.gateway.id);
    this.registry = opts.families ?? FAMILIES;
    // Refuses (coded) a family whose needs nobody provides, or a cycle, before anything opens.
    this.ordered = orderFamilies(configuredFamilies(config, this.registry), CORE_CAPABILITIES);
    this.required = requiredComponents(config, opts, this.registry);
    this.notifier = new SystemdNotifier(logs.child('systemd'));

    this.outbox = openOutbox({ config, dataDir, clock: this.clock, timers, logs });
    const base = this.base();
    this.broker = createBroker({
      ...base,
      families: this.ordered,
      internalPassword: this.internalPassword,
      operators: opts.operators,
      // Audited under the operator's own name; the answer goes back to that operator only.
      onOperatorCommand: async (operator, name, payload) => {
        const reply = await this.router.answerMessage(name, payload, { via: 'embedded-broker', role: 'platform', principal: operator });
        return reply && JSON.stringify(reply);
      },
    });
    this.router = new CommandRouter({ config: config.commands, outbox: this.outbox, clock: this.clock, log: logs.child('commands') });
    registerSystemCommands(this.router, { status: () => this.status() });
    const uplink = () => this.uplink?.status();
    const { router, failed } = this;
    this.remoteConfig = createRemoteConfig({ ...base, router, host: opts.remoteConfig, failed, uplink, presence: () => this.presence });
    const services = createCoreServices({ ...base, router, registry: this.registry });
    this.alarms = services.alarms;
    this.presence = services.presence;
    this.media = services.media;
    this.mediaPublisher = services.mediaPublisher;
    // "Offline" on an access decision means the platform did not hear of it at the time:
    // with no platform configured (embedded broker only) every decision is offline.
    const platformConfigured = uplinkUrl !== undefined || config.uplink !== undefined;
    const core: Record<(typeof CORE_CAPABILITIES)[number], unknown> = {
      alarms: this.alarms.manager,
      presence: this.presence,
      broker: this.broker,
      media: this.media,
      'uplink-status': () => platformConfigured && (this.uplink?.status().connected ?? false),
    };
    for (const [name, value] of Object.entries(core)) this.provided.set(name as Capability, value);
    this.control = createControl({
      ...base,
      families: this.registry,
      // A family that failed to start is reported as such, not probed through a half-made instance.
      running: (name) => (this.failed.has(name) ? undefined : this.instances.get(name)),
      uplink,
    });
    this.components = gatewayComponents(this, {
      control: this.control,
      mediaPublisher: this.mediaPublisher,
      required: this.required,
      ordered: this.ordered,
      toStart: (name) => this.familyOrError(name),
      created: (name) => this.instances.get(name),
      uplink: { ...base, router, internalPassword: this.internalPassword },
    });
  }

  /** A configured family's instance, e.g. `gateway.family<LocksInstance>('locks')`; throws when it was not created. */
  family<T extends FamilyInstance = FamilyInstance>(name: string): T {
    const instance = this.instances.get(name);
    if (!instance)
      throw new Error(
        `no family "${name}" in this gateway (not configured, not started yet, or it failed: ${this.failed.get(name) ?? 'not configured'})`,
      );
    return instance as T;
  }

  private familyOrError(name: string): FamilyInstance {
    const err = this.createErrors.get(name);
    if (err) throw err;
    return this.family(name);
  }

  /** What the boot/ wiring is given (see the constructor). */
  private base() {
    const { config, secrets, dataDir, uplinkUrl, logs } = this.opts;
    return { config, secrets, dataDir, uplinkUrl, logs, outbox: this.outbox, clock: this.clock, timers: this.timers, root: this.root };
  }

  /**
   * Loads and creates every configured family (their code is imported here, never before),
   * registers their commands and what they provide, then builds what depends on them: the
   * linkage engine on outputs and cameras, the live view when cameras exist, the console
   * when enabled. Nothing is started yet, so linkage listens before the first alarm.
   */
  private async prepare(): Promise<void> {
    if (this.prepared) return;
    this.prepared = true;
    if (this.opts.config.metrics.enabled) {
      const { metrics, server } = await createMetrics({
        ...this.base(),
        config: this.opts.config.metrics,
        alarms: this.alarms.manager,
        presence: this.presence,
        certificateExpiry: () => this.certificateExpiry,
        health: () => this.health(),
      });
      this.metrics = metrics;
      this.metricsServer = server;
    }
    const w: FamiliesWiring = {
      ...this.base(),
      router: this.router,
      observe: this.metrics,
      provided: this.provided,
      instances: this.instances,
      createErrors: this.createErrors,
    };
    await createFamilies(this.ordered, w);
    this.alarms.linkage(
      this.provided.get('outputs') as OutputDriver | undefined,
      this.provided.get('camera-linkage') as CameraLinkage | undefined,
    );
    this.liveView = await createLiveView(w);
    const parts = { registry: this.registry, alarms: this.alarms, media: this.media, liveView: this.liveView, status: () => this.status() };
    this.consoleServer = await createConsoleServer(w, parts);
  }

  /** What /healthz answers (boot/metrics.ts). */
  health(): Health {
    const { running, failed, outbox, uplink } = this;
    return gatewayHealth({ running, anyStarted: this.started.length > 0, failed, outbox, uplink });
  }

  async start(): Promise<void> {
    await this.prepare();
    await startComponents(this.components, {
      outbox: this.outbox,
      log: this.log,
      started: this.started,
      failed: this.failed,
      stopAll: () => this.stop(),
    });
    this.sweepTimer = setInterval(() => this.outbox.sweepExpired(), 3600_000);
    this.sweepTimer.unref();
    // Not awaited into start(): on a full disk the gateway still runs (doors decide from memory);
    // the disk-full state reports and retries.
    const started = { version: VERSION, failed: [...this.failed.keys()] };
    await this.outbox
      .record({ class: 'system', type: 'gateway.started', source: { device: 'gateway' }, data: started })
      .catch((err: Error) => this.log.error({ err: err.message }, 'gateway.started not recorded'));
    this.running = true;
    this.notifier.ready(`gateway ${this.opts.config.gateway.id} running`);
    this.notifier.startWatchdog(
      watchdogChecks({
        outbox: this.outbox,
        uplink: () => this.uplink,
        required: this.required,
        started: () => this.started,
        failed: this.failed,
      }),
    );
  }

  /** Ordered shutdown: devices first (no new events), then delivery, then storage. */
  async stop(): Promise<void> {
    this.running = false;
    this.notifier.stopping();
    this.notifier.stop();
    // A planned stop is not every device going offline: nothing more is announced from here.
    this.presence.stop();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.started.some((c) => c.name === 'outbox')) {
      await this.outbox
        .record({ class: 'system', type: 'gateway.stopping', source: { device: 'gateway' }, data: { version: VERSION } })
        .catch(() => undefined);
    }
    // A pending flood summary is an audit record: write it while the outbox is still open.
    this.router.flushRefusalSummaries();
    await stopComponents(this.started, this.log);
    this.started = [];
  }

  status(): Record<string, unknown> {
    const { clock, failed, uplink, outbox, presence, registry, instances, liveView, remoteConfig } = this;
    const alarms = this.alarms.manager;
    return gatewayStatus({
      config: this.opts.config,
      clock,
      failed,
      uplink,
      outbox,
      alarms,
      presence,
      registry,
      instances,
      liveView,
      remoteConfig,
    });
  }
}

/** The capabilities the core provides to every family (gateway/families/family.ts). */
const CORE_CAPABILITIES = ['alarms', 'presence', 'broker', 'media', 'uplink-status'] as const satisfies readonly Capability[];
