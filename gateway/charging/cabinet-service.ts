/**
 * The e-bike charging cabinets of the compound: one ModbusBus per line (an RS-485 path or a
 * TCP endpoint), several cabinets (unit ids) per line, each polled by a CabinetUnit that
 * runs the local safety interlocks on every reading, keeps the charging sessions and
 * records events and retained state in the outbox. Commands are offered to the router.
 *
 * Nothing here waits on the uplink, and a safety write never waits on the outbox.
 */
import type { CabinetConfig, ChargingSafetyConfig } from '../../config/schema.js';
import { ChargingSafetyConfig as ChargingSafetySchema, cabinetBusKey } from '../../config/schema.js';
import { ModbusBus, type ModbusBusOptions } from '../../drivers/modbus/bus.js';
import type { TransportConfig } from '../../drivers/modbus/transport.js';
import type { Clock, Timers } from '../core/clock.js';
import type { CommandContext, CommandDefinition } from '../commands/types.js';
import { GatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import { chargingCommands, type ChargingControl, type StartArgs } from './cabinet-commands.js';
import { CabinetUnit } from './cabinet-unit.js';
import { CabinetLatches, CabinetSerials } from './latches.js';
import { ChargingSessions } from './sessions.js';
import type { PresenceTracker } from '../presence/presence-policy.js';
import type { GatewayObserver } from '../families/family.js';
import type { AlarmSink } from '../alarms/types.js';

/** Builds the bus of one line; `key` is cabinetBusKey() of the config, e.g. `tcp:10.0.0.5:502`. */
export type BusFactory = (key: string, transport: TransportConfig) => ModbusBus;

export interface CabinetServiceOptions {
  cabinets: readonly CabinetConfig[];
  /** Buses by cabinetBusKey(), or a factory; default: a ModbusBus per line with `busOptions`. The service starts and stops them. */
  buses?: Map<string, ModbusBus> | BusFactory;
  busOptions?: Pick<ModbusBusOptions, 'timeoutMs' | 'retries' | 'deadAfter' | 'backoff' | 'openTimeoutMs'>;
  /** The outbox records events and state; its database also keeps the charging sessions (unless `sessions` is given). */
  outbox: Pick<Outbox, 'record' | 'post' | 'setState' | 'scope'>;
  sessions?: ChargingSessions;
  /** Where the safety alarms and announced outages go (the alarm manager). */
  sink: AlarmSink;
  clock: Clock;
  timers: Timers;
  log: Logger;
  safety?: Partial<ChargingSafetyConfig>;
  meterIntervalMs?: number;
  /** The gateway's presence policy (flapping cabinets are held offline). */
  presence?: PresenceTracker;
  /** The gateway's metrics hooks (poll cycle time per bus); absent when metrics are off. */
  observe?: GatewayObserver;
}

export function transportFor(cfg: CabinetConfig): TransportConfig {
  if (!('rtu' in cfg.bus)) return { kind: 'tcp', host: cfg.bus.tcp.host, port: cfg.bus.tcp.port };
  const { path, baudRate, parity, stopBits } = cfg.bus.rtu;
  return { kind: 'rtu', path, baudRate, parity, stopBits, dataBits: 8 };
}

export class CabinetService {
  readonly sessions: ChargingSessions;
  private readonly buses = new Map<string, ModbusBus>();
  private readonly units = new Map<string, CabinetUnit>();
  /** Per bus key: unit id -> cabinet. */
  private readonly byBus = new Map<string, Map<number, CabinetUnit>>();
  private running = false;

  constructor(private readonly opts: CabinetServiceOptions) {
    const safety = ChargingSafetySchema.parse(opts.safety ?? {});
    const store = opts.outbox.scope('charging');
    this.sessions =
      opts.sessions ??
      new ChargingSessions({
        db: store,
        clock: opts.clock,
        ...(opts.meterIntervalMs !== undefined ? { meterIntervalMs: opts.meterIntervalMs } : {}),
        onWriteError: (err) => opts.log.error({ err: err.message }, 'a charging session row could not be written'),
      });
    const latches = new CabinetLatches(store, opts.clock);
    const serials = new CabinetSerials(store, opts.clock);
    const liveStateMs = opts.meterIntervalMs ?? 60_000;
    for (const cfg of opts.cabinets) {
      if (this.units.has(cfg.id)) throw new GatehouseError('CONFIG_INVALID', `cabinet id "${cfg.id}" is used twice`);
      const key = cabinetBusKey(cfg.bus);
      const bus = this.busFor(key, cfg);
      const onBus = this.byBus.get(key) ?? new Map<number, CabinetUnit>();
      if (onBus.has(cfg.unitId)) throw new GatehouseError('CONFIG_INVALID', `unit id ${cfg.unitId} is used twice on ${key}`);
      const unit = new CabinetUnit({
        cfg,
        bus,
        sessions: this.sessions,
        outbox: opts.outbox,
        sink: opts.sink,
        clock: opts.clock,
        timers: opts.timers,
        log: opts.log,
        safety,
        latches,
        serials,
        liveStateMs,
        ...(opts.presence ? { presence: opts.presence } : {}),
        ...(opts.observe ? { pollCycle: (s: number) => opts.observe!.pollCycle(key, s) } : {}),
      });
      onBus.set(cfg.unitId, unit);
      this.byBus.set(key, onBus);
      this.units.set(cfg.id, unit);
    }
  }

  private busFor(key: string, cfg: CabinetConfig): ModbusBus {
    const existing = this.buses.get(key);
    if (existing) return existing;
    const { buses } = this.opts;
    let bus: ModbusBus | undefined;
    if (buses instanceof Map) {
      bus = buses.get(key);
      if (!bus) throw new GatehouseError('CONFIG_INVALID', `no bus given for ${key}`);
    } else if (buses) bus = buses(key, transportFor(cfg));
    else
      bus = new ModbusBus({
        ...this.opts.busOptions,
        transport: transportFor(cfg),
        name: key,
        clock: this.opts.clock,
        timers: this.opts.timers,
        log: this.opts.log,
      });
    this.buses.set(key, bus);
    return bus;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const bus of this.buses.values()) bus.start();
    // Each unit listens to its bus's unit events itself (gateway/modbus/polled-unit.ts).
    for (const u of this.units.values()) u.start();
    this.opts.log.info({ cabinets: this.units.size, buses: this.buses.size }, 'cabinet service started');
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const u of this.units.values()) u.stop();
    await Promise.all([...this.buses.values()].map((b) => b.stop()));
  }

  commands(): CommandDefinition[] {
    return chargingCommands(this.control());
  }

  unit(id: string): CabinetUnit | undefined {
    return this.units.get(id);
  }

  /** The bus a cabinet is on (the live check reads through it while the daemon holds the line). */
  busOf(id: string): ModbusBus | undefined {
    const cfg = this.opts.cabinets.find((c) => c.id === id);
    return cfg && this.buses.get(cabinetBusKey(cfg.bus));
  }

  /** Snapshot per cabinet for `status` and the console. */
  states(): Record<string, { online: boolean | null; ports: number; sessions: number }> {
    return Object.fromEntries(
      [...this.units].map(([id, u]) => [id, { online: u.online, ports: u.portCount, sessions: this.sessions.list(id).length }]),
    );
  }

  /** The router's side: each command goes to the unit of its cabinet. */
  private control(): ChargingControl {
    const unit = (id: string): CabinetUnit => {
      const u = this.units.get(id);
      if (!u) throw new GatehouseError('DEVICE_UNKNOWN', `no cabinet "${id}" in the compound file`, { cabinet: id });
      return u;
    };
    return {
      start: (args: StartArgs, ctx: CommandContext) => unit(args.cabinet).startSession(args, ctx),
      stop: (cabinet, port) => unit(cabinet).stopPort(port),
      setLimit: (cabinet, port, powerLimitW) => unit(cabinet).setLimit(port, powerLimitW),
      enable: (cabinet, port, enabled) => unit(cabinet).enable(port, enabled),
      reset: (cabinet, reason, ctx) => unit(cabinet).reset(reason, ctx),
    };
  }
}
