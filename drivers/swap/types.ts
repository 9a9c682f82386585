/**
 * Typed readings and commands of a battery-swap cabinet (register map v1.1, section 10),
 * independent of the transport. The swap family only ever sees these.
 */
import type { CabinetStatus } from '../cabinet/types.js';
import type { CHARGER_STATES, SUPPRESSION_STATES } from './register-map.js';

export type ChargerState = (typeof CHARGER_STATES)[number];
export type SuppressionState = (typeof SUPPRESSION_STATES)[number];

export interface SwapIdentity {
  vendor: string;
  model: string;
  serial: string;
  firmware: string;
  mapVersion: { major: number; minor: number };
  slotCount: number;
}

export interface SwapCabinetStatus extends CabinetStatus {
  suppression: SuppressionState;
}

export interface SlotReading {
  slot: number;
  doorLocked: boolean;
  doorOpen: boolean;
  present: boolean;
  /** 'unknown' when the register held a code outside the map (the slot's `invalid` names it). */
  charger: ChargerState | 'unknown';
  faultCode: number;
  /** %, volts, amps (positive = charging), °C (max cell), cycles, health %. */
  soc: number;
  voltage: number;
  current: number;
  temperature: number;
  cycles: number;
  health: number;
  /** BMS fault bits; any set means the pack is never issued. */
  bmsFaults: number;
  /** '' when no pack. */
  batteryId: string;
  energyWh: number;
  chargeEnabled: boolean;
  isolated: boolean;
  openRemainingS: number;
  /**
   * Fields whose register held a value the map cannot carry (drivers/swap/reading-decode.ts):
   * their value is a placeholder, and the slot is used for no swap while any is listed.
   */
  invalid?: string[];
}

export type SwapCommand =
  | { kind: 'open'; slot: number; timeoutS: number }
  | { kind: 'charge'; slot: number; enabled: boolean }
  | { kind: 'isolate'; slot: number }
  | { kind: 'release'; slot: number }
  | { kind: 'cabinetPower'; on: boolean }
  | { kind: 'suppress' };
