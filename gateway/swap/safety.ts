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

/** Per slot, the pack's recent temperatures (monotonic ms, °C, oldest first): the rise rate's baseline. */
export type TempHistory = Map<number, { id: string; samples: { at: number; c: number }[] }>;

/** Samples older than this are dropped: the rise is measured over at most the last minute. */
const HISTORY_MS = 60_000;

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
    if (!s.present) {
      history.delete(s.slot);
      continue;
    }
    // An unreadable temperature (NaN) is no sample: it would poison the rise for a minute.
    if (Number.isNaN(s.temperature)) continue;
    let h = history.get(s.slot);
    if (!h || h.id !== s.batteryId) history.set(s.slot, (h = { id: s.batteryId, samples: [] }));
    h.samples.push({ at, c: s.temperature });
    while (h.samples.length > 1 && at - h.samples[0]!.at > HISTORY_MS) h.samples.shift();
    if (isolated.has(s.slot)) continue;
    if (s.temperature >= safety.packMaxTempC) {
      trips.push({ slot: s.slot, cause: 'limit', value: s.temperature });
      continue;
    }
    // Over at least packRiseWindowS, so the register's 0.1 °C steps are not read as a runaway.
    const first = h.samples[0]!;
    if (at - first.at >= safety.packRiseWindowS * 1000) {
      const perMin = ((s.temperature - first.c) * 60_000) / (at - first.at);
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
    if (!s.present || s.slot === except || isolated.has(s.slot) || s.isolated || s.invalid) continue;
    if (s.bmsFaults !== 0 || s.faultCode !== 0 || s.charger === 'fault' || s.temperature > safety.acceptMaxTempC) continue;
    if (s.soc < minSoc || !s.doorLocked || s.doorOpen) continue;
    if (!best || s.soc > best.soc) best = s;
  }
  return best;
}

/** An empty slot for a returned pack: closed, locked, no fault, not isolated. */
export function emptySlot(slots: readonly SlotReading[], isolated: ReadonlySet<number>): SlotReading | undefined {
  return slots.find(
    (s) => !s.present && !s.isolated && !isolated.has(s.slot) && !s.invalid && s.faultCode === 0 && s.doorLocked && !s.doorOpen,
  );
}
