/**
 * The cabinet's side of the register map: readings -> register words, and control-block
 * words -> the command a cabinet must execute. The simulator answers with these, and the
 * unit tests round-trip them against the gateway-side decoders, so both sides of the map
 * are exercised by one set of numbers.
 *
 * Measurements saturate instead of failing (a real meter pegs at its range); control
 * words that the map does not allow come back as the Modbus exception the doc names.
 */
import {
  CABINET,
  CABINET_CONTROL,
  EXCEPTION,
  IDENTITY,
  MAP_VERSION,
  MAX_DURATION_MIN,
  PORT,
  PORT_COMMAND,
  PORT_CONTROL,
  SIGNATURE,
  STATE_CODES,
} from './register-map.js';
import { textWords } from './signature.js';
import type { CabinetCommand, CabinetIdentity, CabinetStatus, PortReading } from './types.js';

const clampU16 = (v: number): number => Math.max(0, Math.min(0xffff, Math.round(v)));
const clampS16 = (v: number): number => {
  const r = Math.max(-0x8000, Math.min(0x7fff, Math.round(v)));
  return r < 0 ? r + 0x10000 : r;
};
const u32Words = (v: number): [number, number] => {
  const x = Math.max(0, Math.min(0xffffffff, Math.floor(v))) >>> 0;
  return [x >>> 16, x & 0xffff];
};

export function encodeIdentity(id: Omit<CabinetIdentity, 'mapVersion'> & { mapVersion?: CabinetIdentity['mapVersion'] }): number[] {
  const w = new Array<number>(IDENTITY.count).fill(0);
  w[IDENTITY.signature] = SIGNATURE;
  w[IDENTITY.major] = id.mapVersion?.major ?? MAP_VERSION.major;
  w[IDENTITY.minor] = id.mapVersion?.minor ?? MAP_VERSION.minor;
  w[IDENTITY.portCount] = id.portCount;
  const put = (f: { offset: number; words: number }, s: string) => textWords(s, f.words).forEach((v, i) => (w[f.offset + i] = v));
  put(IDENTITY.vendor, id.vendor);
  put(IDENTITY.model, id.model);
  put(IDENTITY.serial, id.serial);
  put(IDENTITY.firmware, id.firmware);
  return w;
}

export function encodeStatus(s: CabinetStatus): number[] {
  const w = new Array<number>(CABINET.count).fill(0);
  w[CABINET.mainsVoltage] = clampU16(s.mainsVoltage * 10);
  w[CABINET.mainsPresent] = s.mainsPresent ? 1 : 0;
  w[CABINET.temperature] = clampS16(s.temperature * 10);
  w[CABINET.smoke] = s.smoke ? 1 : 0;
  w[CABINET.doorOpen] = s.doorOpen ? 1 : 0;
  w[CABINET.fanOn] = s.fanOn ? 1 : 0;
  w[CABINET.powerOn] = s.powerOn ? 1 : 0;
  [w[CABINET.uptime], w[CABINET.uptime + 1]] = u32Words(s.uptimeS ?? 0);
  return w;
}

export function encodePort(r: PortReading): number[] {
  const w = new Array<number>(PORT.stride).fill(0);
  w[PORT.state] = r.state === 'unknown' ? 0xffff : STATE_CODES.indexOf(r.state);
  w[PORT.voltage] = clampU16(r.voltage * 10);
  w[PORT.current] = clampU16(r.current * 100);
  w[PORT.power] = clampU16(r.power);
  [w[PORT.energy], w[PORT.energy + 1]] = u32Words(r.energyWh);
  w[PORT.temperature] = clampS16(r.temperature * 10);
  [w[PORT.sessionId], w[PORT.sessionId + 1]] = u32Words(r.sessionId);
  w[PORT.faultCode] = clampU16(r.faultCode);
  w[PORT.powerLimit] = clampU16(r.powerLimit);
  return w;
}

export type ControlDecoded = { ok: true; command: CabinetCommand } | { ok: false; exception: number; message: string };

const illegalValue = (message: string): ControlDecoded => ({ ok: false, exception: EXCEPTION.illegalValue, message });

/** What a write of `value` to the cabinet command register (0x1000) asks for. */
export function decodeCabinetControl(value: number): ControlDecoded {
  if (value === CABINET_CONTROL.powerCut) return { ok: true, command: { kind: 'cabinetPower', on: false } };
  if (value === CABINET_CONTROL.powerOn) return { ok: true, command: { kind: 'cabinetPower', on: true } };
  return illegalValue(`unknown cabinet command ${value}`);
}

/** What the command register of a port control block asks for, with the staged parameters (8 words). */
export function decodePortControl(port: number, words: readonly number[]): ControlDecoded {
  const code = words[PORT_CONTROL.command] ?? 0;
  switch (code) {
    case PORT_COMMAND.start: {
      const sessionId = (words[PORT_CONTROL.sessionId] ?? 0) * 0x10000 + (words[PORT_CONTROL.sessionId + 1] ?? 0);
      const maxDurationMin = words[PORT_CONTROL.maxDuration] ?? 0;
      if (sessionId === 0) return illegalValue('start needs a session id other than 0');
      if (maxDurationMin < 1 || maxDurationMin > MAX_DURATION_MIN)
        return illegalValue(`max duration ${maxDurationMin} is outside 1-${MAX_DURATION_MIN}`);
      return { ok: true, command: { kind: 'start', port, sessionId, powerLimitW: words[PORT_CONTROL.powerLimit] ?? 0, maxDurationMin } };
    }
    case PORT_COMMAND.stop:
      return { ok: true, command: { kind: 'stop', port } };
    case PORT_COMMAND.setLimit:
      return { ok: true, command: { kind: 'setLimit', port, powerLimitW: words[PORT_CONTROL.powerLimit] ?? 0 } };
    case PORT_COMMAND.enable:
      return { ok: true, command: { kind: 'enable', port, enabled: true } };
    case PORT_COMMAND.disable:
      return { ok: true, command: { kind: 'enable', port, enabled: false } };
    default:
      return illegalValue(`unknown port command ${code}`);
  }
}
