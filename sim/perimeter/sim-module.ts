/**
 * One simulated digital input module (8 or 16 channels) behind `handle(request) ->
 * response`, served by the generic Modbus servers of sim/modbus (TCP or a shared RTU line):
 *
 * - discrete inputs (FC 02) from `inputAddress`, one per channel: the raw electrical state
 *   (an NC beam reads 1 while it receives);
 * - the same inputs as one register (FC 03/04 at `inputRegister`), for modules configured
 *   with a register table;
 * - the supervision register (FC 03/04 at `supervisionAddress`): bit n set while channel n's
 *   line is cut or shorted;
 * - relay outputs as coils (FC 01 read, FC 05/15 write) from `coilAddress`.
 *
 * Changes are timestamped (performance.now()) so a benchmark can measure from the moment
 * the input changed; coil writes are logged for tests.
 */
import { GatehouseError } from '../../gateway/core/errors.js';
import type { ModbusRequest, ModbusResponse } from '../../drivers/modbus/pdu.js';
import type { SimModbusUnit } from '../modbus/servers.js';

export interface SimInputModuleOptions {
  id: string;
  channels: 8 | 16;
  inputAddress?: number;
  inputRegister?: number;
  supervisionAddress?: number;
  coilAddress?: number;
  coils?: number;
}

const ILLEGAL_FUNCTION = 1;
const ILLEGAL_ADDRESS = 2;

export class SimInputModule implements SimModbusUnit {
  readonly id: string;
  readonly channels: number;
  readonly inputs: boolean[];
  readonly faults: boolean[];
  readonly coils: boolean[];
  dead = false;
  corruptNext = 0;
  slowMs = 0;
  /** performance.now() of the last input change, per channel. */
  readonly changedAt: number[];
  readonly coilLog: { index: number; on: boolean; at: number }[] = [];
  /** Input reads served (FC 02 or the input register). */
  inputReads = 0;
  private readonly o: Required<Omit<SimInputModuleOptions, 'id' | 'channels'>>;

  constructor(opts: SimInputModuleOptions) {
    if (opts.channels !== 8 && opts.channels !== 16) throw new Error(`an input module has 8 or 16 channels, not ${String(opts.channels)}`);
    this.id = opts.id;
    this.channels = opts.channels;
    this.o = { inputAddress: 0, inputRegister: 200, supervisionAddress: 100, coilAddress: 0, coils: 4, ...opts };
    this.inputs = new Array<boolean>(this.channels).fill(false);
    this.faults = new Array<boolean>(this.channels).fill(false);
    this.coils = new Array<boolean>(this.o.coils).fill(false);
    this.changedAt = new Array<number>(this.channels).fill(0);
  }

  setInput(channel: number, active: boolean): void {
    this.check(channel);
    if (this.inputs[channel] === active) return;
    this.inputs[channel] = active;
    this.changedAt[channel] = performance.now();
  }

  setFault(channel: number, on: boolean): void {
    this.check(channel);
    this.faults[channel] = on;
  }

  coil(index: number): boolean {
    return this.coils[index] ?? false;
  }

  private check(channel: number): void {
    if (!Number.isInteger(channel) || channel < 0 || channel >= this.channels)
      throw new Error(`module ${this.id} has no channel ${channel}`);
  }

  private word(bits: readonly boolean[]): number {
    return bits.reduce((w, on, i) => (on ? w | (1 << i) : w), 0);
  }

  handle(req: ModbusRequest): ModbusResponse {
    const refuse = (exception: number): ModbusResponse => ({ fc: req.fc, exception });
    const within = (start: number, size: number, address: number, count: number) => address >= start && address + count <= start + size;
    switch (req.fc) {
      case 2: {
        if (!within(this.o.inputAddress, this.channels, req.address, req.count)) return refuse(ILLEGAL_ADDRESS);
        this.inputReads++;
        return { fc: 2, bits: pad(this.inputs.slice(req.address - this.o.inputAddress, req.address - this.o.inputAddress + req.count)) };
      }
      case 1: {
        if (!within(this.o.coilAddress, this.coils.length, req.address, req.count)) return refuse(ILLEGAL_ADDRESS);
        return { fc: 1, bits: pad(this.coils.slice(req.address - this.o.coilAddress, req.address - this.o.coilAddress + req.count)) };
      }
      case 3:
      case 4: {
        if (req.count !== 1) return refuse(ILLEGAL_ADDRESS);
        if (req.address === this.o.supervisionAddress) return { fc: req.fc, values: [this.word(this.faults)] };
        if (req.address === this.o.inputRegister) {
          this.inputReads++;
          return { fc: req.fc, values: [this.word(this.inputs)] };
        }
        return refuse(ILLEGAL_ADDRESS);
      }
      case 5:
      case 15: {
        const values = req.fc === 5 ? [req.value] : req.values;
        if (!within(this.o.coilAddress, this.coils.length, req.address, values.length)) return refuse(ILLEGAL_ADDRESS);
        const at = performance.now();
        values.forEach((on, i) => {
          const index = req.address - this.o.coilAddress + i;
          this.coils[index] = on;
          this.coilLog.push({ index, on, at });
        });
        return req.fc === 5 ? { fc: 5, address: req.address, value: req.value } : { fc: 15, address: req.address, count: values.length };
      }
      default:
        throw new GatehouseError('DEVICE_PROTOCOL', `FC ${req.fc} is not served by an input module`, { exception: ILLEGAL_FUNCTION });
    }
  }
}

/** Bit answers come in whole bytes. */
function pad(bits: boolean[]): boolean[] {
  const out = [...bits];
  while (out.length % 8 !== 0) out.push(false);
  return out;
}
