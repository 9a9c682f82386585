/**
 * One simulated charging cabinet implementing register map v1.0
 * (docs/cabinet-register-map.md) behind `handle(request) -> response`, independent of the
 * transport: the TCP server and the RTU bus (servers.ts) only move bytes.
 *
 * It does what the map says a cabinet does (refuses a start on a port that is not plugged
 * with exception 04, ends sessions on a power cut...) and deliberately nothing more: it
 * does not cut itself on smoke or over-current, so the gateway's own interlocks are what
 * the tests see act.
 */
import {
  CABINET,
  CABINET_CONTROL,
  EXCEPTION,
  FAULT_CODES,
  IDENTITY,
  MAX_DURATION_MIN,
  PORT_CONTROL,
  portBlockAddress,
  portControlAddress,
} from '../../drivers/cabinet/register-map.js';
import { decodeCabinetControl, decodePortControl, encodeIdentity, encodePort, encodeStatus } from '../../drivers/cabinet/registers.js';
import type { CabinetCommand, CabinetIdentity, CabinetStatus, PortReading } from '../../drivers/cabinet/types.js';
import type { ModbusRequest, ModbusResponse } from '../../drivers/modbus/pdu.js';
import { answerRegisters, injectedRefusal, overlayRaw } from '../modbus/fleet.js';
import { endSession, newPort, outputOn, stepPort, type Battery, type SimPort } from './physics.js';

export interface SimCabinetOptions {
  id: string;
  ports: number;
  vendor?: string;
  model?: string;
  serial?: string;
  firmware?: string;
  ambientC?: number;
  mainsVoltage?: number;
}

/** Cabinet air: °C per W dissipated by all ports at equilibrium, and its time constant. */
const CABINET_HEAT_C_PER_W = 0.004;
const CABINET_TAU_MS = 600_000;
const FAN_ABOVE_C = 30;

export class SimCabinet {
  readonly id: string;
  readonly identity: CabinetIdentity;
  readonly ports: SimPort[];
  ambientC: number;
  mainsVoltage: number;
  mainsPresent = true;
  temperature: number;
  /** Forced cabinet temperature (overheating cabinet), or undefined for physics. */
  temperatureOverride: number | undefined;
  smoke = false;
  doorOpen = false;
  powerOn = true;
  uptimeMs = 0;
  // transport faults, applied by the servers
  dead = false;
  corruptNext = 0;
  slowMs = 0;
  /** Every command the cabinet accepted, for tests. */
  readonly accepted: CabinetCommand[] = [];
  // protocol faults of other makers' firmware (issue 11/13)
  /** Input registers forced to a raw word (an out-of-range state code, smoke holding 2...), by address. */
  readonly rawRegisters = new Map<number, number>();
  /** Reads touching [from, to] answer this exception instead (safety registers the controller cannot give). */
  unreadable: { from: number; to: number; exception: number } | undefined;
  /** The next `busyNext` requests answer exception 06 (server device busy). */
  busyNext = 0;
  /** A firmware that implements FC 16 only: FC 06 answers exception 01. */
  noFc6 = false;
  /** Requests handled (answered or refused), for tests that wait for polls. */
  requests = 0;
  private readonly holding = new Map<number, number>();

  constructor(opts: SimCabinetOptions) {
    if (!Number.isInteger(opts.ports) || opts.ports < 1 || opts.ports > 24) throw new Error(`a cabinet has 1-24 ports, not ${opts.ports}`);
    this.id = opts.id;
    this.ambientC = opts.ambientC ?? 20;
    this.mainsVoltage = opts.mainsVoltage ?? 230;
    this.temperature = this.ambientC;
    this.identity = {
      vendor: opts.vendor ?? 'Gatehouse Sim',
      model: opts.model ?? `SIM-${opts.ports}`,
      serial: opts.serial ?? `SIM-${opts.id}`.slice(0, 16),
      firmware: opts.firmware ?? '1.0.0',
      mapVersion: { major: 1, minor: 0 },
      portCount: opts.ports,
    };
    this.ports = Array.from({ length: opts.ports }, (_, i) => newPort(i + 1, this.ambientC));
  }

  port(n: number): SimPort {
    const p = this.ports[n - 1];
    if (!p) throw new Error(`cabinet ${this.id} has no port ${n}`);
    return p;
  }

  status(): CabinetStatus {
    return {
      mainsVoltage: this.mainsPresent ? this.mainsVoltage : 0,
      mainsPresent: this.mainsPresent,
      temperature: this.temperature,
      smoke: this.smoke,
      doorOpen: this.doorOpen,
      fanOn: this.smoke || this.temperature > FAN_ABOVE_C,
      powerOn: this.powerOn,
      uptimeS: Math.floor(this.uptimeMs / 1000),
    };
  }

  reading(n: number): PortReading {
    const p = this.port(n);
    return {
      port: n,
      state: p.state,
      voltage: p.voltage,
      current: p.current,
      power: p.power,
      energyWh: Math.floor(p.energyWh),
      temperature: p.temperature,
      sessionId: p.sessionId,
      faultCode: p.faultCode,
      powerLimit: p.powerLimit,
    };
  }

  // ---- the world around the cabinet -----------------------------------------------

  plug(n: number, battery: Partial<Battery> = {}): void {
    const p = this.port(n);
    p.battery = { capacityWh: battery.capacityWh ?? 600, soc: battery.soc ?? 0.2 };
    if (p.state === 'available') p.state = 'plugged';
  }

  /** The rider pulls the plug, even mid-session: the session ends with the port. */
  unplug(n: number): void {
    const p = this.port(n);
    p.battery = undefined;
    p.shorted = false;
    if (p.state !== 'disabled' && p.state !== 'fault') endSession(p, 'available');
  }

  setMains(present: boolean): void {
    this.mainsPresent = present;
    for (const p of this.ports) {
      if (!present && outputOn(p)) endSession(p, 'fault', FAULT_CODES.mainsLost);
      else if (present && p.state === 'fault' && p.faultCode === FAULT_CODES.mainsLost) endSession(p, p.battery ? 'plugged' : 'available');
    }
  }

  /** A controller restart: sessions gone, contactor closed, uptime from zero. */
  reboot(): void {
    this.uptimeMs = 0;
    this.powerOn = true;
    this.holding.clear();
    for (const p of this.ports) if (outputOn(p)) endSession(p, 'plugged');
  }

  /** Advances the physics by `dtMs` of simulated time. */
  step(dtMs: number): void {
    if (dtMs <= 0) return;
    this.uptimeMs += dtMs;
    let total = 0;
    for (const p of this.ports) {
      if (!this.powerOn || !this.mainsPresent) {
        if (outputOn(p)) endSession(p, 'plugged');
      }
      if (stepPort(p, dtMs, this.ambientC) === 'max_duration') endSession(p, 'plugged');
      total += p.power;
    }
    if (this.temperatureOverride !== undefined) this.temperature = this.temperatureOverride;
    else this.temperature += (this.ambientC + CABINET_HEAT_C_PER_W * total - this.temperature) * (1 - Math.exp(-dtMs / CABINET_TAU_MS));
  }

  // ---- Modbus ---------------------------------------------------------------------

  /** Answers one request as the map says; never throws. */
  handle(req: ModbusRequest): ModbusResponse {
    this.requests++;
    const refused = injectedRefusal(req, this);
    if (refused) return refused;
    if (req.fc === 6 && this.noFc6) return { fc: 6, exception: EXCEPTION.illegalFunction };
    // One consistent snapshot per request, so a 32-bit value never mixes two moments.
    let img: Map<number, number> | undefined;
    const image = (): Map<number, number> => (img ??= this.inputImage());
    return answerRegisters(req, { readWord: (a, fc) => this.readWord(a, fc, image), write: (a, values) => this.write(a, values) });
  }

  private inputImage(): Map<number, number> {
    const img = new Map<number, number>();
    encodeIdentity(this.identity).forEach((w, i) => img.set(IDENTITY.address + i, w));
    encodeStatus(this.status()).forEach((w, i) => img.set(CABINET.address + i, w));
    for (let n = 1; n <= this.ports.length; n++) encodePort(this.reading(n)).forEach((w, i) => img.set(portBlockAddress(n) + i, w));
    return overlayRaw(img, this.rawRegisters);
  }

  private readWord(a: number, fc: 3 | 4, image: () => Map<number, number>): number | undefined {
    // FC 04 never reads control blocks; the doc lets FC 03 read the input blocks too (one register space).
    if (this.isHolding(a)) {
      if (fc === 4) return undefined;
      const isCommand = a === CABINET_CONTROL.address || (a - PORT_CONTROL.base) % PORT_CONTROL.stride === PORT_CONTROL.command;
      return isCommand ? 0 : (this.holding.get(a) ?? 0);
    }
    return image().get(a);
  }

  private isHolding(a: number): boolean {
    return a === CABINET_CONTROL.address || (a >= PORT_CONTROL.base && a < portControlAddress(this.ports.length + 1));
  }

  /** Stores a write and runs the commands it completes; returns an exception code or undefined. */
  private write(address: number, values: readonly number[]): number | undefined {
    for (let i = 0; i < values.length; i++) {
      const a = address + i;
      if (!this.isHolding(a)) return EXCEPTION.illegalAddress;
      // Reserved registers of a control block (+5..+7) are not writable.
      if (a !== CABINET_CONTROL.address && (a - PORT_CONTROL.base) % PORT_CONTROL.stride > PORT_CONTROL.command)
        return EXCEPTION.illegalAddress;
    }
    values.forEach((v, i) => this.holding.set(address + i, v));
    const end = address + values.length;
    if (address <= CABINET_CONTROL.address && CABINET_CONTROL.address < end) {
      const d = decodeCabinetControl(this.holding.get(CABINET_CONTROL.address) ?? 0);
      if (!d.ok) return d.exception;
      const r = this.execute(d.command);
      if (r !== undefined) return r;
    }
    for (let n = 1; n <= this.ports.length; n++) {
      const cmdAt = portControlAddress(n) + PORT_CONTROL.command;
      if (cmdAt < address || cmdAt >= end) continue;
      const block = Array.from({ length: PORT_CONTROL.stride }, (_, i) => this.holding.get(portControlAddress(n) + i) ?? 0);
      this.holding.set(cmdAt, 0);
      const d = decodePortControl(n, block);
      if (!d.ok) return d.exception;
      const r = this.execute(d.command);
      if (r !== undefined) return r;
    }
    return undefined;
  }

  private execute(cmd: CabinetCommand): number | undefined {
    const refused = EXCEPTION.refusedInState;
    if (cmd.kind === 'cabinetPower') {
      this.powerOn = cmd.on;
      if (!cmd.on) for (const p of this.ports) if (outputOn(p)) endSession(p, 'plugged');
      this.accepted.push(cmd);
      return undefined;
    }
    const p = this.port(cmd.port);
    switch (cmd.kind) {
      case 'start':
        if (p.state !== 'plugged' || !this.powerOn || !this.mainsPresent || this.smoke) return refused;
        if (cmd.maxDurationMin > MAX_DURATION_MIN) return EXCEPTION.illegalValue;
        p.state = 'charging';
        p.sessionId = cmd.sessionId;
        p.powerLimit = cmd.powerLimitW;
        p.maxDurationMs = cmd.maxDurationMin * 60_000;
        p.sessionMs = 0;
        p.faultCode = 0;
        break;
      case 'stop':
        if (outputOn(p)) endSession(p, 'plugged');
        break;
      case 'setLimit':
        if (p.state !== 'plugged' && !outputOn(p)) return refused;
        p.powerLimit = cmd.powerLimitW;
        break;
      case 'enable':
        if (cmd.enabled) {
          if (p.state === 'disabled') endSession(p, p.battery ? 'plugged' : 'available');
        } else {
          if (outputOn(p)) return refused;
          endSession(p, 'disabled');
        }
        break;
    }
    this.accepted.push(cmd);
    return undefined;
  }
}
