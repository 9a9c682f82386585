/**
 * Field-by-field decoding of a poll (the cabinet block and every port block), for the
 * gateway's supervision loop. The strict decoders in registers.ts throw on the first value
 * outside the map, which used to blind a whole cabinet because of one port's state code:
 * smoke was then ignored for as long as the bad value stayed. Here every register is decoded
 * on its own; a value the map cannot carry invalidates that field only and is reported as a
 * FieldFault (with its address and raw value), and the rest of the reading stands.
 *
 * Placeholders for invalid fields are chosen so that nothing acts on them by accident: a
 * temperature is NaN (no comparison is true), a boolean is false, a port state is
 * 'unknown'. The safety logic reads `faults` to know which safety fields it could not see.
 *
 * What stays a DEVICE_PROTOCOL error: answers of the wrong length (the framing itself is
 * wrong, nothing in them can be placed at an address).
 */
import { GatehouseError } from '../../gateway/core/errors.js';
import { CABINET, PORT, STATE_CODES, portBlockAddress } from './register-map.js';
import { pollPlan } from './registers.js';
import type { CabinetStatus, FieldFault, PortReading } from './types.js';

/**
 * A temperature register below this is a sensor fault value (0x8000 is the usual "open
 * sensor" code), not a reading. High values are believed: acting on a sensor that reads too
 * hot cuts power, which is the safe mistake.
 */
export const MIN_PLAUSIBLE_C = -55;

const u32 = (w: readonly number[], i: number): number => w[i]! * 0x10000 + w[i + 1]!;
const s16 = (v: number): number => (v >= 0x8000 ? v - 0x10000 : v);

export interface DecodedPoll {
  status: CabinetStatus;
  ports: PortReading[];
  faults: FieldFault[];
}

/** Decodes the registers of one block one by one; an invalid one becomes a FieldFault and a placeholder. */
export class FieldReader {
  readonly faults: FieldFault[] = [];
  constructor(
    private readonly words: readonly number[],
    private readonly base: number,
    private readonly port?: number,
    /** Field name prefix: `port3.` by default for a port's block; the swap codec passes `slot3.`. */
    private readonly prefix = port === undefined ? '' : `port${port}.`,
  ) {}

  /** Records `field` (at `offset` of the block) as holding a value the map cannot carry. */
  fault(field: string, offset: number, safety: boolean, message: string): void {
    const name = this.prefix + field;
    const f: FieldFault = { field: name, address: this.base + offset, raw: this.words[offset]!, safety, message };
    if (this.port !== undefined) f.port = this.port;
    this.faults.push(f);
  }

  /** `placeholder` is what an invalid value stands for. */
  bool(field: string, offset: number, safety: boolean, placeholder = false): boolean {
    const v = this.words[offset]!;
    if (v === 0 || v === 1) return v === 1;
    this.fault(field, offset, safety, `${field} must be 0 or 1, got ${v}`);
    return placeholder;
  }

  temperature(field: string, offset: number, safety: boolean): number {
    const c = s16(this.words[offset]!) / 10;
    if (c >= MIN_PLAUSIBLE_C) return c;
    this.fault(field, offset, safety, `${field} ${c} °C is a sensor fault value (below ${MIN_PLAUSIBLE_C} °C)`);
    return Number.NaN;
  }

  state(offset: number): PortReading['state'] {
    const code = this.words[offset]!;
    const s = STATE_CODES[code];
    if (s !== undefined) return s;
    this.fault('state', offset, false, `unknown state code ${code}`);
    return 'unknown';
  }
}

/** The v1.0 cabinet block (0x00F0), field by field: shared by the charging and the swap codec. */
export function decodeStatusFields(words: readonly number[], faults: FieldFault[]): CabinetStatus {
  const r = new FieldReader(words, CABINET.address);
  const status: CabinetStatus = {
    mainsVoltage: words[CABINET.mainsVoltage]! / 10,
    mainsPresent: r.bool('mainsPresent', CABINET.mainsPresent, true, true),
    temperature: r.temperature('temperature', CABINET.temperature, true),
    smoke: r.bool('smoke', CABINET.smoke, true),
    doorOpen: r.bool('doorOpen', CABINET.doorOpen, false),
    fanOn: r.bool('fanOn', CABINET.fanOn, false),
    // Unknown reads as on, so a latched cut keeps being re-asserted: the safe mistake.
    powerOn: r.bool('powerOn', CABINET.powerOn, false, true),
    uptimeS: u32(words, CABINET.uptime),
  };
  faults.push(...r.faults);
  return status;
}

function decodePortFields(words: readonly number[], port: number, faults: FieldFault[]): PortReading {
  const r = new FieldReader(words, portBlockAddress(port), port);
  const reading: PortReading = {
    port,
    state: r.state(PORT.state),
    voltage: words[PORT.voltage]! / 10,
    // Every current value decodes; an absurd one trips over-current, the safe mistake.
    current: words[PORT.current]! / 100,
    power: words[PORT.power]!,
    energyWh: u32(words, PORT.energy),
    temperature: r.temperature('temperature', PORT.temperature, true),
    sessionId: u32(words, PORT.sessionId),
    faultCode: words[PORT.faultCode]!,
    powerLimit: words[PORT.powerLimit]!,
  };
  faults.push(...r.faults);
  return reading;
}

/** Decodes the answers to `pollPlan(portCount)`, field by field. Throws only when an answer has the wrong size. */
export function decodePollFields(portCount: number, answers: readonly (readonly number[])[]): DecodedPoll {
  const plan = pollPlan(portCount);
  const protocol = (m: string) => new GatehouseError('DEVICE_PROTOCOL', m);
  if (answers.length !== plan.length) throw protocol(`poll: expected ${plan.length} answers, got ${answers.length}`);
  const all: number[] = [];
  plan.forEach((r, i) => {
    const a = answers[i]!;
    if (a.length !== r.count) throw protocol(`poll read at 0x${r.address.toString(16)}: expected ${r.count} registers, got ${a.length}`);
    for (const w of a)
      if (!Number.isInteger(w) || w < 0 || w > 0xffff)
        throw protocol(`poll read at 0x${r.address.toString(16)}: a register is not a 16-bit word`);
    all.push(...a);
  });
  const faults: FieldFault[] = [];
  const status = decodeStatusFields(all.slice(0, CABINET.count), faults);
  const ports: PortReading[] = [];
  for (let p = 1; p <= portCount; p++) {
    const at = portBlockAddress(p) - CABINET.address;
    ports.push(decodePortFields(all.slice(at, at + PORT.stride), p, faults));
  }
  return { status, ports, faults };
}
