/**
 * Battery packs in a simulated swap cabinet: a lithium e-bike pack's charging curve
 * (constant current to 80 %, then a taper to full) and its temperature (heated by charging
 * losses, cooled towards the cabinet air), plus thermal runaway: once triggered the pack
 * heats on its own, faster and faster, whatever the charger does.
 */
export interface SimPack {
  id: string;
  capacityWh: number;
  /** 0..1 */
  soc: number;
  temperature: number;
  cycles: number;
  health: number;
  bmsFaults: number;
  /** Self-heating rate in °C/s once thermal runaway started (0 = none). */
  runawayCPerS: number;
}

/** 0.5 C charge power in the constant-current phase; charging losses as heat. */
const CC_C_RATE = 0.5;
const CV_FROM_SOC = 0.8;
const HEAT_C_PER_W = 0.12;
const COOL_TAU_MS = 300_000;

export function newPack(p: Partial<SimPack> & { id: string }): SimPack {
  return { capacityWh: 960, soc: 0.9, temperature: 22, cycles: 120, health: 95, bmsFaults: 0, runawayCPerS: 0, ...p };
}

/** Pack voltage of a 13-cell (48 V) lithium-ion pack: 39 V empty to 54.6 V full. */
export function packVoltage(p: SimPack): number {
  return 39 + 15.6 * p.soc;
}

/** Charge power the charger delivers now, in W (0 when full). */
export function chargePower(p: SimPack): number {
  if (p.soc >= 1) return 0;
  const cc = p.capacityWh * CC_C_RATE;
  return p.soc < CV_FROM_SOC ? cc : cc * Math.max(0.05, (1 - p.soc) / (1 - CV_FROM_SOC));
}

/** Advances one pack by `dtMs`; returns the power it drew. */
export function stepPack(p: SimPack, dtMs: number, charging: boolean, ambientC: number): number {
  const power = charging ? chargePower(p) : 0;
  if (power > 0) {
    p.soc = Math.min(1, p.soc + (power * dtMs) / 3_600_000 / p.capacityWh);
    if (p.soc >= 1) p.cycles += 1;
  }
  const target = ambientC + HEAT_C_PER_W * power * 0.1;
  p.temperature += (target - p.temperature) * (1 - Math.exp(-dtMs / COOL_TAU_MS));
  if (p.runawayCPerS > 0) {
    p.temperature += (p.runawayCPerS * dtMs) / 1000;
    // Runaway feeds itself: every second it heats 20 % faster.
    p.runawayCPerS *= Math.pow(1.2, dtMs / 1000);
  }
  return power;
}
