/**
 * The composition root. It builds every component from the compound file, starts them in
 * dependency order, stops them in reverse, and isolates failures: a device family that
 * cannot start is reported and the rest of the gateway keeps running. The outbox is
 * essential — without it nothing can be recorded, so the daemon refuses to run — and so is
 * any component the compound file requires (requiredComponents()): a gateway without the
 * broker its locks log in to, or without the uplink to its platform, would run deaf and
 * mute while telling systemd it is fine. It exits 1 instead, saying what to fix.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { CompoundConfig, UplinkConfig } from '../config/schema.js';
import { UplinkConfig as UplinkConfigSchema } from '../config/schema.js';
import { secretsFrom, type Secrets } from '../config/load.js';
import { systemClock, realTimers, type Clock, type Timers } from './core/clock.js';
import type { LoggerFactory, Logger } from './core/log.js';
import { Outbox } from './outbox/outbox.js';
import { EmbeddedBroker } from './broker/embedded-broker.js';
import { CommandRouter } from './commands/router.js';
import { registerSystemCommands } from './commands/system-commands.js';
import { LockService } from './locks/lock-service.js';
import { CabinetService } from './charging/cabinet-service.js';
import { createAccess, type AccessComponent } from './access/create-access.js';
import { createAlarms, type AlarmsComponent } from './alarms/create-alarms.js';
import { createDc09, type Dc09Component } from './perimeter/create-dc09.js';
import { createPerimeter, type PerimeterComponent } from './perimeter/create-perimeter.js';
import { createCameras, type CamerasComponent } from './cameras/create-cameras.js';
import { MediaStore } from './cameras/media-store.js';
import { MediaPublisher } from './cameras/media-publisher.js';
import { LiveViewHub } from './cameras/live-view.js';
import { createConsole, type ConsoleServer } from './console/console-server.js';
import { ControlServer } from './control/control-socket.js';
import { userControlHandlers } from './console/user-control.js';
import { Uplink } from './uplink/uplink.js';
import { redactUrl } from './uplink/connection.js';
import { topicRoot } from './core/topics.js';
import { SystemdNotifier } from './systemd.js';
import { PresencePolicy } from './presence/presence-policy.js';
import { VERSION } from './version.js';
import { GatehouseError } from './core/errors.js';
import { reportOutboxStart, watchDiskFull } from './outbox/disk-full-alarm.js';

export interface GatewayOptions {
  config: CompoundConfig;
  secrets: Secrets;
  dataDir: string;
  logs: LoggerFactory;
  clock?: Clock;
  timers?: Timers;
  /** Overrides uplink.url (GATEHOUSE_UPLINK_URL). */
  uplinkUrl?: string;
  /** Extra accounts on the embedded broker, e.g. the demo's platform watcher. */
  operators?: { username: string; password: string }[];
}

interface Component {
  name: string;
  essential: boolean;
  /** Why the daemon cannot run without it, for the message when it fails to start. */
  requiredBecause?: string | undefined;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

export class Gateway {
  readonly outbox: Outbox;
  readonly broker: EmbeddedBroker;
  readonly router: CommandRouter;
  readonly locks: LockService;
  readonly cabinets: CabinetService;
  readonly access: AccessComponent;
  readonly alarms: AlarmsComponent;
  /** What every family announces of its devices' presence: flapping devices held offline, silence on a planned stop. */
  readonly presence: PresencePolicy;
  readonly perimeter: PerimeterComponent;
  readonly media: MediaStore;
  readonly cameras: CamerasComponent;
  /** Live video for the console: ffmpeg per watched camera; no port of its own (the console authenticates). */
  readonly liveView: LiveViewHub;
  private readonly mediaPublisher: MediaPublisher;
  /** The guards' web console: the only way into live video, behind its login. */
  readonly consoleServer: ConsoleServer;
  /** The local control socket ({dataDir}/control.sock) for `gatehouse user`. */
  private readonly control: ControlServer;
  consoleUrl: string | undefined;
  /** The SIA DC-09 receiver, once started (undefined without `perimeter.dc09`). */
  dc09: Dc09Component | undefined;
  dc09Ports: { tcpPort: number; udpPort: number } | undefined;
  uplink: Uplink | undefined;
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
  private readonly internalPassword = randomBytes(24).toString('base64url');
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: GatewayOptions) {
    const { config, logs } = opts;
    this.log = logs.child('gateway');
    this.clock = opts.clock ?? systemClock({ syncedFlagFile: config.clock.syncedFlagFile, forceState: config.clock.force });
    const timers = opts.timers ?? realTimers;
    this.root = topicRoot(config.compound.id, config.gateway.id);
    this.required = requiredComponents(config, opts);
    this.notifier = new SystemdNotifier(logs.child('systemd'));

    this.outbox = new Outbox({ file: join(opts.dataDir, 'outbox.db'), clock: this.clock, timers, config: config.outbox });
    const outboxLog = logs.child('outbox');
    this.outbox.on('error', (err) => outboxLog.error({ code: err.code, err: err.message }, 'outbox error'));
    this.outbox.on('evicted', (r) => outboxLog.warn(r, 'outbox cap reached: events evicted and reported'));
    reportOutboxStart(this.outbox, outboxLog);

    this.broker = new EmbeddedBroker({
      config: config.broker,
      secrets: opts.secrets,
      devices: config.locks.map((l) => ({ id: l.id, passwordSecret: l.passwordSecret })),
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
    // The alarm lifecycle first: open alarms are restored before any source runs, and every
    // device family records through the tap so its alarm events become alarms.
    this.alarms = createAlarms({ config, outbox: this.outbox, clock: this.clock, timers, logs });
    watchDiskFull(this.outbox, this.alarms.manager, outboxLog);
    for (const def of this.alarms.commands()) this.router.register(def);
    const recorded = this.alarms.tap(this.outbox);
    const presenceLog = logs.child('presence');
    this.presence = new PresencePolicy({ config: config.presence, clock: this.clock, timers, sink: this.alarms.manager, log: presenceLog });
    const presence = this.presence;
    const lockLog = logs.child('locks');
    this.locks = new LockService({ locks: config.locks, broker: this.broker, outbox: recorded, clock: this.clock, timers, log: lockLog, presence });
    for (const def of this.locks.commands()) this.router.register(def);
    // Charging sessions live in the outbox database, so they survive a restart with it.
    this.cabinets = new CabinetService({
      cabinets: config.cabinets,
      outbox: recorded,
      clock: this.clock,
      timers,
      log: logs.child('cabinets'),
      safety: config.charging.safety,
      meterIntervalMs: config.charging.meterIntervalMs,
      presence,
    });
    for (const def of this.cabinets.commands()) this.router.register(def);
    // "Offline" on an access decision means the platform did not hear of it at the time:
    // with no platform configured (embedded broker only) every decision is offline.
    const platformConfigured = (opts.uplinkUrl ?? config.uplink?.url) !== undefined;
    this.access = createAccess({
      config,
      secrets: opts.secrets,
      dataDir: opts.dataDir,
      outbox: recorded,
      clock: this.clock,
      timers,
      logs,
      uplinkConnected: () => platformConfigured && (this.uplink?.status().connected ?? false),
      presence,
    });
    for (const def of this.access.commands()) this.router.register(def);
    // Perimeter zones report their conditions to the alarm manager themselves, so they get the
    // plain outbox (through the tap their partition events would become alarms too).
    this.perimeter = createPerimeter({ config, outbox: this.outbox, sink: this.alarms.manager, clock: this.clock, timers, logs, presence });
    for (const def of this.perimeter.commands()) this.router.register(def);
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
    // Cameras raise their own conditions (tamper, line, field): plain outbox, like the perimeter.
    this.cameras = createCameras({ config, secrets: opts.secrets, outbox: this.outbox, sink: this.alarms.manager, mediaStore: this.media, clock: this.clock, timers, logs, presence });
    for (const def of this.cameras.commands()) this.router.register(def);
    this.alarms.linkage(this.perimeter.outputs, this.cameras.linkage);
    this.liveView = new LiveViewHub({
      config: config.liveView,
      hasCamera: (id) => this.cameras.service.has(id),
      resolveUrl: (id) => this.cameraStreamUrl(id),
      rtspTransport: config.liveView.rtspTransport,
      clock: this.clock,
      log: logs.child('live-view'),
    });
    this.consoleServer = createConsole({
      config,
      dataDir: opts.dataDir,
      outbox: this.outbox,
      router: this.router,
      alarms: this.alarms.manager,
      linkage: this.alarms.linkage(),
      status: () => this.status(),
      liveView: this.liveView,
      media: this.media,
      clock: this.clock,
      timers,
      logs,
    });

    this.control = new ControlServer({
      dataDir: opts.dataDir,
      handlers: userControlHandlers({ outbox: this.outbox, now: () => this.clock.now(), log: logs.child('control') }),
      log: logs.child('control'),
    });
    this.components.push(
      { name: 'outbox', essential: true, start: () => undefined, stop: () => this.outbox.close() },
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
      { name: 'uplink', essential: this.required.has('uplink'), requiredBecause: this.required.get('uplink'), start: () => this.startUplink(), stop: () => this.uplink?.stop() },
      // Stops after every device family and before the uplink: a planned stop leaves each
      // device's retained state saying so (online: null, reason: gateway_stopped), delivered.
      { name: 'presence', essential: false, start: () => undefined, stop: () => this.presence.markStopped(this.outbox) },
      { name: 'locks', essential: false, start: () => this.locks.start(), stop: () => this.locks.stop() },
      { name: 'access', essential: false, start: () => this.access.start(), stop: () => this.access.stop() },
      { name: 'cameras', essential: false, start: () => this.cameras.start(), stop: () => this.cameras.stop() },
      {
        name: 'media',
        essential: false,
        start: () => undefined,
        stop: async () => {
          this.mediaPublisher.close();
          await this.liveView.close();
        },
      },
      { name: 'perimeter', essential: false, start: () => this.perimeter.start(), stop: () => this.perimeter.stop() },
      {
        name: 'dc09',
        essential: false,
        // Built at start, not in the constructor: a bad panel key fails this component only.
        start: async () => {
          this.dc09 = createDc09({ config, secrets: opts.secrets, outbox: this.outbox, sink: this.alarms.manager, clock: this.clock, timers, logs, presence });
          if (this.dc09) this.dc09Ports = await this.dc09.start();
        },
        stop: () => this.dc09?.stop(),
      },
      { name: 'cabinets', essential: false, start: () => this.cabinets.start(), stop: () => this.cabinets.stop() },
      // After the sources it drives, so it stops before them: sirens it holds on are switched
      // off while the perimeter's bus is still open (the alarms component stops much later).
      { name: 'linkage', essential: false, start: () => undefined, stop: () => this.alarms.linkage().stop() },
      // Last to start, first to stop: no guard acts on a gateway that is not running yet.
      {
        name: 'console',
        essential: false,
        start: async () => {
          if (this.opts.config.console.enabled) this.consoleUrl = (await this.consoleServer.start()).url;
        },
        stop: () => this.consoleServer.stop(),
      },
    );
  }

  private startUplink(): void {
    const url = this.opts.uplinkUrl ?? this.opts.config.uplink?.url;
    const embedded = url === undefined;
    if (embedded && !this.brokerPort) throw new Error('no uplink configured and the embedded broker is not running: nothing to forward to');
    let config: UplinkConfig;
    let secrets = this.opts.secrets;
    if (embedded) {
      // No platform: forward to the embedded broker so local consumers still get everything.
      config = UplinkConfigSchema.parse({ url: `mqtt://127.0.0.1:${this.brokerPort}`, username: 'gatehouse-uplink', passwordSecret: 'internal.uplink', clientId: `gatehouse-${this.opts.config.gateway.id}` });
      secrets = secretsFrom({ 'internal.uplink': this.internalPassword });
    } else {
      config = UplinkConfigSchema.parse({ ...this.opts.config.uplink, url });
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
        void this.router.handleMessage(name, payload, { via: embedded ? 'embedded-broker' : 'uplink', role: 'platform', principal: embedded ? 'embedded-broker' : 'platform' });
      },
    });
    log.info({ target: embedded ? 'embedded broker' : redactUrl(url!) }, 'uplink starting');
    const uplink = this.uplink;
    uplink.on('connected', () => this.mediaPublisher.attach({ publish: (topic, payload) => uplink.publishRaw(topic, payload) }));
    uplink.on('disconnected', () => this.mediaPublisher.detach());
    this.uplink.start();
  }

  /** The camera's RTSP URL with its credentials, for ffmpeg (ONVIF stream URIs carry none). */
  private async cameraStreamUrl(id: string): Promise<string> {
    const url = new URL(await this.cameras.service.streamUri(id));
    const cam = this.opts.config.cameras.find((c) => c.id === id);
    const password = cam ? this.opts.secrets.get(cam.passwordSecret ?? `cameras.${cam.id}`) : undefined;
    if (cam && password !== undefined && !url.username) {
      url.username = cam.username;
      url.password = password;
    }
    return url.toString();
  }

  async start(): Promise<void> {
    for (const c of this.components) {
      try {
        await c.start();
        this.started.push(c);
      } catch (err) {
        const message = (err as Error).message;
        if (c.essential) {
          if (c.requiredBecause) {
            await this.outbox.record({ class: 'system', type: 'component.failed', source: { device: 'gateway', point: c.name }, data: { component: c.name, error: message } }).catch(() => undefined);
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
        void this.outbox.record({ class: 'system', type: 'component.failed', source: { device: 'gateway', point: c.name }, data: { component: c.name, error: message } }).catch(() => undefined);
      }
    }
    this.sweepTimer = setInterval(() => this.outbox.sweepExpired(), 3600_000);
    this.sweepTimer.unref();
    // Not awaited into start(): on a full disk the gateway still runs (doors decide from memory);
    // the disk-full state reports and retries.
    const started = { version: VERSION, failed: [...this.failed.keys()] };
    await this.outbox.record({ class: 'system', type: 'gateway.started', source: { device: 'gateway' }, data: started })
      .catch((err: Error) => this.log.error({ err: err.message }, 'gateway.started not recorded'));
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
    this.notifier.stopping();
    this.notifier.stop();
    // A planned stop is not every device going offline: nothing more is announced from here.
    this.presence.stop();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.started.some((c) => c.name === 'outbox')) {
      await this.outbox.record({ class: 'system', type: 'gateway.stopping', source: { device: 'gateway' }, data: { version: VERSION } }).catch(() => undefined);
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
      cabinets: this.cabinets.states(),
      access: { ...this.access.service.states(), credentials: this.access.decider.syncState() },
      alarms: { open: this.alarms.manager.openCount() },
      presence: { flapping: this.presence.flapping() },
      perimeter: this.perimeter.service.states(),
      dc09: this.dc09Ports ?? null,
      cameras: Object.fromEntries(this.opts.config.cameras.map((c) => [c.id, this.cameras.service.status(c.id) ?? null])),
      liveView: this.liveView.stats(),
    };
  }
}

/**
 * The components a compound file cannot do without: the embedded broker when locks or
 * operators log in to it, the uplink when a platform is configured. (An uplink that cannot
 * reach its platform is normal offline operation and not a failure: it keeps retrying.)
 */
export function requiredComponents(config: CompoundConfig, opts: Pick<GatewayOptions, 'uplinkUrl' | 'operators'>): Map<string, string> {
  const required = new Map<string, string>();
  const users: string[] = [];
  if (config.locks.length) users.push(`${config.locks.length} lock${config.locks.length > 1 ? 's' : ''}`);
  const operators = config.broker.operators.length + (opts.operators?.length ?? 0);
  if (operators) users.push(`${operators} operator${operators > 1 ? 's' : ''}`);
  if (users.length) required.set('broker', `the compound file has ${users.join(' and ')} that log in to it`);
  const url = opts.uplinkUrl ?? config.uplink?.url;
  if (url !== undefined) required.set('uplink', `the compound file configures a platform (${redactUrl(url)})`);
  return required;
}

/** What an installer can do about a required component that did not start. */
function remedy(component: string, err: unknown): string {
  const code = (err as { cause?: { code?: string } }).cause?.code;
  if (component === 'broker' && code === 'EADDRINUSE') {
    return 'Another program holds the port (often a mosquitto installed alongside: `ss -ltnp` shows which); stop it, or set broker.port. ';
  }
  if (component === 'broker' && code === 'EADDRNOTAVAIL') return 'broker.host is not an address of this machine; fix broker.host. ';
  if (component === 'uplink') return 'Check the uplink section and its secrets (`gatehouse check --config FILE`). ';
  return '';
}
