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
import type { GatehouseError } from '../../gateway/core/errors.js';
import {
  CABINET,
  CABINET_CONTROL,
  FC,
  IDENTITY,
  MAX_DURATION_MIN,
  MAX_PORTS,
  MAX_READ_REGISTERS,
  PORT,
  PORT_COMMAND,
  PORT_CONTROL,
  STATE_CODES,
  portBlockAddress,
  portControlAddress,
} from './register-map.js';
import { bool, checkWords, decodeSignature, invalid, protocol, s16, u32, type RegisterRead, type RegisterWrite } from './signature.js';
import type { CabinetCommand, CabinetIdentity, CabinetStatus, PortReading } from './types.js';

export type { RegisterRead, RegisterWrite };

// ---- decoding (gateway side) ------------------------------------------------------

export function decodeIdentity(words: readonly number[]): CabinetIdentity {
  const sig = decodeSignature(words);
  if (sig.portCount < 1 || sig.portCount > MAX_PORTS) throw protocol(`port count ${sig.portCount} is outside 1-${MAX_PORTS}`);
  return sig;
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
