/**
 * Builds the SIA DC-09 receiver and its PanelService from the compound file, for the
 * composition root: `perimeter.dc09` (ports, timestamp window, connection cap) and
 * `alarmPanels` (accounts, keys by secret name, supervision).
 *
 * Like every family, it reports conditions to `sink` itself. Construction throws CONFIG_INVALID when a panel's key secret is
 * missing or not 32/48/64 hex digits, so a bad key stops the start with its panel's name.
 */
import type { CompoundConfig } from '../../config/schema.js';
import type { Secrets } from '../../config/load.js';
import type { StoreScope } from '../store/scope.js';
import type { Outbox } from '../outbox/outbox.js';
import type { Clock, Timers } from '../core/clock.js';
import type { Logger, LoggerFactory } from '../core/log.js';
import { Dc09Receiver } from './dc09-receiver.js';
import { Dc09ReplayGuard } from './dc09-replay.js';
import { PanelService, type CommittingAlarmSink, type EventRecorder } from './panel-service.js';
import type { PresenceTracker } from '../presence/presence-policy.js';
import type { FamilyContext, FamilyInstance } from '../families/family.js';

export interface Dc09Component {
  receiver: Dc09Receiver;
  service: PanelService;
  /** Binds TCP and UDP and arms supervision; resolves with the bound ports. */
  start(): Promise<{ tcpPort: number; udpPort: number }>;
  stop(): Promise<void>;
}

/** The family instance (gateway/perimeter/dc09-family.ts): the receiver once started, and its ports. */
export interface Dc09Instance extends FamilyInstance {
  component: Dc09Component | undefined;
  ports: { tcpPort: number; udpPort: number } | undefined;
}

export function create(ctx: FamilyContext<CompoundConfig>): Dc09Instance {
  const instance: Dc09Instance = {
    component: undefined,
    ports: undefined,
    // Built at start, not at create: a bad panel key fails this family only.
    async start() {
      instance.component = createDc09({
        config: ctx.config,
        secrets: ctx.secrets,
        outbox: ctx.outbox,
        sink: ctx.use<CommittingAlarmSink>('alarms'),
        clock: ctx.clock,
        timers: ctx.timers,
        logs: ctx.logs,
        presence: ctx.use<PresenceTracker>('presence'),
      });
      if (instance.component) instance.ports = await instance.component.start();
    },
    stop: () => instance.component?.stop(),
    status: () => instance.ports ?? null,
  };
  return instance;
}

export interface CreateDc09Options {
  config: Pick<CompoundConfig, 'alarmPanels' | 'perimeter'>;
  secrets: Secrets;
  /** The outbox; its `dc09` scope of outbox.db also keeps the replay guard's high-water marks. */
  outbox: EventRecorder & { scope?: Outbox['scope'] };
  sink: CommittingAlarmSink;
  clock: Clock;
  timers: Timers;
  logs: LoggerFactory;
  /** The gateway's presence policy (flapping panels are held offline). */
  presence?: PresenceTracker;
}

/** Undefined when the compound file has no `perimeter.dc09` (no receiver wanted). */
export function createDc09(opts: CreateDc09Options): Dc09Component | undefined {
  const cfg = opts.config.perimeter.dc09;
  const log = opts.logs.child('dc09');
  if (!cfg) {
    if (opts.config.alarmPanels.length > 0)
      log.warn({ panels: opts.config.alarmPanels.length }, 'alarmPanels configured but no perimeter.dc09 receiver: panels cannot report');
    return undefined;
  }
  if (opts.config.alarmPanels.length > 0 && /^127\.|^::1$|^localhost$/.test(cfg.host)) {
    log.warn(
      { host: cfg.host },
      'DC-09 receiver listens on loopback only: panels on the LAN cannot reach it (set perimeter.dc09.host to the LAN address)',
    );
  }
  const service = new PanelService({
    panels: opts.config.alarmPanels,
    sink: opts.sink,
    outbox: opts.outbox,
    clock: opts.clock,
    timers: opts.timers,
    log,
    ...(opts.presence ? { presence: opts.presence } : {}),
  });
  const replay = replayGuard(opts.outbox.scope?.('dc09'), cfg.replayWindowS * 1000, log);
  const receiver = new Dc09Receiver({
    config: cfg,
    panels: opts.config.alarmPanels,
    secrets: opts.secrets,
    service,
    clock: opts.clock,
    timers: opts.timers,
    log,
    replay,
  });
  return { receiver, service, start: () => receiver.start(), stop: () => receiver.stop() };
}

/**
 * The replay guard on outbox.db; if its tables cannot be read or created (a database opened
 * read-only on a full disk), one that lasts as long as the process, with an error saying so:
 * panels must still be heard, and replays before the restart are then refused only by the
 * timestamp window.
 */
function replayGuard(db: StoreScope | undefined, windowMs: number, log: Logger): Dc09ReplayGuard {
  const onError = (err: Error) =>
    log.error({ err: err.message }, 'DC-09 replay high-water mark not saved: the message is NAKed and retried');
  if (!db) return new Dc09ReplayGuard({ windowMs, onError });
  try {
    return new Dc09ReplayGuard({ db, windowMs, onError });
  } catch (err) {
    log.error(
      { err: (err as Error).message },
      'DC-09 replay high-water marks cannot be read or stored in outbox.db: kept in memory only until the next start',
    );
    return new Dc09ReplayGuard({ windowMs, onError });
  }
}
