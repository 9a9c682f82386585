/**
 * The swap cabinet's interlock decisions (gateway/swap/safety.ts), pure functions of a
 * reading: which pack is issued (never a BMS-faulted, isolated, hot or flat one), why a
 * returned pack is refused, and when a pack's heating counts as a runaway onset.
 */
import { describe, expect, it } from 'vitest';
import { SwapSafetyConfig } from '../../config/swap-schema.js';
import type { SlotReading } from '../../drivers/swap/types.js';
import { emptySlot, fireCause, fullestHealthy, rejection, thermalTrips, type TempHistory } from '../../gateway/swap/safety.js';

const safety = SwapSafetyConfig.parse({});
const slot = (n: number, over: Partial<SlotReading> = {}): SlotReading => ({
  slot: n,
  doorLocked: true,
  doorOpen: false,
  present: true,
  charger: 'full',
  faultCode: 0,
  soc: 90,
  voltage: 54,
  current: 0,
  temperature: 25,
  cycles: 10,
  health: 95,
  bmsFaults: 0,
  batteryId: `GH-${n}`,
  energyWh: 960,
  chargeEnabled: true,
  isolated: false,
  openRemainingS: 0,
  ...over,
});

describe('swap safety decisions', () => {
  it('issues the fullest healthy pack, never a BMS-faulted, isolated, hot, flat or open one', () => {
    const slots = [
      slot(1, { soc: 100, bmsFaults: 0b100 }),
      slot(2, { soc: 99, isolated: true }),
      slot(3, { soc: 98 }),
      slot(4, { soc: 97, temperature: 50 }),
      slot(5, { soc: 96, doorLocked: false }),
      slot(6, { soc: 95, faultCode: 1 }),
      slot(7, { soc: 85 }),
      slot(8, { soc: 70 }),
    ];
    expect(fullestHealthy(slots, new Set(), 80, safety)?.slot).toBe(3);
    expect(fullestHealthy(slots, new Set([3]), 80, safety)?.slot).toBe(7);
    expect(fullestHealthy(slots, new Set([3, 7]), 80, safety)).toBeUndefined();
    expect(fullestHealthy(slots, new Set(), 80, safety, 3)?.slot).toBe(7);
  });

  it('refuses a returned pack that is foreign, BMS-faulted, too hot or without an id', () => {
    const known = (id: string) => id.startsWith('GH-');
    expect(rejection(slot(1), known, safety)).toBeUndefined();
    expect(rejection(slot(1, { batteryId: 'XX-1' }), known, safety)).toBe('foreign');
    expect(rejection(slot(1, { bmsFaults: 1 }), known, safety)).toBe('bms_fault');
    expect(rejection(slot(1, { temperature: 46 }), known, safety)).toBe('too_hot');
    expect(rejection(slot(1, { batteryId: '' }), known, safety)).toBe('no_id');
  });

  it('trips on the limit at once, and on the rise only over packRiseWindowS (0.1 °C steps are not a runaway)', () => {
    const h: TempHistory = new Map();
    const at = (ms: number, c: number) => thermalTrips([slot(1, { temperature: c })], ms, h, new Set(), safety);
    expect(at(0, 25)).toEqual([]);
    expect(at(100, 25.1)).toEqual([]); // 60 °C/min over 100 ms, but shorter than the 5 s window
    expect(at(5000, 25.2)).toEqual([]); // 2.4 °C/min over the window: under 3
    expect(at(10_000, 26)).toEqual([{ slot: 1, cause: 'rise', value: 6 }]); // 1 °C in 10 s
    // Isolated slots are not tripped again; the limit trips without any history.
    expect(thermalTrips([slot(1, { temperature: 80 })], 10_100, h, new Set([1]), safety)).toEqual([]);
    expect(thermalTrips([slot(2, { temperature: 55 })], 0, new Map(), new Set(), safety)).toEqual([{ slot: 2, cause: 'limit', value: 55 }]);
  });

  it('finds an empty closed slot, and fire on smoke or cabinet over-temperature', () => {
    expect(emptySlot([slot(1), slot(2, { present: false, doorLocked: false }), slot(3, { present: false })], new Set())?.slot).toBe(3);
    expect(emptySlot([slot(3, { present: false })], new Set([3]))).toBeUndefined();
    const st = {
      mainsVoltage: 230,
      mainsPresent: true,
      temperature: 30,
      smoke: false,
      doorOpen: false,
      fanOn: false,
      powerOn: true,
      suppression: 'ready' as const,
    };
    expect(fireCause(st, safety)).toBeUndefined();
    expect(fireCause({ ...st, smoke: true }, safety)).toBe('smoke');
    expect(fireCause({ ...st, temperature: 55 }, safety)).toBe('over_temperature');
  });
});
