/**
 * The swap cabinet's local interlocks, as pure functions of a reading (no I/O, no uplink):
 * which slots to isolate for heat, and whether the cabinet is on fire. The unit (swap-unit.ts)
 * writes what these decide to the bus at high priority before it records anything.
 */
import type { SlotReading, SwapCabinetStatus } from '../../drivers/swap/types.js';
import type { SwapSafetyConfig } from '../../config/swap-schema.js';

export interface ThermalTrip {
  slot: number;
  cause: 'limit' | 'rise';
  /** °C or °C/min. */
  value: number;
}

/** Per slot, the last pack temperature and when (monotonic ms): the rise rate's baseline. */
export type TempHistory = Map<number, { at: number; c: number; id: string }>;

/**
 * Slots whose pack is at or above the limit, or heats faster than the rise limit since the
 * previous reading of the same pack. Already isolated slots are skipped. Updates `history`.
 */
export function thermalTrips(
  slots: readonly SlotReading[],
  at: number,
  history: TempHistory,
  isolated: ReadonlySet<number>,
  safety: SwapSafetyConfig,
): ThermalTrip[] {
  const trips: ThermalTrip[] = [];
  for (const s of slots) {
    const prev = history.get(s.slot);
    if (!s.present) {
      history.delete(s.slot);
      continue;
    }
    history.set(s.slot, { at, c: s.temperature, id: s.batteryId });
    if (isolated.has(s.slot)) continue;
    if (s.temperature >= safety.packMaxTempC) {
      trips.push({ slot: s.slot, cause: 'limit', value: s.temperature });
      continue;
    }
    // The rise of the same pack over at least 200 ms (two readings a poll apart).
    if (prev && prev.id === s.batteryId && at - prev.at >= 200) {
      const perMin = ((s.temperature - prev.c) * 60_000) / (at - prev.at);
      if (perMin > safety.packMaxRiseCPerMin) trips.push({ slot: s.slot, cause: 'rise', value: Math.round(perMin * 10) / 10 });
    }
  }
  return trips;
}

export type FireCause = 'smoke' | 'over_temperature';

export function fireCause(status: SwapCabinetStatus, safety: SwapSafetyConfig): FireCause | undefined {
  if (status.smoke) return 'smoke';
  if (status.temperature >= safety.cabinetMaxTempC) return 'over_temperature';
  return undefined;
}

/** Why a returned pack is refused (kept locked for inspection), or undefined to accept it. */
export function rejection(
  s: SlotReading,
  known: (id: string) => boolean,
  safety: SwapSafetyConfig,
): 'foreign' | 'bms_fault' | 'too_hot' | 'no_id' | undefined {
  if (!s.batteryId) return 'no_id';
  if (s.bmsFaults !== 0) return 'bms_fault';
  if (s.temperature > safety.acceptMaxTempC) return 'too_hot';
  if (!known(s.batteryId)) return 'foreign';
  return undefined;
}

/** The fullest healthy pack that may be issued: no BMS or slot fault, not isolated, not too hot, charged enough. */
export function fullestHealthy(
  slots: readonly SlotReading[],
  isolated: ReadonlySet<number>,
  minSoc: number,
  safety: SwapSafetyConfig,
  except?: number,
): SlotReading | undefined {
  let best: SlotReading | undefined;
  for (const s of slots) {
    if (!s.present || s.slot === except || isolated.has(s.slot) || s.isolated) continue;
    if (s.bmsFaults !== 0 || s.faultCode !== 0 || s.charger === 'fault' || s.temperature > safety.acceptMaxTempC) continue;
    if (s.soc < minSoc || !s.doorLocked || s.doorOpen) continue;
    if (!best || s.soc > best.soc) best = s;
  }
  return best;
}

/** An empty slot for a returned pack: closed, locked, no fault, not isolated. */
export function emptySlot(slots: readonly SlotReading[], isolated: ReadonlySet<number>): SlotReading | undefined {
  return slots.find((s) => !s.present && !s.isolated && !isolated.has(s.slot) && s.faultCode === 0 && s.doorLocked && !s.doorOpen);
}
