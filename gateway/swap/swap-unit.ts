/**
 * One battery-swap cabinet on a Modbus bus: its poll loop (gateway/modbus/polled-unit.ts),
 * its interlocks and its swap transactions.
 *
 * Order of work on every reading, as in the charging cabinets:
 *   1. the safety decisions (safety.ts, pure and synchronous);
 *   2. their writes (isolate a slot, cut the cabinet, trigger suppression) queued on the bus
 *      at high priority and not awaited, so they go on the wire next whatever the disk does;
 *   3. then the isolation persisted, the events recorded and alarms reported;
 *   4. then the swap flow (swap-flow.ts) advanced on the same reading.
 */
import type { SwapCabinetConfig, SwapConfig } from '../../config/swap-schema.js';
import type { ModbusBus } from '../../drivers/modbus/bus.js';
import { decodeSwapPollFields } from '../../drivers/swap/reading-decode.js';
import type { FieldFault } from '../../drivers/cabinet/types.js';
import { decodeSwapIdentity, encodeSwapCommand, identityRead, kindRead, swapPollPlan } from '../../drivers/swap/registers.js';
import type { SlotReading, SwapCabinetStatus, SwapCommand, SwapIdentity } from '../../drivers/swap/types.js';
import type { Clock, Timers } from '../core/clock.js';
import { GatehouseError, isGatehouseError } from '../core/errors.js';
import type { EventInput } from '../core/events.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import { PolledUnit } from '../modbus/polled-unit.js';
import type { PresenceTracker } from '../presence/presence-policy.js';
import { reportCondition } from '../alarms/report.js';
import type { AlarmSink } from '../alarms/types.js';
import { DEVICE_OFFLINE_ALARM } from '../presence/alarm-kinds.js';
import { fireCause, thermalTrips, type FireCause, type TempHistory } from './safety.js';
import type { SwapStore } from './transactions.js';
import { SwapFlow } from './swap-flow.js';
import { SwapSupervision } from './supervision.js';
// The Modbus cabinets' protocol-fault and replacement reporting, shared with the charging family.
import { FaultReporter, fromFieldFault, refusedReadFault, replacedEvent } from '../charging/cabinet-supervision.js';

export interface SwapReading {
  status: SwapCabinetStatus;
  slots: SlotReading[];
  /** Registers whose value the map cannot carry: their fields are placeholders (drivers/swap/reading-decode.ts). */
  faults?: FieldFault[];
}

export interface SwapUnitDeps {
  cfg: SwapCabinetConfig;
  swap: SwapConfig;
  bus: ModbusBus;
  store: SwapStore;
  outbox: Pick<Outbox, 'record' | 'setState'>;
  sink: AlarmSink;
  clock: Clock;
  timers: Timers;
  log: Logger;
  presence?: PresenceTracker;
}

const slotSource = (cabinet: string, slot?: number) =>
  slot === undefined ? { device: cabinet } : { device: cabinet, point: `slot-${slot}` };

export class SwapUnit {
  readonly id: string;
  identity: SwapIdentity | null = null;
  last: SwapReading | undefined;
  /** Slots isolated by the gateway (thermal, BMS, rejected pack, command), persisted. */
  readonly isolated: Map<number, string>;
  /** The fire cause while the cabinet is cut, until cabinet.power on. */
  fire: FireCause | undefined;
  readonly flow: SwapFlow;
  private readonly history: TempHistory = new Map();
  private readonly poller: PolledUnit<SwapReading>;
  private lastStateKey = '';
  private readonly supervision: SwapSupervision;
  private readonly faults: FaultReporter;
  /** The register read of the poll in progress, for the fault of a refused one. */
  private reading = 0;
  /** The serial of the cabinet last identified on this unit id: a different one is a replaced cabinet. */
  private knownSerial: string | undefined;

  constructor(private readonly d: SwapUnitDeps) {
    this.id = d.cfg.id;
    this.isolated = d.store.isolatedSlots(this.id);
    this.supervision = new SwapSupervision(d.swap.safety.unsupervisedAfterPolls);
    this.faults = new FaultReporter(this.id, (e) => this.record(e));
    this.knownSerial = d.store.serial(this.id);
    this.flow = new SwapFlow({
      cabinet: this.id,
      swap: d.swap,
      pollMs: d.cfg.pollMs,
      store: d.store,
      clock: d.clock,
      log: d.log,
      record: (e) => this.record(e),
      send: (cmd) => this.send(cmd, 'command'),
      isolate: (slot, reason, batteryId) => this.isolate(slot, reason, batteryId),
      isolated: () => new Set(this.isolated.keys()),
    });
    this.poller = new PolledUnit({
      id: this.id,
      unitId: d.cfg.unitId,
      pollMs: d.cfg.pollMs,
      bus: d.bus,
      clock: d.clock,
      timers: d.timers,
      log: d.log,
      family: 'cabinet',
      logKey: 'cabinet',
      label: 'swap cabinet',
      ...(d.presence ? { presence: d.presence } : {}),
      announce: (a) => {
        const e: EventInput = a.online
          ? { class: 'device', type: 'device.online', source: { device: this.id }, data: { family: 'cabinet' } }
          : {
              class: 'device',
              type: 'device.offline',
              source: { device: this.id },
              data: { family: 'cabinet', reason: a.reason ?? 'no_answer' },
            };
        this.record(e);
        reportCondition(d.sink, { kind: DEVICE_OFFLINE_ALARM.kind, source: e.source, active: !a.online, data: { ...e.data } }, d.log);
        this.writeState(true);
      },
      read: () => this.read(),
      onReading: (r, at) => this.onReading(r, at),
      answeredBadly: (err, code) => this.answeredBadly(err, code),
      forget: () => (this.identity = null),
    });
  }

  get online(): boolean | null {
    return this.poller.online;
  }

  get slotCount(): number {
    return Math.min(this.identity?.slotCount ?? this.d.cfg.slots, this.d.cfg.slots);
  }

  start(): void {
    this.poller.start();
  }

  stop(): void {
    this.poller.stop();
  }

  private async read(): Promise<SwapReading> {
    const { bus } = this.d;
    const unit = this.d.cfg.unitId;
    this.reading = 0;
    if (!this.identity) {
      const id = identityRead();
      const k = kindRead();
      const words = await bus.read(unit, id.fc, id.address, id.count);
      this.reading = k.address;
      this.identity = decodeSwapIdentity(words, await bus.read(unit, k.fc, k.address, k.count));
      this.identified(this.identity);
    }
    const answers: number[][] = [];
    for (const r of swapPollPlan(this.slotCount)) {
      this.reading = r.address;
      answers.push(await bus.read(unit, r.fc, r.address, r.count));
    }
    const { status, slots, faults } = decodeSwapPollFields(this.slotCount, answers);
    return { status, slots, ...(faults.length ? { faults } : {}) };
  }

  /** A different serial on this unit id than the one last identified (now or before a restart): device.replaced. */
  private identified(identity: SwapIdentity): void {
    if (this.knownSerial === identity.serial) return;
    if (this.knownSerial !== undefined) {
      this.d.log.warn({ cabinet: this.id, oldSerial: this.knownSerial, newSerial: identity.serial }, 'swap cabinet replaced');
      this.record(replacedEvent(this.id, 'cabinet', this.knownSerial, identity));
    }
    this.knownSerial = identity.serial;
    try {
      this.d.store.setSerial(this.id, identity.serial);
    } catch (err) {
      this.d.log.error({ cabinet: this.id, err: (err as Error).message }, 'could not store the swap cabinet serial number');
    }
  }

  /** It answers, but not with readings we can place (a refused read, a map that does not fit): a blind poll. */
  private answeredBadly(err: unknown, code: string): void {
    this.d.log.warn({ cabinet: this.id, err: (err as Error).message }, 'swap cabinet answered with something outside the map');
    // A map that does not fit may be another controller: identify it again. A refused read (exception) is not that.
    if (code === 'DEVICE_PROTOCOL') this.identity = null;
    this.faults.report([refusedReadFault(err, this.reading)], this.d.clock.monotonic());
    // Only a unit identified as a swap cabinet once may be cut blind: a wrong unit id must not get writes.
    if (this.knownSerial !== undefined) this.supervise(true);
  }

  /** Counts the poll towards (or out of) unsupervised; at the threshold: the cut first, then the alarm. */
  private supervise(blind: boolean): void {
    const change = this.supervision.poll(blind);
    if (this.supervision.cut && !this.fire) void this.send({ kind: 'cabinetPower', on: false }, 'safety');
    if (!change) return;
    const active = change === 'unsupervised';
    const data = { cabinet: this.id, active, priority: 'high' as const, value: this.supervision.blindPolls };
    if (active) this.d.log.error({ cabinet: this.id, polls: data.value }, 'swap cabinet unsupervised: power cut');
    this.record({ class: 'alarm', type: 'cabinet.unsupervised', source: { device: this.id }, data });
    reportCondition(this.d.sink, { kind: 'cabinet.unsupervised', source: { device: this.id }, active, data }, this.d.log);
  }

  /** Safety first (writes queued before anything is recorded), then the swap flow. */
  onReading(r: SwapReading, at: number): void {
    const cfg = this.d.swap.safety;
    const cause = fireCause(r.status, cfg);
    if (cause && !this.fire) this.onFire(cause, r.status, r.faults);
    else if (this.fire && r.status.powerOn) void this.send({ kind: 'cabinetPower', on: false }, 'safety'); // a rebooted cabinet closed its contactor again
    this.supervise(r.faults?.some((f) => f.safety) ?? false);
    for (const t of thermalTrips(r.slots, at, this.history, new Set(this.isolated.keys()), cfg)) {
      const s = r.slots[t.slot - 1]!;
      this.isolate(t.slot, 'thermal', s.batteryId || undefined);
      const data = {
        cabinet: this.id,
        active: true,
        priority: 'critical' as const,
        slot: t.slot,
        ...(s.batteryId ? { batteryId: s.batteryId } : {}),
        cause: t.cause,
        value: t.value,
      };
      this.record({ class: 'alarm', type: 'swap.thermal', source: slotSource(this.id, t.slot), data });
      reportCondition(this.d.sink, { kind: 'swap.thermal', source: slotSource(this.id, t.slot), active: true, data }, this.d.log);
    }
    // An isolation the cabinet forgot (a reboot) is written again.
    for (const s of r.slots) if (this.isolated.has(s.slot) && !s.isolated) void this.send({ kind: 'isolate', slot: s.slot }, 'safety');
    if (r.faults) this.faults.report(r.faults.map(fromFieldFault), this.d.clock.monotonic());
    this.last = r;
    for (const s of r.slots)
      if (s.present && s.batteryId && !s.invalid && this.flow.stocking(s.slot)) this.d.store.learn(s.batteryId, this.id);
    // An open swap whose slots cannot be read whole this poll waits for the next one (its timeout still runs).
    const open = this.flow.current();
    const blurred = open && [open.returnSlot, open.issueSlot].some((n) => n !== undefined && r.slots[n - 1]?.invalid);
    if (!blurred) this.flow.onReading(r.slots);
    this.writeState(false);
  }

  private onFire(cause: FireCause, status: SwapCabinetStatus, faults: readonly FieldFault[] = []): void {
    this.fire = cause;
    void this.send({ kind: 'cabinetPower', on: false }, 'safety');
    // An unreadable suppression status ('fault' placeholder) is still triggered: a cabinet without it refuses, harmlessly.
    const unreadable = faults.some((f) => f.field === 'suppression');
    const suppress = this.d.cfg.suppression && (status.suppression === 'ready' || (status.suppression === 'fault' && unreadable));
    if (suppress) void this.send({ kind: 'suppress' }, 'safety');
    const data = {
      cabinet: this.id,
      active: true,
      priority: 'critical' as const,
      cause,
      value: cause === 'smoke' ? 1 : status.temperature,
      suppression: suppress,
    };
    this.record({ class: 'alarm', type: 'swap.fire', source: { device: this.id }, data });
    reportCondition(this.d.sink, { kind: 'swap.fire', source: { device: this.id }, active: true, data }, this.d.log);
    this.flow.abort('fire');
  }

  /** Isolates a slot: the write first, then the persisted mark and the event. */
  isolate(slot: number, reason: 'thermal' | 'bms_fault' | 'command' | 'rejected_pack', batteryId?: string, principal?: string): void {
    void this.send({ kind: 'isolate', slot }, 'safety');
    if (this.isolated.has(slot)) return;
    this.isolated.set(slot, reason);
    this.d.store.isolate(this.id, slot, reason);
    const data = { cabinet: this.id, slot, reason, ...(batteryId ? { batteryId } : {}), ...(principal ? { principal } : {}) };
    this.record({ class: 'charging', type: 'swap.slot_isolated', source: slotSource(this.id, slot), data });
  }

  async release(slot: number, principal: string): Promise<Record<string, unknown>> {
    const s = this.last?.slots[slot - 1];
    if (s && s.present && this.d.swap.safety.packMaxTempC <= s.temperature)
      throw new GatehouseError('DEVICE_REFUSED', `slot ${slot} of ${this.id} is still too hot to release`, {
        cabinet: this.id,
        slot,
        reason: 'cause_present',
      });
    await this.send({ kind: 'release', slot }, 'command');
    this.isolated.delete(slot);
    this.d.store.release(this.id, slot);
    this.record({
      class: 'charging',
      type: 'swap.slot_released',
      source: slotSource(this.id, slot),
      data: { cabinet: this.id, slot, reason: 'release', principal },
    });
    reportCondition(this.d.sink, { kind: 'swap.thermal', source: slotSource(this.id, slot), active: false }, this.d.log);
    return { cabinet: this.id, slot, isolated: false };
  }

  async power(on: boolean): Promise<Record<string, unknown>> {
    if (on) {
      const st = this.last?.status;
      if (!st || fireCause(st, this.d.swap.safety) !== undefined)
        throw new GatehouseError('DEVICE_REFUSED', `cabinet ${this.id}: smoke or over-temperature still read (or no reading yet)`, {
          cabinet: this.id,
          reason: 'cause_present',
        });
      if (this.supervision.unsupervised)
        throw new GatehouseError('DEVICE_REFUSED', `cabinet ${this.id}: its safety registers are still unreadable`, {
          cabinet: this.id,
          reason: 'cause_present',
        });
      await this.send({ kind: 'cabinetPower', on: true }, 'command');
      this.supervision.cut = false;
      if (this.fire) reportCondition(this.d.sink, { kind: 'swap.fire', source: { device: this.id }, active: false }, this.d.log);
      this.fire = undefined;
    } else await this.send({ kind: 'cabinetPower', on: false }, 'command');
    return { cabinet: this.id, power: on };
  }

  /** A safety write never rejects (the next reading re-asserts it); a command's failure is the caller's. */
  send(cmd: SwapCommand, why: 'safety' | 'command'): Promise<void> {
    const w = encodeSwapCommand(cmd, this.slotCount);
    const { bus } = this.d;
    const unit = this.d.cfg.unitId;
    const p =
      w.fc === 6
        ? bus.writeSingle(unit, w.address, w.values[0]!, { priority: 'high' })
        : bus.write(unit, w.address, w.values, { priority: 'high' });
    return p.catch((err: unknown) => {
      this.d.log.warn({ cabinet: this.id, cmd, why, err: (err as Error).message }, 'swap cabinet command failed');
      if (why === 'safety') return;
      if (isGatehouseError(err, 'DEVICE_REFUSED'))
        throw new GatehouseError('DEVICE_REFUSED', `swap cabinet ${this.id} refused ${cmd.kind} in its current state`, {
          cabinet: this.id,
          reason: 'refused_by_cabinet',
        });
      throw err;
    });
  }

  private record(e: EventInput): void {
    this.d.outbox.record(e).catch((err: unknown) => {
      if (isGatehouseError(err, 'OUTBOX_CLOSED')) return;
      this.d.log.error({ cabinet: this.id, type: e.type, err: (err as Error).message }, 'could not record a swap event');
    });
  }

  /** The retained state/{cabinet}: what the console grid and a dashboard show. */
  stateBody(): Record<string, unknown> {
    const r = this.last;
    const open = this.flow.current();
    return {
      kind: 'swap',
      online: this.poller.presence.announced === true,
      fire: this.fire ?? null,
      status: r
        ? {
            temperature: Math.round(r.status.temperature * 2) / 2,
            smoke: r.status.smoke,
            powerOn: r.status.powerOn,
            suppression: r.status.suppression,
          }
        : null,
      slots: (r?.slots ?? []).map((s) => ({
        slot: s.slot,
        present: s.present,
        batteryId: s.batteryId || null,
        soc: s.present ? s.soc : null,
        temperature: s.present ? Math.round(s.temperature * 2) / 2 : null,
        charger: s.charger,
        doorLocked: s.doorLocked,
        doorOpen: s.doorOpen,
        isolated: this.isolated.has(s.slot) || s.isolated,
        bmsFault: s.bmsFaults !== 0,
      })),
      swap: open ? { swapId: open.swapId, phase: open.phase, returnSlot: open.returnSlot, issueSlot: open.issueSlot ?? null } : null,
    };
  }

  private writeState(force: boolean): void {
    const body = this.stateBody();
    const key = JSON.stringify(body);
    if (!force && key === this.lastStateKey) return;
    this.lastStateKey = key;
    this.d.outbox.setState(this.id, body).catch((err: unknown) => {
      if (!isGatehouseError(err, 'OUTBOX_CLOSED'))
        this.d.log.error({ cabinet: this.id, err: (err as Error).message }, 'could not write swap state');
    });
  }
}
