/**
 * One simulated battery-swap cabinet implementing register map v1.1 section 10
 * (docs/cabinet-register-map.md) behind `handle(request) -> response`; the TCP server and
 * the RTU line of sim/modbus/servers.ts move the bytes.
 *
 * Like the charging cabinet simulator it does what the map says and nothing more: it does
 * not isolate a hot slot or cut itself on smoke, so the tests see the gateway's interlocks act.
 * Riders act through `riderReturns` / `riderTakes`, which open, insert or take, and close.
 */
import { CABINET, CABINET_CONTROL, EXCEPTION, IDENTITY } from '../../drivers/cabinet/register-map.js';
import { encodeIdentity, encodeStatus } from '../../drivers/cabinet/registers.js';
import type { ModbusRequest, ModbusResponse } from '../../drivers/modbus/pdu.js';
import {
  CABINET_TRIGGER_SUPPRESSION,
  KIND_BLOCK,
  SLOT_CONTROL,
  SUPPRESSION_OFFSET,
  SUPPRESSION_STATES,
  slotBlockAddress,
  slotControlAddress,
} from '../../drivers/swap/register-map.js';
import { decodeSlotControl, encodeKindBlock, encodeSlot } from '../../drivers/swap/registers.js';
import type { ChargerState, SlotReading, SuppressionState, SwapCommand } from '../../drivers/swap/types.js';
import { answerRegisters, injectedRefusal, overlayRaw } from '../modbus/fleet.js';
import { chargePower, newPack, packVoltage, stepPack, type SimPack } from './physics.js';

export interface SimSlot {
  slot: number;
  doorLocked: boolean;
  doorOpen: boolean;
  pack: SimPack | undefined;
  chargeEnabled: boolean;
  isolated: boolean;
  openRemainingMs: number;
  faultCode: number;
}

export interface SimSwapCabinetOptions {
  id: string;
  slots: number;
  serial?: string;
  ambientC?: number;
  suppression?: boolean;
}

export class SimSwapCabinet {
  readonly id: string;
  readonly slots: SimSlot[];
  /** Changed by a `reboot` injection with a new serial (a swapped controller). */
  serial: string;
  ambientC: number;
  temperature: number;
  temperatureOverride: number | undefined;
  smoke = false;
  powerOn = true;
  mainsPresent = true;
  suppression: SuppressionState;
  uptimeMs = 0;
  dead = false;
  corruptNext = 0;
  slowMs = 0;
  requests = 0;
  // protocol faults of other makers' firmware (sim/modbus/fleet.ts)
  readonly rawRegisters = new Map<number, number>();
  unreadable: { from: number; to: number; exception: number } | undefined;
  busyNext = 0;
  /** Every command the cabinet accepted, for tests. */
  readonly accepted: SwapCommand[] = [];

  constructor(opts: SimSwapCabinetOptions) {
    if (!Number.isInteger(opts.slots) || opts.slots < 1 || opts.slots > 24)
      throw new Error(`a swap cabinet has 1-24 slots, not ${opts.slots}`);
    this.id = opts.id;
    this.serial = opts.serial ?? `SWP-${opts.id}`.slice(0, 16);
    this.ambientC = opts.ambientC ?? 22;
    this.temperature = this.ambientC;
    this.suppression = opts.suppression ? 'ready' : 'absent';
    this.slots = Array.from({ length: opts.slots }, (_, i) => ({
      slot: i + 1,
      doorLocked: true,
      doorOpen: false,
      pack: undefined,
      chargeEnabled: true,
      isolated: false,
      openRemainingMs: 0,
      faultCode: 0,
    }));
  }

  slot(n: number): SimSlot {
    const s = this.slots[n - 1];
    if (!s) throw new Error(`swap cabinet ${this.id} has no slot ${n}`);
    return s;
  }

  /** A pack in a slot from the start (stocked by the operator). */
  stock(n: number, pack: Partial<SimPack> & { id: string }): void {
    this.slot(n).pack = newPack(pack);
  }

  // ---- riders ------------------------------------------------------------------------

  /** Opens an unlocked door, puts the pack in and closes it (the lock latches). False when the door is locked. */
  riderReturns(n: number, pack: Partial<SimPack> & { id: string }, close = true): boolean {
    const s = this.slot(n);
    if (s.doorLocked || s.pack) return false;
    s.doorOpen = true;
    s.pack = newPack({ soc: 0.1, ...pack });
    if (close) this.closeDoor(n);
    return true;
  }

  /** Opens an unlocked door, takes the pack and closes it; the pack, or undefined when locked or empty. */
  riderTakes(n: number): SimPack | undefined {
    const s = this.slot(n);
    if (s.doorLocked || !s.pack) return undefined;
    s.doorOpen = true;
    const p = s.pack;
    s.pack = undefined;
    this.closeDoor(n);
    return p;
  }

  closeDoor(n: number): void {
    const s = this.slot(n);
    s.doorOpen = false;
    s.doorLocked = true;
    s.openRemainingMs = 0;
  }

  charger(s: SimSlot): ChargerState {
    if (s.isolated) return 'isolated';
    if (!s.pack) return 'idle';
    if (s.faultCode) return 'fault';
    if (!s.chargeEnabled) return 'disabled';
    if (!this.powerOn || !this.mainsPresent) return 'idle';
    return chargePower(s.pack) > 0 ? 'charging' : 'full';
  }

  reading(n: number): SlotReading {
    const s = this.slot(n);
    const p = s.pack;
    const charging = this.charger(s) === 'charging';
    return {
      slot: n,
      doorLocked: s.doorLocked,
      doorOpen: s.doorOpen,
      present: p !== undefined,
      charger: this.charger(s),
      faultCode: s.faultCode,
      soc: p ? Math.floor(p.soc * 100) : 0,
      voltage: p ? packVoltage(p) : 0,
      current: p && charging ? chargePower(p) / packVoltage(p) : 0,
      temperature: p ? p.temperature : 0,
      cycles: p?.cycles ?? 0,
      health: p?.health ?? 0,
      bmsFaults: p ? p.bmsFaults | (p.temperature >= 70 ? 0b100 : 0) : 0,
      batteryId: p?.id ?? '',
      energyWh: p?.capacityWh ?? 0,
      chargeEnabled: s.chargeEnabled,
      isolated: s.isolated,
      openRemainingS: s.doorLocked ? 0 : Math.ceil(s.openRemainingMs / 1000),
    };
  }

  /** Advances physics and door timeouts by `dtMs` of simulated time. */
  step(dtMs: number): void {
    if (dtMs <= 0) return;
    this.uptimeMs += dtMs;
    let total = 0;
    for (const s of this.slots) {
      if (!s.doorLocked && !s.doorOpen) {
        s.openRemainingMs -= dtMs;
        if (s.openRemainingMs <= 0) this.closeDoor(s.slot);
      }
      if (s.pack) total += stepPack(s.pack, dtMs, this.charger(s) === 'charging', this.temperature);
    }
    if (this.temperatureOverride !== undefined) this.temperature = this.temperatureOverride;
    else this.temperature += (this.ambientC + 0.003 * total - this.temperature) * (1 - Math.exp(-dtMs / 600_000));
  }

  // ---- Modbus ------------------------------------------------------------------------

  handle(req: ModbusRequest): ModbusResponse {
    this.requests++;
    const refused = injectedRefusal(req, this);
    if (refused) return refused;
    let img: Map<number, number> | undefined;
    return answerRegisters(req, {
      readWord: (a, fc) => (img ??= this.image(fc)).get(a),
      write: (a, values) => this.write(a, values),
    });
  }

  private readonly holding = new Map<number, number>();

  private image(fc: 3 | 4): Map<number, number> {
    const img = new Map<number, number>();
    if (fc === 3) {
      img.set(CABINET_CONTROL.address, 0);
      for (const s of this.slots) {
        const base = slotControlAddress(s.slot);
        img.set(base, this.holding.get(base) ?? 0);
        for (let i = 1; i < SLOT_CONTROL.stride; i++) img.set(base + i, 0);
      }
      return img;
    }
    // Port count 0: a v1.0 charging reader refuses this cabinet (section 10.1).
    const id = { vendor: 'Gatehouse Sim', model: `SWAP-${this.slots.length}`, serial: this.serial, firmware: '1.1.0', portCount: 0 };
    encodeIdentity({ ...id, mapVersion: { major: 1, minor: 1 } }).forEach((w, i) => img.set(IDENTITY.address + i, w));
    encodeKindBlock(this.slots.length).forEach((w, i) => img.set(KIND_BLOCK.address + i, w));
    const status = encodeStatus({
      mainsVoltage: this.mainsPresent ? 230 : 0,
      mainsPresent: this.mainsPresent,
      temperature: this.temperature,
      smoke: this.smoke,
      doorOpen: false,
      fanOn: this.temperature > 30,
      powerOn: this.powerOn,
      uptimeS: Math.floor(this.uptimeMs / 1000),
    });
    status[SUPPRESSION_OFFSET] = SUPPRESSION_STATES.indexOf(this.suppression);
    status.forEach((w, i) => img.set(CABINET.address + i, w));
    for (const s of this.slots) encodeSlot(this.reading(s.slot)).forEach((w, i) => img.set(slotBlockAddress(s.slot) + i, w));
    return overlayRaw(img, this.rawRegisters);
  }

  private write(address: number, values: readonly number[]): number | undefined {
    if (address === CABINET_CONTROL.address && values.length === 1) return this.cabinetCommand(values[0]!);
    const rel = address - SLOT_CONTROL.base;
    const n = Math.floor(rel / SLOT_CONTROL.stride) + 1;
    const off = rel % SLOT_CONTROL.stride;
    if (rel < 0 || n > this.slots.length || off + values.length > 2) return EXCEPTION.illegalAddress;
    const base = slotControlAddress(n);
    values.forEach((v, i) => this.holding.set(address + i, v));
    if (off + values.length < 2) return undefined; // only the timeout parameter
    const d = decodeSlotControl(n, this.holding.get(base) ?? 0, this.holding.get(base + SLOT_CONTROL.command) ?? 0);
    this.holding.set(base + SLOT_CONTROL.command, 0);
    if (!d.ok) return d.exception;
    return this.execute(d.command);
  }

  private cabinetCommand(v: number): number | undefined {
    if (v === CABINET_CONTROL.powerCut || v === CABINET_CONTROL.powerOn)
      return this.execute({ kind: 'cabinetPower', on: v === CABINET_CONTROL.powerOn });
    if (v === CABINET_TRIGGER_SUPPRESSION) return this.execute({ kind: 'suppress' });
    return EXCEPTION.illegalValue;
  }

  private execute(cmd: SwapCommand): number | undefined {
    switch (cmd.kind) {
      case 'cabinetPower':
        this.powerOn = cmd.on;
        break;
      case 'suppress':
        if (this.suppression === 'absent') return EXCEPTION.refusedInState;
        this.suppression = 'discharged';
        break;
      case 'open': {
        const s = this.slot(cmd.slot);
        if (s.isolated) return EXCEPTION.refusedInState;
        s.doorLocked = false;
        s.openRemainingMs = cmd.timeoutS * 1000;
        break;
      }
      case 'charge': {
        const s = this.slot(cmd.slot);
        if (cmd.enabled && s.isolated) return EXCEPTION.refusedInState;
        s.chargeEnabled = cmd.enabled;
        break;
      }
      case 'isolate': {
        const s = this.slot(cmd.slot);
        s.isolated = true;
        s.chargeEnabled = false;
        if (!s.doorOpen) s.doorLocked = true;
        break;
      }
      case 'release':
        this.slot(cmd.slot).isolated = false;
        break;
    }
    this.accepted.push(cmd);
    return undefined;
  }
}
