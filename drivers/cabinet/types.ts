/**
 * Typed readings and commands of an e-bike charging cabinet, independent of the register
 * map that carries them (docs/cabinet-register-map.md) and of the transport (Modbus RTU or
 * TCP). The codec turns register blocks into these; the safety logic and the charging
 * sessions only ever see these.
 */

export const PORT_STATES = ['available', 'plugged', 'charging', 'finishing', 'fault', 'disabled'] as const;
export type PortState = (typeof PORT_STATES)[number];
/** A port whose state register held a code outside the map: its other fields still count. */
export type PortStateRead = PortState | 'unknown';

export interface CabinetIdentity {
  vendor: string;
  model: string;
  serial: string;
  firmware: string;
  /** Register map version the cabinet implements, major.minor. */
  mapVersion: { major: number; minor: number };
  portCount: number;
}

export interface CabinetStatus {
  /** Mains RMS voltage, volts. */
  mainsVoltage: number;
  mainsPresent: boolean;
  /** Cabinet internal temperature, °C. */
  temperature: number;
  smoke: boolean;
  doorOpen: boolean;
  fanOn: boolean;
  /** The cabinet's own main contactor: false when power to every port is cut. */
  powerOn: boolean;
  /** Seconds since the cabinet controller started (register map 1.0); a drop means it rebooted. */
  uptimeS?: number;
}

export interface PortReading {
  port: number;
  state: PortStateRead;
  /** Volts, amps, watts. */
  voltage: number;
  current: number;
  power: number;
  /** Energy meter of the port, Wh, monotonic 32-bit. */
  energyWh: number;
  /** °C; NaN when the register held a sensor-fault value (see FieldFault). */
  temperature: number;
  /** Session id written by the gateway at start (0 when none). */
  sessionId: number;
  /** Vendor fault code, 0 = none. */
  faultCode: number;
  /** Power limit in force, watts (0 = none). */
  powerLimit: number;
}

/**
 * One register whose value the map cannot carry (a boolean holding 2, an unknown state code,
 * a temperature sensor's fault value). Only that field is invalid; `safety` says whether it
 * is one the interlocks need (smoke, cabinet temperature, mains, port current/temperature).
 */
export interface FieldFault {
  /** `smoke`, `temperature`, `mainsPresent`, `port3.state`, `port3.temperature`... */
  field: string;
  /** Protocol address of the register. */
  address: number;
  raw: number;
  safety: boolean;
  port?: number;
  message: string;
}

export interface CabinetReading {
  cabinet: string;
  /** Monotonic ms when the poll completed. */
  at: number;
  status: CabinetStatus;
  ports: PortReading[];
  /** Fields that could not be decoded; their value in `status`/`ports` is a placeholder (NaN, false, 'unknown'). */
  faults?: FieldFault[];
}

export type CabinetCommand =
  | { kind: 'start'; port: number; sessionId: number; powerLimitW: number; maxDurationMin: number }
  | { kind: 'stop'; port: number }
  | { kind: 'setLimit'; port: number; powerLimitW: number }
  | { kind: 'enable'; port: number; enabled: boolean }
  | { kind: 'cabinetPower'; on: boolean };

/** Why a session stopped (OCPP 1.6 StopTransaction reasons, adapted to cabinets). */
export const STOP_REASONS = [
  'full',
  'remote',
  'unplugged',
  'over_temperature',
  'over_current',
  'smoke',
  'unsupervised',
  'mains_loss',
  'max_duration',
  'fault',
  'local',
  'reboot',
] as const;
export type StopReason = (typeof STOP_REASONS)[number];
