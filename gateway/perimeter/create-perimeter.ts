/**
 * Builds the perimeter from the compound file: input modules, zones, partitions (arm
 * schedules in the access time zone, with the access holidays) and outputs. Kept out of
 * app.ts so the composition root reads as a list of components.
 *
 * Like every family, the perimeter reports its conditions to `sink` itself; what it records
 * in the outbox (partition.*, zone.bypassed..., class alarm) are events, not conditions.
 */
import type { CompoundConfig } from '../../config/schema.js';
import type { AlarmSink, OutputDriver } from '../alarms/types.js';
import type { Clock, Timers } from '../core/clock.js';
import type { CommandDefinition } from '../commands/types.js';
import type { LoggerFactory } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import { perimeterCommands } from './perimeter-commands.js';
import { PerimeterService, type PerimeterServiceOptions } from './perimeter-service.js';
import type { PresenceTracker } from '../presence/presence-policy.js';
import type { FamilyContext, FamilyInstance, GatewayObserver } from '../families/family.js';

export interface PerimeterComponent {
  service: PerimeterService;
  /** For the AlarmManager's linkage rules (`do: [{ output, seconds }]`). */
  outputs: OutputDriver;
  commands(): CommandDefinition[];
  start(): void;
  stop(): Promise<void>;
}

/** The family instance (gateway/perimeter/family.ts); provides `outputs` to the linkage rules. */
export type PerimeterInstance = FamilyInstance & PerimeterComponent;

export function create(ctx: FamilyContext<CompoundConfig>): PerimeterInstance {
  const perimeter = createPerimeter({
    config: ctx.config,
    outbox: ctx.outbox,
    sink: ctx.use<AlarmSink>('alarms'),
    clock: ctx.clock,
    timers: ctx.timers,
    logs: ctx.logs,
    presence: ctx.use<PresenceTracker>('presence'),
    ...(ctx.observe ? { observe: ctx.observe } : {}),
  });
  return { ...perimeter, status: () => perimeter.service.states(), provides: { outputs: perimeter.outputs } };
}

export interface CreatePerimeterOptions {
  config: CompoundConfig;
  outbox: Pick<Outbox, 'record' | 'setState' | 'scope'>;
  sink: AlarmSink;
  clock: Clock;
  timers: Timers;
  logs: LoggerFactory;
  /** Tests and benches may share or wrap buses. */
  buses?: PerimeterServiceOptions['buses'];
  busOptions?: PerimeterServiceOptions['busOptions'];
  /** The gateway's presence policy (flapping modules are held offline). */
  presence?: PresenceTracker;
  /** The gateway's metrics hooks (poll cycle time per bus). */
  observe?: GatewayObserver;
}

export function createPerimeter(opts: CreatePerimeterOptions): PerimeterComponent {
  const { config } = opts;
  const service = new PerimeterService({
    modules: config.inputModules,
    zones: config.zones,
    partitions: config.partitions,
    outputs: config.outputs,
    perimeter: config.perimeter,
    timeZone: config.access.timezone,
    holidays: config.access.holidays,
    outbox: opts.outbox,
    sink: opts.sink,
    clock: opts.clock,
    timers: opts.timers,
    log: opts.logs.child('perimeter'),
    ...(opts.buses ? { buses: opts.buses } : {}),
    ...(opts.busOptions ? { busOptions: opts.busOptions } : {}),
    ...(opts.presence ? { presence: opts.presence } : {}),
    ...(opts.observe ? { observe: opts.observe } : {}),
  });
  return {
    service,
    outputs: service.outputs,
    commands: () => perimeterCommands(service),
    start: () => service.start(),
    stop: () => service.stop(),
  };
}
