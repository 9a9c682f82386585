/**
 * The cabinet codec: register words <-> typed readings and commands, per the register map
 * v1.0 (docs/cabinet-register-map.md). Pure functions, no I/O: the driver feeds them the
 * words a Modbus read returned and writes what they produce; the simulator uses the
 * inverse functions to answer.
 *
 * A cabinet that sends something outside the map (an unknown state code, a boolean that is
 * 7, a wrong signature) gets a DEVICE_PROTOCOL error, never a guessed value: the safety
 * logic must not act on a reading it cannot trust. A command with a value the map cannot
 * carry is CMD_INVALID before anything goes on the wire.
 */
import { GatehouseError } from '../../gateway/core/errors.js';
import {
  CABINET,
  CABINET_CONTROL,
  FC,
  IDENTITY,
  MAP_VERSION,
  MAX_DURATION_MIN,
  MAX_PORTS,
  MAX_READ_REGISTERS,
  PORT,
  PORT_COMMAND,
  PORT_CONTROL,
  SIGNATURE,
  STATE_CODES,
  portBlockAddress,
  portControlAddress,
} from './register-map.js';
import type { CabinetCommand, CabinetIdentity, CabinetStatus, PortReading } from './types.js';

export interface RegisterRead {
  fc: 3 | 4;
  address: number;
  count: number;
}

export interface RegisterWrite {
  /** 6 for a single register, 16 for several. */
  fc: 6 | 16;
  address: number;
  values: number[];
}

const protocol = (message: string, details?: Record<string, unknown>): GatehouseError =>
  new GatehouseError('DEVICE_PROTOCOL', message, details);
const invalid = (message: string, details?: Record<string, unknown>): GatehouseError => new GatehouseError('CMD_INVALID', message, details);

function checkWords(words: readonly number[], count: number, what: string): void {
  if (words.length !== count) throw protocol(`${what}: expected ${count} registers, got ${words.length}`);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (!Number.isInteger(w) || w < 0 || w > 0xffff) throw protocol(`${what}: register ${i} is not a 16-bit word`, { index: i });
  }
}

const u32 = (w: readonly number[], i: number): number => w[i]! * 0x10000 + w[i + 1]!;
const s16 = (v: number): number => (v >= 0x8000 ? v - 0x10000 : v);

function bool(w: readonly number[], i: number, what: string): boolean {
  const v = w[i]!;
  if (v !== 0 && v !== 1) throw protocol(`${what} must be 0 or 1, got ${v}`);
  return v === 1;
}

function text(w: readonly number[], offset: number, words: number, what: string): string {
  let s = '';
  let ended = false;
  for (let i = offset; i < offset + words; i++) {
    for (const c of [w[i]! >> 8, w[i]! & 0xff]) {
      if (c === 0) {
        ended = true;
        continue;
      }
      // Text after a NUL or outside printable ASCII would be shown to installers as garbage.
      if (ended || c < 0x20 || c > 0x7e) throw protocol(`${what} is not NUL-padded printable ASCII`);
      s += String.fromCharCode(c);
    }
  }
  return s;
}

// ---- decoding (gateway side) ------------------------------------------------------

export function decodeIdentity(words: readonly number[]): CabinetIdentity {
  checkWords(words, IDENTITY.count, 'identity block');
  if (words[IDENTITY.signature] !== SIGNATURE)
    throw protocol('not a Gatehouse cabinet (signature at 0x0000 is not 0x4743)', { signature: words[IDENTITY.signature] });
  const major = words[IDENTITY.major]!;
  const minor = words[IDENTITY.minor]!;
  // A new minor only adds registers we do not read; a new major may move the ones we do.
  if (major !== MAP_VERSION.major)
    throw protocol(`register map ${major}.${minor} is not supported (this gateway reads ${MAP_VERSION.major}.x)`, { major, minor });
  const portCount = words[IDENTITY.portCount]!;
  if (portCount < 1 || portCount > MAX_PORTS) throw protocol(`port count ${portCount} is outside 1-${MAX_PORTS}`);
  return {
    vendor: text(words, IDENTITY.vendor.offset, IDENTITY.vendor.words, 'vendor'),
    model: text(words, IDENTITY.model.offset, IDENTITY.model.words, 'model'),
    serial: text(words, IDENTITY.serial.offset, IDENTITY.serial.words, 'serial'),
    firmware: text(words, IDENTITY.firmware.offset, IDENTITY.firmware.words, 'firmware'),
    mapVersion: { major, minor },
    portCount,
  };
}

export function decodeStatus(words: readonly number[]): CabinetStatus {
  checkWords(words, CABINET.count, 'cabinet block');
  return {
    mainsVoltage: words[CABINET.mainsVoltage]! / 10,
    mainsPresent: bool(words, CABINET.mainsPresent, 'mains present'),
    temperature: s16(words[CABINET.temperature]!) / 10,
    smoke: bool(words, CABINET.smoke, 'smoke'),
    doorOpen: bool(words, CABINET.doorOpen, 'door open'),
    fanOn: bool(words, CABINET.fanOn, 'fan on'),
    powerOn: bool(words, CABINET.powerOn, 'power on'),
    uptimeS: u32(words, CABINET.uptime),
  };
}

export function decodePort(words: readonly number[], port: number): PortReading {
  checkPort(port, MAX_PORTS, protocol);
  checkWords(words, PORT.stride, `port ${port} block`);
  const code = words[PORT.state]!;
  const state = STATE_CODES[code];
  if (state === undefined) throw protocol(`port ${port}: unknown state code ${code}`, { port, code });
  return {
    port,
    state,
    voltage: words[PORT.voltage]! / 10,
    current: words[PORT.current]! / 100,
    power: words[PORT.power]!,
    energyWh: u32(words, PORT.energy),
    temperature: s16(words[PORT.temperature]!) / 10,
    sessionId: u32(words, PORT.sessionId),
    faultCode: words[PORT.faultCode]!,
    powerLimit: words[PORT.powerLimit]!,
  };
}

/** The identification read, done once per connection. */
export function identityRead(): RegisterRead {
  return { fc: FC.readInput, address: IDENTITY.address, count: IDENTITY.count };
}

/**
 * The reads of one full poll: the cabinet block and every port block as one contiguous
 * range, cut into requests of whole 16-register blocks (7 blocks = 112 ≤ 125 registers),
 * so a 12-port cabinet costs 2 requests and a 24-port one 4.
 */
export function pollPlan(portCount: number): RegisterRead[] {
  checkPort(portCount, MAX_PORTS, invalid);
  const blocksPerRead = Math.floor(MAX_READ_REGISTERS / PORT.stride);
  const totalBlocks = 1 + portCount; // the cabinet block is 16 registers too
  const reads: RegisterRead[] = [];
  for (let b = 0; b < totalBlocks; b += blocksPerRead) {
    const n = Math.min(blocksPerRead, totalBlocks - b);
    reads.push({ fc: FC.readInput, address: CABINET.address + b * PORT.stride, count: n * PORT.stride });
  }
  return reads;
}

/** Splits the answers to `pollPlan(portCount)` (in the same order) into readings. */
export function decodePoll(portCount: number, answers: readonly (readonly number[])[]): { status: CabinetStatus; ports: PortReading[] } {
  const plan = pollPlan(portCount);
  if (answers.length !== plan.length) throw protocol(`poll: expected ${plan.length} answers, got ${answers.length}`);
  const all: number[] = [];
  plan.forEach((r, i) => {
    const a = answers[i]!;
    if (a.length !== r.count) throw protocol(`poll read at 0x${r.address.toString(16)}: expected ${r.count} registers, got ${a.length}`);
    all.push(...a);
  });
  const status = decodeStatus(all.slice(0, CABINET.count));
  const ports: PortReading[] = [];
  for (let p = 1; p <= portCount; p++) {
    const at = portBlockAddress(p) - CABINET.address;
    ports.push(decodePort(all.slice(at, at + PORT.stride), p));
  }
  return { status, ports };
}

// ---- commands (gateway side) ------------------------------------------------------

function checkPort(port: number, max: number, err: (m: string) => GatehouseError): void {
  if (!Number.isInteger(port) || port < 1 || port > max) throw err(`port ${port} is outside 1-${max}`);
}

function checkInt(v: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < min || v > max) throw invalid(`${what} must be an integer ${min}-${max}, got ${v}`, { [what]: v });
}

/**
 * The register writes that carry one command. Each command is a single Modbus request, so
 * parameters and command arrive together and a lost request cannot leave half a start.
 * `portCount` (when known from the identity) rejects ports the cabinet does not have.
 */
export function encodeCommand(cmd: CabinetCommand, portCount: number = MAX_PORTS): RegisterWrite[] {
  if (cmd.kind === 'cabinetPower') {
    return [
      { fc: FC.writeSingle, address: CABINET_CONTROL.address, values: [cmd.on ? CABINET_CONTROL.powerOn : CABINET_CONTROL.powerCut] },
    ];
  }
  checkPort(cmd.port, Math.min(portCount, MAX_PORTS), invalid);
  const base = portControlAddress(cmd.port);
  switch (cmd.kind) {
    case 'start':
      checkInt(cmd.sessionId, 1, 0xffffffff, 'sessionId');
      checkInt(cmd.powerLimitW, 0, 0xffff, 'powerLimitW');
      checkInt(cmd.maxDurationMin, 1, MAX_DURATION_MIN, 'maxDurationMin');
      return [
        {
          fc: FC.writeMultiple,
          address: base,
          values: [Math.floor(cmd.sessionId / 0x10000), cmd.sessionId & 0xffff, cmd.powerLimitW, cmd.maxDurationMin, PORT_COMMAND.start],
        },
      ];
    case 'stop':
      return [{ fc: FC.writeSingle, address: base + PORT_CONTROL.command, values: [PORT_COMMAND.stop] }];
    case 'setLimit':
      checkInt(cmd.powerLimitW, 0, 0xffff, 'powerLimitW');
      return [{ fc: FC.writeMultiple, address: base + PORT_CONTROL.powerLimit, values: [cmd.powerLimitW, 0, PORT_COMMAND.setLimit] }];
    case 'enable':
      return [
        { fc: FC.writeSingle, address: base + PORT_CONTROL.command, values: [cmd.enabled ? PORT_COMMAND.enable : PORT_COMMAND.disable] },
      ];
  }
}

export { encodeIdentity, encodeStatus, encodePort, decodePortControl, decodeCabinetControl } from './registers-encode.js';
