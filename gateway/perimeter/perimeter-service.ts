/**
 * The perimeter: digital input modules polled over Modbus (one bus per line, shared by the
 * modules on it, as for cabinets), their zones (zone-logic.ts) raising and clearing alarm
 * conditions on the AlarmSink, partitions armed by schedule or command, and the outputs
 * (sirens, strobes) on the modules' coils.
 *
 * Retained state: `state/{zone}`, `state/{partition}`, `state/{module}`, written on change.
 * Events (outbox): partition.armed / partition.disarmed, zone.bypassed / zone.unbypassed,
 * all class `alarm`. Alarms themselves are the AlarmManager's to record: this service only
 * reports conditions to its sink.
 */
import type { StoreScope } from '../store/scope.js';
import type { InputModuleConfig, OutputConfig, PartitionConfig, PerimeterConfig, ZoneConfig } from '../../config/schema.js';
import { cabinetBusKey } from '../../config/schema.js';
import { ModbusBus, type ModbusBusOptions } from '../../drivers/modbus/bus.js';
import type { TransportConfig } from '../../drivers/modbus/transport.js';
import type { AlarmSink } from '../alarms/types.js';
import type { Clock, TimerHandle, Timers } from '../core/clock.js';
import { GatehouseError, isGatehouseError } from '../core/errors.js';
import type { EventInput } from '../core/events.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import { InputModule } from './input-module.js';
import { PerimeterOutputs } from './outputs.js';
import { Partitions, type ArmResult, type PartitionStatus } from './partitions.js';
import { ZoneLogic, type ZoneState } from './zone-logic.js';
import type { PresenceAnnouncement, PresenceTracker } from '../presence/presence-policy.js';
import type { GatewayObserver } from '../families/family.js';
import { tolerateStorageError } from '../outbox/disk-space.js';

export type PerimeterBusFactory = (key: string, transport: TransportConfig) => ModbusBus;

export interface PerimeterServiceOptions {
  modules: readonly InputModuleConfig[];
  zones: readonly ZoneConfig[];
  partitions: readonly PartitionConfig[];
  outputs: readonly OutputConfig[];
  perimeter: PerimeterConfig;
  /** access.timezone and access.holidays: arm schedules are read like access schedules. */
  timeZone: string;
  holidays: readonly string[];
  outbox: Pick<Outbox, 'record' | 'setState' | 'scope'>;
  sink: AlarmSink;
  clock: Clock;
  timers: Timers;
  log: Logger;
  /** Buses by line key (`rtu:/dev/ttyUSB0`, `tcp:host:port`), or a factory; default one ModbusBus per line. Started and stopped here. */
  buses?: Map<string, ModbusBus> | PerimeterBusFactory;
  busOptions?: Pick<ModbusBusOptions, 'timeoutMs' | 'probeTimeoutMs' | 'retries' | 'deadAfter' | 'backoff' | 'openTimeoutMs'>;
  /** Decides what of a module's raw online/offline is announced (gateway/presence); default: everything. */
  presence?: PresenceTracker;
  /** The gateway's metrics hooks (poll cycle time per bus); absent when metrics are off. */
  observe?: GatewayObserver;
}

export const MODULE_OFFLINE = { kind: 'module.offline', priority: 'medium' as const };

export interface PerimeterStates {
  zones: Record<string, { state: ZoneState; armed: boolean; type: ZoneConfig['type']; partition?: string; bypassedUntil: string | null }>;
  modules: Record<string, { online: boolean | null }>;
  partitions: Record<string, PartitionStatus>;
}

export function transportOf(cfg: InputModuleConfig): TransportConfig {
  if (!('rtu' in cfg.bus)) return { kind: 'tcp', host: cfg.bus.tcp.host, port: cfg.bus.tcp.port };
  const { path, baudRate, parity, stopBits } = cfg.bus.rtu;
  return { kind: 'rtu', path, baudRate, parity, stopBits, dataBits: 8 };
}

export class PerimeterService {
  readonly outputs: PerimeterOutputs;
  readonly partitions: Partitions;
  private readonly buses = new Map<string, ModbusBus>();
  private readonly modules = new Map<string, { cfg: InputModuleConfig; bus: ModbusBus; unit: InputModule; zones: ZoneLogic[] }>();
  private readonly zones = new Map<string, ZoneLogic>();
  private readonly bypassTimers = new Map<string, TimerHandle>();
  private readonly published = new Map<string, string>();
  private running = false;

  constructor(private readonly o: PerimeterServiceOptions) {
    for (const cfg of o.modules) {
      if (this.modules.has(cfg.id)) throw new GatehouseError('CONFIG_INVALID', `input module id "${cfg.id}" is used twice`);
      const bus = this.busFor(cfg);
      const zones: ZoneLogic[] = [];
      const unit = new InputModule({
        cfg,
        bus,
        clock: o.clock,
        timers: o.timers,
        log: o.log,
        ...(o.presence ? { presence: o.presence } : {}),
        ...(o.observe ? { pollCycle: (s: number) => o.observe!.pollCycle(cabinetBusKey(cfg.bus), s) } : {}),
        onSample: (inputs, faults, at) => this.onSample(zones, inputs, faults, at),
        announce: (a) => this.announce(cfg.id, a),
      });
      this.modules.set(cfg.id, { cfg, bus, zones, unit });
    }
    for (const z of o.zones) {
      const m = this.modules.get(z.module);
      if (!m) throw new GatehouseError('CONFIG_INVALID', `zone ${z.id}: no input module "${z.module}"`);
      // Samples are ~pollMs apart but timer-driven: 200 ms at a 100 ms poll means three samples, not four.
      const zone = new ZoneLogic(z, o.sink, { debounceSlackMs: Math.min(5, m.cfg.pollMs * 0.05) });
      this.zones.set(z.id, zone);
      m.zones.push(zone);
    }
    this.outputs = new PerimeterOutputs({
      outputs: o.outputs,
      modules: this.modules,
      timers: o.timers,
      now: () => o.clock.now(),
      log: o.log,
      onChange: (_id, s) => this.publishModule(s.module),
    });
    this.partitions = new Partitions({
      partitions: o.partitions,
      schedules: o.perimeter.armSchedules,
      timeZone: o.timeZone,
      holidays: o.holidays,
      db: o.outbox.scope('perimeter'),
      clock: o.clock,
      timers: o.timers,
      log: o.log,
      apply: (p, armed) => this.applyArmed(p, armed),
      record: (e) => this.record(e),
      publish: (p, s) =>
        this.setState(p, { armed: s.armed, by: s.by, since: new Date(s.since).toISOString(), override: s.override, notReady: s.notReady }),
    });
  }

  private busFor(cfg: InputModuleConfig): ModbusBus {
    const key = cabinetBusKey(cfg.bus);
    const existing = this.buses.get(key);
    if (existing) return existing;
    const { buses } = this.o;
    let bus: ModbusBus | undefined;
    if (buses instanceof Map) bus = buses.get(key);
    else if (buses) bus = buses(key, transportOf(cfg));
    else
      bus = new ModbusBus({
        ...this.o.busOptions,
        transport: transportOf(cfg),
        name: key,
        clock: this.o.clock,
        timers: this.o.timers,
        log: this.o.log,
      });
    if (!bus) throw new GatehouseError('CONFIG_INVALID', `no bus given for ${key}`);
    this.buses.set(key, bus);
    return bus;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.restoreBypasses();
    for (const z of this.zones.keys()) this.publishZone(z);
    for (const m of this.modules.keys()) this.publishModule(m);
    // Before polling: a restart must come back armed before the first sample is judged.
    this.partitions.start();
    for (const bus of this.buses.values()) bus.start();
    // Each module listens to its bus's unit events itself (gateway/modbus/polled-unit.ts).
    for (const m of this.modules.values()) m.unit.start();
    this.o.log.info(
      { modules: this.modules.size, zones: this.zones.size, partitions: this.o.partitions.length },
      'perimeter service started',
    );
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.partitions.stop();
    this.outputs.stop();
    for (const t of this.bypassTimers.values()) t.cancel();
    this.bypassTimers.clear();
    for (const m of this.modules.values()) m.unit.stop();
    await Promise.all([...this.buses.values()].map((b) => b.stop()));
  }

  // ---- commands -------------------------------------------------------------------

  arm(partition: string, armed: boolean, principal: string): ArmResult {
    return this.partitions.command(partition, armed, principal);
  }

  bypass(zoneId: string, minutes: number, principal: string): { zone: string; until: string } {
    const zone = this.zone(zoneId);
    const until = this.o.clock.now() + minutes * 60_000;
    this.bypassTimers.get(zoneId)?.cancel();
    zone.bypass(until);
    // The timer, not the wall clock, ends it: an NTP step must not end a bypass early or late.
    this.bypassTimers.set(
      zoneId,
      this.o.timers.setTimeout(() => this.endBypass(zoneId, 'expiry'), minutes * 60_000),
    );
    this.bypassTable()
      .prepare(
        'INSERT INTO perimeter_bypasses (zone, until, by) VALUES (?, ?, ?) ON CONFLICT(zone) DO UPDATE SET until = excluded.until, by = excluded.by',
      )
      .run(zoneId, until, principal);
    this.record({
      class: 'alarm',
      type: 'zone.bypassed',
      source: { device: zoneId },
      data: { zone: zoneId, by: principal, minutes, until: new Date(until).toISOString() },
    });
    this.publishZone(zoneId);
    return { zone: zoneId, until: new Date(until).toISOString() };
  }

  unbypass(zoneId: string, principal: string): { zone: string; wasBypassed: boolean } {
    const was = this.zone(zoneId).bypassedUntil !== null;
    if (was) this.endBypass(zoneId, principal);
    return { zone: zoneId, wasBypassed: was };
  }

  private endBypass(zoneId: string, by: string): void {
    this.bypassTimers.get(zoneId)?.cancel();
    this.bypassTimers.delete(zoneId);
    this.zone(zoneId).unbypass();
    // Ended in memory whatever the disk says; a row left behind is ended again at the next start.
    const forget = () => this.bypassTable().prepare('DELETE FROM perimeter_bypasses WHERE zone = ?').run(zoneId);
    tolerateStorageError(forget, undefined, (err) =>
      this.o.log.error({ zone: zoneId, err: err.message }, 'ended bypass not stored (disk full?)'),
    );
    this.record({ class: 'alarm', type: 'zone.unbypassed', source: { device: zoneId }, data: { zone: zoneId, by } });
    this.publishZone(zoneId);
  }

  /**
   * Bypasses survive a restart (a guard's 30-minute bypass must not silently end, nor be
   * forgotten as ended): the remaining time is taken from the wall clock, and one that ran
   * out while the gateway was down is ended now, with its zone.unbypassed event.
   */
  private restoreBypasses(): void {
    const rows = this.bypassTable().prepare('SELECT zone, until FROM perimeter_bypasses').all() as { zone: string; until: number }[];
    const now = this.o.clock.now();
    for (const r of rows) {
      const zone = this.zones.get(r.zone);
      if (!zone || r.until <= now) {
        tolerateStorageError(() => this.bypassTable().prepare('DELETE FROM perimeter_bypasses WHERE zone = ?').run(r.zone), undefined);
        if (zone)
          this.record({ class: 'alarm', type: 'zone.unbypassed', source: { device: r.zone }, data: { zone: r.zone, by: 'expiry' } });
        continue;
      }
      zone.bypass(r.until);
      this.bypassTimers.set(
        r.zone,
        this.o.timers.setTimeout(() => this.endBypass(r.zone, 'expiry'), r.until - now),
      );
    }
  }

  /** The perimeter owner's tables (gateway/perimeter/migrations.ts): partitions and bypasses. */
  private bypassTable(): StoreScope {
    return this.o.outbox.scope('perimeter');
  }

  zone(id: string): ZoneLogic {
    const z = this.zones.get(id);
    if (!z) throw new GatehouseError('DEVICE_UNKNOWN', `no zone "${id}" in the compound file`, { zone: id });
    return z;
  }

  module(id: string): InputModule | undefined {
    return this.modules.get(id)?.unit;
  }

  states(): PerimeterStates {
    const zones: PerimeterStates['zones'] = {};
    for (const [id, z] of this.zones) {
      const s = z.snapshot();
      zones[id] = {
        state: s.state,
        armed: s.armed,
        type: z.type,
        ...(z.partition ? { partition: z.partition } : {}),
        bypassedUntil: s.bypassedUntil === null ? null : new Date(s.bypassedUntil).toISOString(),
      };
    }
    const modules = Object.fromEntries([...this.modules].map(([id, m]) => [id, { online: m.unit.presence.announced }]));
    return { zones, modules, partitions: this.partitions.all() };
  }

  // ---- samples, presence, state ---------------------------------------------------

  private onSample(zones: readonly ZoneLogic[], inputs: readonly boolean[], faults: readonly boolean[], at: number): void {
    for (const z of zones) {
      z.sample(inputs[z.channel] ?? false, faults[z.channel] ?? false, at);
      this.publishZone(z.id);
    }
  }

  /** What the presence policy decided to announce: the device event, the module.offline condition, the state. */
  private announce(module: string, a: PresenceAnnouncement): void {
    const source = { device: module };
    const reason = a.reason ?? 'no_answer';
    this.record(
      a.online
        ? { class: 'device', type: 'device.online', source, data: { family: 'module' } }
        : { class: 'device', type: 'device.offline', source, data: { family: 'module', reason } },
    );
    if (a.online) this.o.sink.clear(MODULE_OFFLINE.kind, source);
    else this.o.sink.raise({ kind: MODULE_OFFLINE.kind, source, priority: MODULE_OFFLINE.priority, data: { module, reason } });
    this.publishModule(module);
    for (const z of this.modules.get(module)?.zones ?? []) this.publishZone(z.id);
  }

  private applyArmed(partition: string, armed: boolean): string[] {
    const notReady: string[] = [];
    for (const z of this.zones.values()) {
      if (z.partition !== partition) continue;
      if (z.setArmed(armed)) notReady.push(z.id);
      this.publishZone(z.id);
    }
    return notReady;
  }

  private publishZone(id: string): void {
    const z = this.zones.get(id)!;
    const s = z.snapshot();
    const online = this.modules.get(z.module)?.unit.presence.announced ?? null;
    this.setState(id, {
      zone: s.state,
      type: z.type,
      ...(z.partition ? { partition: z.partition } : {}),
      armed: s.armed,
      notReady: s.notReady,
      bypassedUntil: s.bypassedUntil === null ? null : new Date(s.bypassedUntil).toISOString(),
      moduleOnline: online,
    });
  }

  private publishModule(id: string): void {
    const m = this.modules.get(id);
    if (!m) return;
    const outputs = Object.fromEntries(
      Object.entries(this.outputs?.all() ?? {})
        .filter(([, s]) => s.module === id)
        .map(([o, s]) => [o, { on: s.on, kind: s.kind }]),
    );
    this.setState(id, { online: m.unit.presence.announced, channels: m.cfg.channels, outputs });
  }

  /** Only on change: a poll every 100 ms must not become a state write every 100 ms. */
  private setState(device: string, body: Record<string, unknown>): void {
    const key = JSON.stringify(body);
    if (this.published.get(device) === key) return;
    this.published.set(device, key);
    this.o.outbox.setState(device, body).catch((err: unknown) => {
      if (!isGatehouseError(err, 'OUTBOX_CLOSED'))
        this.o.log.error({ device, err: (err as Error).message }, 'could not store perimeter state');
    });
  }

  private record(e: EventInput): void {
    this.o.outbox.record(e).catch((err: unknown) => {
      if (!isGatehouseError(err, 'OUTBOX_CLOSED'))
        this.o.log.error({ type: e.type, err: (err as Error).message }, 'could not record a perimeter event');
    });
  }
}
