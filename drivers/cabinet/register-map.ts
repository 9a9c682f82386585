/**
 * Addresses, strides and codes of the cabinet register map v1.0, transcribed from
 * docs/cabinet-register-map.md. Everything that reads or writes a cabinet (codec,
 * simulator, tests) takes its numbers from here, so the doc and the code can only drift
 * in one place.
 */
import type { PortState } from './types.js';

export const MAP_VERSION = { major: 1, minor: 0 } as const;
/** "GC": tells a Gatehouse cabinet from any other Modbus device on the bus. */
export const SIGNATURE = 0x4743;
export const MAX_PORTS = 24;
/** The Modbus limit on registers in one FC 03/04 request. */
export const MAX_READ_REGISTERS = 125;
/** The Modbus limit on registers in one FC 16 request. */
export const MAX_WRITE_REGISTERS = 123;

export const FC = { readHolding: 3, readInput: 4, writeSingle: 6, writeMultiple: 16 } as const;

export const IDENTITY = {
  address: 0x0000,
  count: 32,
  signature: 0,
  major: 1,
  minor: 2,
  portCount: 3,
  vendor: { offset: 4, words: 8 },
  model: { offset: 12, words: 8 },
  serial: { offset: 20, words: 8 },
  firmware: { offset: 28, words: 4 },
} as const;

export const CABINET = {
  address: 0x00f0,
  count: 16,
  mainsVoltage: 0,
  mainsPresent: 1,
  temperature: 2,
  smoke: 3,
  doorOpen: 4,
  fanOn: 5,
  powerOn: 6,
  uptime: 7, // u32, 7-8
} as const;

export const PORT = {
  base: 0x0100,
  stride: 16,
  state: 0,
  voltage: 1,
  current: 2,
  power: 3,
  energy: 4, // u32, 4-5
  temperature: 6,
  sessionId: 7, // u32, 7-8
  faultCode: 9,
  powerLimit: 10,
} as const;

export const CABINET_CONTROL = { address: 0x1000, powerCut: 1, powerOn: 2 } as const;

export const PORT_CONTROL = {
  base: 0x1100,
  stride: 8,
  sessionId: 0, // u32, 0-1
  powerLimit: 2,
  maxDuration: 3,
  command: 4,
} as const;

export const PORT_COMMAND = { start: 1, stop: 2, setLimit: 3, enable: 4, disable: 5 } as const;

/** State code on the wire = index in this list (doc section 4). */
export const STATE_CODES: readonly PortState[] = ['available', 'plugged', 'charging', 'finishing', 'fault', 'disabled'];

export const FAULT_CODES = {
  none: 0,
  overTemperature: 1,
  overCurrent: 2,
  earthLeakage: 3,
  relayWelded: 4,
  chargerSilent: 5,
  mainsLost: 6,
} as const;

/** Modbus exception codes as the map uses them (doc section 5.3). */
export const EXCEPTION = { illegalFunction: 1, illegalAddress: 2, illegalValue: 3, refusedInState: 4, busy: 6 } as const;

export const MAX_DURATION_MIN = 1440;

export function portBlockAddress(port: number): number {
  return PORT.base + (port - 1) * PORT.stride;
}

export function portControlAddress(port: number): number {
  return PORT_CONTROL.base + (port - 1) * PORT_CONTROL.stride;
}
