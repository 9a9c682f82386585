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
import { join } from 'node:path';
import type { CompoundConfig, UplinkConfig } from '../config/schema.js';
import { splitUplinkUrls, UplinkConfig as UplinkConfigSchema, uplinkUrls } from '../config/schema.js';
import { secretsFrom, type Secrets } from '../config/load.js';
import { systemClock, realTimers, type Clock, type Timers } from './core/clock.js';
import type { LoggerFactory, Logger } from './core/log.js';
import { Outbox } from './outbox/outbox.js';
import { EmbeddedBroker } from './broker/embedded-broker.js';
import { CommandRouter } from './commands/router.js';
import { registerSystemCommands } from './commands/system-commands.js';
import { createAlarms, type AlarmsComponent } from './alarms/create-alarms.js';
import type { CameraLinkage, OutputDriver } from './alarms/types.js';
import { MediaStore } from './cameras/media-store.js';
import { consoleCatalogue } from './console/catalogue.js';
import { ALARM_KINDS as OUTBOX_ALARM_KINDS } from './outbox/alarm-kinds.js';
import { ALARM_KINDS as PRESENCE_ALARM_KINDS } from './presence/alarm-kinds.js';
import { ALARM_KINDS as UPLINK_ALARM_KINDS } from './uplink/alarm-kinds.js';
import { CertificateExpiry } from './uplink/cert-expiry.js';
import { certificateNoticeStore } from './uplink/cert-notices.js';
import { withBoxIdentity } from './uplink/box-identity.js';
import type { GatewayMetrics } from './metrics/gateway-metrics.js';
import type { Health, MetricsServer } from './metrics/metrics-server.js';
import { MediaPublisher } from './cameras/media-publisher.js';
import type { LiveViewHub } from './cameras/live-view.js';
import type { ConsoleServer } from './console/console-server.js';
import { ControlServer } from './control/control-socket.js';
import { userControlHandlers } from './console/user-control.js';
import { probeControlHandlers } from './probe/probe-control.js';
import { Uplink } from './uplink/uplink.js';
import { redactUrl } from './uplink/connection.js';
import { topicRoot } from './core/topics.js';
import { SystemdNotifier } from './systemd.js';
import { PresencePolicy } from './presence/presence-policy.js';
import { VERSION } from './version.js';
import { GatehouseError } from './core/errors.js';
import { reportOutboxStart, watchDiskFull } from './outbox/disk-full-alarm.js';
import type { Capability, FamilyInstance, FamilyManifest } from './families/family.js';
import { brokerAccounts, remedy, requiredComponents } from './required-components.js';
import { FAMILIES, configuredFamilies } from './families/registry.js';
import { familyContext, orderFamilies } from './families/boot.js';
import { RemoteConfig, type RemoteConfigHost } from './remote-config/remote-config.js';

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

interface Component {
  name: string;
  essential: boolean;
  /** Why the daemon cannot run without it, for the message when it fails to start. */
  requiredBecause?: string | undefined;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

/** The live view's status while no camera exists (its hub is then never loaded). */
const NO_LIVE_VIEW = { streams: [], viewers: 0, ffmpegMissing: false };

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
  private readonly components: Component[] = [];
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
    const { config, logs } = opts;
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

    this.outbox = new Outbox({ file: join(opts.dataDir, 'outbox.db'), clock: this.clock, timers, config: config.outbox });
    const outboxLog = logs.child('outbox');
    this.outbox.on('error', (err) => outboxLog.error({ code: err.code, err: err.message }, 'outbox error'));
    this.outbox.on('evicted', (r) => outboxLog.warn(r, 'outbox cap reached: events evicted and reported'));
    reportOutboxStart(this.outbox, outboxLog);

    this.broker = new EmbeddedBroker({
      config: config.broker,
      secrets: opts.secrets,
      // Declared by the families' manifests: the account table exists before any family code is loaded.
      devices: brokerAccounts(config, this.ordered).map((a) => ({ id: a.username, passwordSecret: a.secret, family: a.kind })),
      internalAccounts: [
        { username: 'gatehouse-uplink', password: this.internalPassword, role: 'gateway' },
        ...(opts.operators ?? []).map((o) => ({ ...o, role: 'operator' as const })),
      ],
      topicRoot: this.root,
      log: logs.child('broker'),
      dataDir: opts.dataDir,
      // Audited under the operator's own name; the answer goes back to that operator only.
      onOperatorCommand: async (operator, name, payload) => {
        const reply = await this.router.answerMessage(name, payload, { via: 'embedded-broker', role: 'platform', principal: operator });
        return reply && JSON.stringify(reply);
      },
    });
    this.router = new CommandRouter({ config: config.commands, outbox: this.outbox, clock: this.clock, log: logs.child('commands') });
    registerSystemCommands(this.router, { status: () => this.status() });
    this.remoteConfig = new RemoteConfig({
      config,
      secrets: opts.secrets,
      dataDir: opts.dataDir,
      outbox: this.outbox,
      host: opts.remoteConfig,
      health: () => ({
        failed: Object.fromEntries(this.failed),
        uplink:
          (opts.uplinkUrl ?? config.uplink?.url) === undefined
            ? undefined
            : (this.uplink?.status() ?? { connected: false, lastError: null }),
        devices: this.presence.tracked(),
      }),
      clock: this.clock,
      timers,
      log: logs.child('remote-config'),
    });
    for (const def of this.remoteConfig.commands()) this.router.register(def);
    // The alarm lifecycle first: open alarms are restored before any source runs; every
    // family reports its conditions to the manager (its alarm sink) with the kinds it declares.
    this.alarms = createAlarms({ config, outbox: this.outbox, clock: this.clock, timers, logs });
    this.alarms.manager.declareKinds([
      ...OUTBOX_ALARM_KINDS,
      ...PRESENCE_ALARM_KINDS,
      ...UPLINK_ALARM_KINDS,
      ...this.registry.flatMap((m) => m.alarms ?? []),
    ]);
    watchDiskFull(this.outbox, this.alarms.manager, outboxLog);
    for (const def of this.alarms.commands()) this.router.register(def);
    const presenceLog = logs.child('presence');
    this.presence = new PresencePolicy({ config: config.presence, clock: this.clock, timers, sink: this.alarms.manager, log: presenceLog });
    // Snapshots live on disk beside the outbox; they reach the platform on media/{id}.
    this.media = new MediaStore({
      dataDir: opts.dataDir,
      outbox: this.outbox,
      config: config.media,
      clock: this.clock,
      log: logs.child('media'),
      isAlarmOpen: (id) => (this.alarms.manager.get(id)?.state ?? 'closed') !== 'closed',
    });
    this.mediaPublisher = new MediaPublisher({ store: this.media, root: this.root, log: logs.child('media') });
    // "Offline" on an access decision means the platform did not hear of it at the time:
    // with no platform configured (embedded broker only) every decision is offline.
    const platformConfigured = opts.uplinkUrl !== undefined || config.uplink !== undefined;
    const core: Record<(typeof CORE_CAPABILITIES)[number], unknown> = {
      alarms: this.alarms.manager,
      presence: this.presence,
      broker: this.broker,
      media: this.media,
      'uplink-status': () => platformConfigured && (this.uplink?.status().connected ?? false),
    };
    for (const [name, value] of Object.entries(core)) this.provided.set(name as Capability, value);

    this.control = new ControlServer({
      dataDir: opts.dataDir,
      handlers: {
        ...userControlHandlers({ outbox: this.outbox, now: () => this.clock.now(), log: logs.child('control') }),
        // `gatehouse check --devices` while the daemon runs: the probes go through the running families.
        ...probeControlHandlers({
          config,
          secrets: opts.secrets,
          dataDir: opts.dataDir,
          families: this.registry,
          clock: this.clock,
          timers,
          log: logs.child('probe'),
          // A family that failed to start is reported as such, not probed through a half-made instance.
          running: (name) => (this.failed.has(name) ? undefined : this.instances.get(name)),
          uplink: () => this.uplink?.status(),
          uplinkUrl: opts.uplinkUrl,
          outbox: this.outbox,
        }),
      },
      log: logs.child('control'),
    });
    this.components.push(
      { name: 'outbox', essential: true, start: () => undefined, stop: () => this.outbox.close() },
      // Early, so /healthz says "starting" while the rest starts, and a scrape sees the start-up.
      {
        name: 'metrics',
        essential: false,
        start: async () => {
          if (this.metricsServer) this.metricsUrl = (await this.metricsServer.start()).url;
        },
        stop: () => this.metricsServer?.stop(),
      },
      // `gatehouse user` reaches the daemon here (the change applied and audited by the owner of outbox.db).
      { name: 'control', essential: false, start: () => this.control.start(), stop: () => this.control.stop() },
      // Started before the sources and stopped after them: its last state/alarms write needs the outbox.
      { name: 'alarms', essential: false, start: () => this.alarms.start(), stop: () => this.alarms.stop() },
      {
        name: 'broker',
        essential: this.required.has('broker'),
        requiredBecause: this.required.get('broker'),
        start: async () => {
          this.brokerPort = (await this.broker.start()).port;
        },
        stop: () => this.broker.stop(),
      },
      {
        name: 'uplink',
        essential: this.required.has('uplink'),
        requiredBecause: this.required.get('uplink'),
        start: () => this.startUplink(),
        stop: async () => {
          this.certificateExpiry?.stop();
          await this.uplink?.stop();
        },
      },
      // Stops after every device family and before the uplink: a planned stop leaves each
      // device's retained state saying so (online: null, reason: gateway_stopped), delivered.
      { name: 'presence', essential: false, start: () => undefined, stop: () => this.presence.markStopped(this.outbox) },
      // Each configured family in needs order; one that cannot be created or started is reported and the rest runs.
      ...this.ordered.map((m): Component => ({
        name: m.name,
        essential: false,
        start: () => this.familyOrError(m.name).start(),
        stop: () => this.instances.get(m.name)?.stop(),
      })),
      {
        name: 'media',
        essential: false,
        start: () => undefined,
        stop: async () => {
          this.mediaPublisher.close();
          await this.liveView?.close();
        },
      },
      // After the sources it drives, so it stops before them: sirens it holds on are switched
      // off while the perimeter's bus is still open (the alarms component stops much later).
      { name: 'linkage', essential: false, start: () => undefined, stop: () => this.alarms.linkage().stop() },
      // Last to start, first to stop: no guard acts on a gateway that is not running yet.
      {
        name: 'console',
        essential: false,
        start: async () => {
          if (this.consoleServer) this.consoleUrl = (await this.consoleServer.start()).url;
        },
        stop: () => this.consoleServer?.stop(),
      },
      // After everything it judges: a probation starts once every component had its chance to start.
      { name: 'remote-config', essential: false, start: () => this.remoteConfig.start(), stop: () => this.remoteConfig.stop() },
    );
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

  /**
   * Loads and creates every configured family (their code is imported here, never before),
   * registers their commands and what they provide, then builds what depends on them: the
   * linkage engine on outputs and cameras, the live view when cameras exist, the console
   * when enabled. Nothing is started yet, so linkage listens before the first alarm.
   */
  private async prepare(): Promise<void> {
    if (this.prepared) return;
    this.prepared = true;
    const { config, logs } = this.opts;
    if (config.metrics.enabled) await this.prepareMetrics();
    for (const m of this.ordered) {
      try {
        const code = await m.load();
        const ctx = familyContext(m, {
          config,
          dataDir: this.opts.dataDir,
          outbox: this.outbox,
          secrets: this.opts.secrets,
          clock: this.clock,
          timers: this.timers,
          log: logs.child(m.name),
          logs,
          provided: this.provided,
          ...(this.metrics ? { observe: this.metrics } : {}),
        });
        const instance = await code.create(ctx);
        for (const def of instance.commands?.() ?? []) this.router.register(def);
        for (const c of m.provides ?? []) this.provided.set(c, instance.provides?.[c]);
        this.instances.set(m.name, instance);
      } catch (err) {
        this.createErrors.set(m.name, err as Error);
      }
    }
    this.alarms.linkage(
      this.provided.get('outputs') as OutputDriver | undefined,
      this.provided.get('camera-linkage') as CameraLinkage | undefined,
    );
    const streams = this.provided.get('live-streams') as { has(id: string): boolean; streamUrl(id: string): Promise<string> } | undefined;
    if (streams) {
      const { LiveViewHub } = await import('./cameras/live-view.js');
      this.liveView = new LiveViewHub({
        config: config.liveView,
        hasCamera: (id) => streams.has(id),
        resolveUrl: (id) => streams.streamUrl(id),
        rtspTransport: config.liveView.rtspTransport,
        clock: this.clock,
        log: logs.child('live-view'),
      });
    }
    if (config.console.enabled) {
      const { createConsole } = await import('./console/console-server.js');
      this.consoleServer = createConsole({
        config,
        dataDir: this.opts.dataDir,
        outbox: this.outbox,
        router: this.router,
        alarms: this.alarms.manager,
        linkage: this.alarms.linkage(),
        status: () => this.status(),
        ...(this.liveView ? { liveView: this.liveView } : {}),
        media: this.media,
        catalogue: consoleCatalogue(this.registry, config),
        clock: this.clock,
        timers: this.timers,
        logs,
      });
    }
  }

  private async prepareMetrics(): Promise<void> {
    const [{ GatewayMetrics }, { MetricsServer }] = await Promise.all([
      import('./metrics/gateway-metrics.js'),
      import('./metrics/metrics-server.js'),
    ]);
    const config = this.opts.config.metrics;
    const metrics = new GatewayMetrics({
      outbox: this.outbox,
      alarms: this.alarms.manager,
      presence: this.presence,
      certificate: () => {
        const info = this.certificateExpiry?.info();
        const secondsLeft = this.certificateExpiry?.secondsLeft();
        return info && secondsLeft !== undefined ? { subject: info.subject, secondsLeft } : undefined;
      },
      now: () => this.clock.now(),
      outboxScanMaxAgeMs: config.outboxScanMaxAgeMs,
    });
    this.metrics = metrics;
    this.metricsServer = new MetricsServer({
      config,
      render: () => metrics.render(),
      health: () => this.health(),
      clock: this.clock,
      timers: this.timers,
      log: this.opts.logs.child('metrics'),
    });
  }

  /**
   * What /healthz answers: healthy once start() finished, with no component failed, the
   * outbox committing and the uplink's watchdog satisfied. An uplink outage alone is healthy
   * (the box works offline and reconnects by itself; gatehouse_uplink_connected shows it).
   */
  health(): Health {
    const reasons: string[] = [];
    if (!this.running) reasons.push(this.started.length ? 'starting or stopping' : 'not started');
    for (const [name, err] of this.failed) reasons.push(`component ${name} failed: ${err}`);
    if (!this.outbox.healthy()) reasons.push('outbox: commits are stalled');
    if (this.uplink && !this.uplink.healthy()) reasons.push('uplink: no PUBACK in time, or its reconnect loop stopped');
    return { ok: reasons.length === 0, reasons };
  }

  private startUplink(): void {
    const urls = this.opts.uplinkUrl !== undefined ? splitUplinkUrls(this.opts.uplinkUrl) : uplinkUrls(this.opts.config.uplink ?? {});
    const embedded = urls.length === 0;
    if (embedded && !this.brokerPort) throw new Error('no uplink configured and the embedded broker is not running: nothing to forward to');
    let config: UplinkConfig;
    let secrets = this.opts.secrets;
    if (embedded) {
      // No platform: forward to the embedded broker so local consumers still get everything.
      config = UplinkConfigSchema.parse({
        url: `mqtt://127.0.0.1:${this.brokerPort}`,
        username: 'gatehouse-uplink',
        passwordSecret: 'internal.uplink',
        clientId: `gatehouse-${this.opts.config.gateway.id}`,
      });
      secrets = secretsFrom({ 'internal.uplink': this.internalPassword });
    } else {
      const { url: _url, urls: _urls, ...rest } = this.opts.config.uplink ?? {};
      // The box's own certificate from `gatehouse cert install` when the compound file names none.
      config = withBoxIdentity(
        UplinkConfigSchema.parse(urls.length === 1 ? { ...rest, url: urls[0] } : { ...rest, urls }),
        this.opts.dataDir,
      );
      if (config.certFile) {
        this.certificateExpiry = new CertificateExpiry({
          certFile: config.certFile,
          outbox: this.outbox,
          alarms: this.alarms.manager,
          clock: this.clock,
          timers: this.timers,
          log: this.opts.logs.child('uplink'),
          notices: certificateNoticeStore(this.outbox.scope('uplink')),
        });
        this.certificateExpiry.start();
      }
    }
    const log = this.opts.logs.child('uplink');
    this.uplink = new Uplink({
      config,
      secrets,
      outbox: this.outbox,
      clock: this.clock,
      log,
      topicRoot: this.root,
      onCommand: (name, payload) => {
        void this.router.handleMessage(name, payload, {
          via: embedded ? 'embedded-broker' : 'uplink',
          role: 'platform',
          principal: embedded ? 'embedded-broker' : 'platform',
        });
      },
    });
    log.info({ target: embedded ? 'embedded broker' : urls.map(redactUrl).join(',') }, 'uplink starting');
    this.metrics?.attachUplink(this.uplink);
    const uplink = this.uplink;
    uplink.on('connected', () => this.mediaPublisher.attach({ publish: (topic, payload) => uplink.publishRaw(topic, payload) }));
    uplink.on('disconnected', () => this.mediaPublisher.detach());
    this.uplink.start();
  }

  async start(): Promise<void> {
    await this.prepare();
    for (const c of this.components) {
      try {
        await c.start();
        this.started.push(c);
      } catch (err) {
        const message = (err as Error).message;
        if (c.essential) {
          if (c.requiredBecause) {
            await this.outbox
              .record({
                class: 'system',
                type: 'component.failed',
                source: { device: 'gateway', point: c.name },
                data: { component: c.name, error: message },
              })
              .catch(() => undefined);
          }
          await this.stop();
          if (!c.requiredBecause) throw err;
          throw new GatehouseError(
            'COMPONENT_REQUIRED_FAILED',
            `the ${c.name} could not start and ${c.requiredBecause}: ${message}. ${remedy(c.name, err)}Nothing was started.`,
            { component: c.name, error: message },
            { cause: err },
          );
        }
        this.failed.set(c.name, message);
        this.log.error({ component: c.name, err: message }, 'component failed to start; the rest of the gateway keeps running');
        void this.outbox
          .record({
            class: 'system',
            type: 'component.failed',
            source: { device: 'gateway', point: c.name },
            data: { component: c.name, error: message },
          })
          .catch(() => undefined);
      }
    }
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
    this.notifier.startWatchdog([
      () => ({ name: 'outbox', ok: this.outbox.healthy() }),
      () => ({ name: 'uplink', ok: this.uplink?.healthy() ?? !this.required.has('uplink') }),
      // Required components cannot be missing here (start() would have thrown); a check all the same,
      // so a later change that lets one fail never leaves systemd believing the gateway is whole.
      ...[...this.required.keys()].map((name) => () => ({ name, ok: this.started.some((c) => c.name === name) && !this.failed.has(name) })),
    ]);
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
    for (const c of [...this.started].reverse()) {
      try {
        await c.stop();
      } catch (err) {
        this.log.error({ component: c.name, err: (err as Error).message }, 'component failed to stop cleanly');
      }
    }
    this.started = [];
  }

  status(): Record<string, unknown> {
    return {
      version: VERSION,
      compound: this.opts.config.compound.id,
      gateway: this.opts.config.gateway.id,
      clock: this.clock.state(),
      failedComponents: Object.fromEntries(this.failed),
      uplink: this.uplink?.status() ?? { connected: false },
      // The console polls status: per-class counts may be up to 10 s old (a table scan each).
      outbox: this.outbox.stats({ maxAgeMs: 10_000 }),
      alarms: { open: this.alarms.manager.openCount() },
      presence: { flapping: this.presence.flapping() },
      // Each family under its name; one not configured (or not created) keeps its key with its idle shape.
      ...Object.fromEntries(
        this.registry.flatMap((m) => {
          const instance = this.instances.get(m.name);
          if (instance?.status) return [[m.name, instance.status()]];
          return m.idleStatus ? [[m.name, m.idleStatus(this.opts.config)]] : [];
        }),
      ),
      liveView: this.liveView?.stats() ?? NO_LIVE_VIEW,
      config: this.remoteConfig.status(),
    };
  }
}

/** The capabilities the core provides to every family (gateway/families/family.ts). */
const CORE_CAPABILITIES = ['alarms', 'presence', 'broker', 'media', 'uplink-status'] as const satisfies readonly Capability[];
