/**
 * Builds the SIA DC-09 receiver and its PanelService from the compound file, for the
 * composition root: `perimeter.dc09` (ports, timestamp window, connection cap) and
 * `alarmPanels` (accounts, keys by secret name, supervision).
 *
 * Like the perimeter, it reports conditions to `sink` itself: give it the plain outbox, not
 * the alarm tap's wrapper. Construction throws CONFIG_INVALID when a panel's key secret is
 * missing or not 32/48/64 hex digits, so a bad key stops the start with its panel's name.
 */
import type { CompoundConfig } from '../../config/schema.js';
import type { Secrets } from '../../config/load.js';
import type { AlarmSink } from '../alarms/types.js';
import type { Clock, Timers } from '../clock.js';
import type { LoggerFactory } from '../log.js';
import { Dc09Receiver } from './dc09-receiver.js';
import { PanelService, type EventRecorder } from './panel-service.js';
import type { PresenceTracker } from '../presence/presence-policy.js';

export interface Dc09Component {
  receiver: Dc09Receiver;
  service: PanelService;
  /** Binds TCP and UDP and arms supervision; resolves with the bound ports. */
  start(): Promise<{ tcpPort: number; udpPort: number }>;
  stop(): Promise<void>;
}

export interface CreateDc09Options {
  config: Pick<CompoundConfig, 'alarmPanels' | 'perimeter'>;
  secrets: Secrets;
  outbox: EventRecorder;
  sink: AlarmSink;
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
    if (opts.config.alarmPanels.length > 0) log.warn({ panels: opts.config.alarmPanels.length }, 'alarmPanels configured but no perimeter.dc09 receiver: panels cannot report');
    return undefined;
  }
  const service = new PanelService({ panels: opts.config.alarmPanels, sink: opts.sink, outbox: opts.outbox, clock: opts.clock, timers: opts.timers, log, ...(opts.presence ? { presence: opts.presence } : {}) });
  const receiver = new Dc09Receiver({ config: cfg, panels: opts.config.alarmPanels, secrets: opts.secrets, service, clock: opts.clock, log });
  return { receiver, service, start: () => receiver.start(), stop: () => receiver.stop() };
}
