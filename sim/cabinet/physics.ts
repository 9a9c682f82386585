/**
 * Battery and heat physics of one simulated charging port. Pure: `stepPort` moves a port
 * forward by dt of simulated time, so tests can run an eight-hour charge in microseconds.
 *
 * An e-bike pack (13S Li-ion, 48 V nominal) charges constant-current until its voltage
 * reaches 54.6 V (about 85 % state of charge), then constant-voltage with the current
 * tapering, so power falls to near zero when full. That taper is what the gateway's full
 * detection (power under a threshold for N minutes) has to recognise.
 */
import type { PortState } from '../../drivers/cabinet/types.js';

export const PACK = { vEmpty: 42, vFull: 54.6, cvFromSoc: 0.85 } as const;
/** The charger's constant-current rating, A (about 190 W at full voltage). */
export const CHARGER_CURRENT_A = 3.5;
/** What a full pack still draws in constant voltage (self-discharge, BMS balancing). */
export const TRICKLE_A = 0.02;
/** Port heating, °C per W above ambient at equilibrium, and its time constant. */
export const PORT_HEAT_C_PER_W = 0.03;
export const PORT_TAU_MS = 120_000;
/** A shorted output: the current a failing charger pushes before anything trips. */
export const SHORT_CURRENT_A = 25;

export interface Battery {
  capacityWh: number;
  /** State of charge 0..1. */
  soc: number;
}

export interface SimPort {
  port: number;
  state: PortState;
  /** Present when something is plugged in. */
  battery: Battery | undefined;
  voltage: number;
  current: number;
  power: number;
  /** Fractional Wh, so short steps still add up; the register shows the floor. */
  energyWh: number;
  temperature: number;
  sessionId: number;
  faultCode: number;
  powerLimit: number;
  maxDurationMs: number;
  sessionMs: number;
  // injected faults
  overheatC: number;
  shorted: boolean;
}

export function newPort(port: number, ambient: number): SimPort {
  return {
    port,
    state: 'available',
    battery: undefined,
    voltage: 0,
    current: 0,
    power: 0,
    energyWh: 0,
    temperature: ambient,
    sessionId: 0,
    faultCode: 0,
    powerLimit: 0,
    maxDurationMs: 0,
    sessionMs: 0,
    overheatC: 0,
    shorted: false,
  };
}

export const outputOn = (p: SimPort): boolean => p.state === 'charging' || p.state === 'finishing';

/** The pack's terminal voltage while charging at state of charge `soc`. */
export function packVoltage(soc: number): number {
  return PACK.vEmpty + (PACK.vFull - PACK.vEmpty) * Math.min(1, soc / PACK.cvFromSoc);
}

/**
 * Advances one port by `dtMs`. Returns 'max_duration' when the session ran out of time (the
 * caller ends it as the cabinet would), otherwise undefined.
 */
export function stepPort(p: SimPort, dtMs: number, ambient: number): 'max_duration' | undefined {
  let ended: 'max_duration' | undefined;
  if (outputOn(p) && p.battery) {
    const b = p.battery;
    const limitA = p.powerLimit > 0 ? p.powerLimit / PACK.vFull : Infinity;
    const cc = Math.min(CHARGER_CURRENT_A, limitA);
    let v = packVoltage(b.soc);
    let i: number;
    if (b.soc < PACK.cvFromSoc) {
      i = cc;
      p.state = 'charging';
    } else {
      // Constant voltage: current falls as the pack fills, down to a trickle.
      i = Math.max(TRICKLE_A, cc * ((1 - b.soc) / (1 - PACK.cvFromSoc)));
      p.state = 'finishing';
    }
    if (p.shorted) {
      i = SHORT_CURRENT_A;
      v = 12;
    }
    p.voltage = v;
    p.current = i;
    p.power = v * i;
    const wh = (p.power * dtMs) / 3_600_000;
    p.energyWh += wh;
    if (!p.shorted) b.soc = Math.min(1, b.soc + wh / b.capacityWh);
    p.sessionMs += dtMs;
    if (p.maxDurationMs > 0 && p.sessionMs >= p.maxDurationMs) ended = 'max_duration';
  } else {
    p.voltage = 0;
    p.current = 0;
    p.power = 0;
  }
  const target = ambient + PORT_HEAT_C_PER_W * p.power + p.overheatC;
  p.temperature += (target - p.temperature) * (1 - Math.exp(-dtMs / PORT_TAU_MS));
  return ended;
}

/** Ends whatever session runs on the port: output off, back to `state`. */
export function endSession(p: SimPort, state: PortState, faultCode = 0): void {
  p.state = state;
  p.sessionId = 0;
  p.powerLimit = 0;
  p.maxDurationMs = 0;
  p.sessionMs = 0;
  p.faultCode = faultCode;
  p.voltage = 0;
  p.current = 0;
  p.power = 0;
}
