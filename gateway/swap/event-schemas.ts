/**
 * Battery-swap cabinet events. The `data` schemas (zod) are declared once: `record()` is
 * typed by them and `npm run docs` generates docs/asyncapi.yaml from them.
 */
import { z } from 'zod';
import { Id } from '../events/common-schemas.js';
import { eventList, example, type EventExample } from '../events/declare.js';

export const SwapSlot = z.int().min(1).max(24).meta({ id: 'SwapSlot' });
const BatteryId = z.string().min(1).max(16).meta({ description: "The pack's id as its BMS reports it (register map 10.3)." });
export const SwapPack = z
  .strictObject({
    slot: SwapSlot,
    batteryId: BatteryId,
    soc: z.int().min(0).max(100).meta({ description: 'State of charge, %.' }),
    energyWh: z.int().min(0).meta({ description: 'Energy in the pack now: SoC × its nominal energy, Wh.' }),
  })
  .meta({ id: 'SwapPack' });
export const SwapStartedData = z
  .strictObject({
    cabinet: Id,
    swapId: z.int().min(1),
    slot: SwapSlot.meta({ description: 'The empty slot opened for the returned pack.' }),
    authorizedBy: z.enum(['reader', 'platform']),
    principal: z
      .string()
      .max(120)
      .meta({ description: 'Credential holder (reader) or command principal; never a card number.' })
      .optional(),
  })
  .meta({ id: 'SwapStartedData' });
export const SwapCompletedData = z
  .strictObject({
    cabinet: Id,
    swapId: z.int().min(1),
    returned: SwapPack,
    issued: SwapPack,
    energyWh: z.int().meta({ description: 'Energy the rider took: issued minus returned, Wh.' }),
    durationS: z.int().min(0),
  })
  .meta({ id: 'SwapCompletedData' });
export const SwapAbortReason = z
  .enum(['timeout', 'no_full_battery', 'rejected_pack', 'door_not_closed', 'cancelled', 'fire', 'restart'])
  .meta({ id: 'SwapAbortReason' });
export const SwapAbortedData = z
  .strictObject({
    cabinet: Id,
    swapId: z.int().min(1),
    reason: SwapAbortReason,
    rejection: z
      .enum(['foreign', 'bms_fault', 'too_hot', 'no_id'])
      .meta({ description: 'For `rejected_pack`: why; the pack is kept locked in its slot for inspection.' })
      .optional(),
    slot: SwapSlot.optional(),
    batteryId: BatteryId.optional(),
  })
  .meta({ id: 'SwapAbortedData' });
export const SwapThermalData = z
  .strictObject({
    cabinet: Id,
    active: z.boolean(),
    priority: z.literal('critical'),
    slot: SwapSlot,
    batteryId: BatteryId.optional(),
    cause: z
      .enum(['limit', 'rise'])
      .meta({ description: '`limit`: at or above packMaxTempC; `rise`: heating faster than packMaxRiseCPerMin.' }),
    value: z.number().meta({ description: '°C (limit) or °C per minute (rise).' }),
  })
  .meta({ id: 'SwapThermalData' });
export const SwapFireData = z
  .strictObject({
    cabinet: Id,
    active: z.boolean(),
    priority: z.literal('critical'),
    cause: z.enum(['smoke', 'over_temperature']),
    value: z.number().meta({ description: '1 for smoke, else the cabinet temperature °C.' }),
    suppression: z.boolean().meta({ description: 'Whether fire suppression was triggered.' }),
  })
  .meta({ id: 'SwapFireData' });
export const SwapSlotData = z
  .strictObject({
    cabinet: Id,
    slot: SwapSlot,
    reason: z.enum(['thermal', 'bms_fault', 'rejected_pack', 'command', 'release']),
    batteryId: BatteryId.optional(),
    principal: z.string().max(120).optional(),
  })
  .meta({ id: 'SwapSlotData' });

const envelope = (seq: number, type: string, point: string | undefined, data: Record<string, unknown>): EventExample[] => [
  example(type.split('.')[1]!, {
    id: `01JF00SWAP0000000000000${String(seq).padStart(3, '0')}`,
    seq,
    ts: '2026-12-03T08:00:00.000Z',
    type,
    source: point ? { device: 'swap-1', point } : { device: 'swap-1' },
    data,
  }),
];
const pack = (slot: number, batteryId: string, soc: number) => ({ slot, batteryId, soc, energyWh: Math.round(soc * 9.6) });

export const SWAP_EVENTS = eventList([
  {
    type: 'swap.started',
    class: 'charging',
    data: SwapStartedData,
    description: 'A swap was authorised (at the cabinet reader or by swap.authorize) and an empty slot opened',
    examples: envelope(100, 'swap.started', 'slot-11', {
      cabinet: 'swap-1',
      swapId: 7,
      slot: 11,
      authorizedBy: 'reader',
      principal: 'rider-42',
    }),
  },
  {
    type: 'swap.completed',
    class: 'charging',
    data: SwapCompletedData,
    description: 'A swap ended with the returned pack accepted and the fullest healthy pack issued',
    examples: envelope(101, 'swap.completed', 'slot-3', {
      cabinet: 'swap-1',
      swapId: 7,
      returned: pack(11, 'GH-PACK-0042', 12),
      issued: pack(3, 'GH-PACK-0007', 97),
      energyWh: 816,
      durationS: 48,
    }),
  },
  {
    type: 'swap.aborted',
    class: 'charging',
    data: SwapAbortedData,
    description:
      'A swap ended without issuing a pack: timeout, no full battery, a rejected pack (kept locked), door not closed, cancelled, fire, or a restart that could not resume',
    examples: envelope(102, 'swap.aborted', 'slot-11', {
      cabinet: 'swap-1',
      swapId: 8,
      reason: 'rejected_pack',
      rejection: 'foreign',
      slot: 11,
      batteryId: 'XX-0001',
    }),
  },
  {
    type: 'swap.thermal',
    class: 'alarm',
    data: SwapThermalData,
    description: 'A pack too hot or heating too fast (runaway onset): its slot was isolated (charger off, door locked, never issued)',
    title: 'A swap-cabinet pack overheats (critical)',
    examples: envelope(103, 'swap.thermal', 'slot-5', {
      cabinet: 'swap-1',
      active: true,
      priority: 'critical',
      slot: 5,
      batteryId: 'GH-PACK-0005',
      cause: 'rise',
      value: 30,
    }),
  },
  {
    type: 'swap.fire',
    class: 'alarm',
    data: SwapFireData,
    description:
      'Smoke or over-temperature in a swap cabinet: its power was cut, fire suppression triggered if fitted; linkage rules drive cameras',
    title: 'Fire in a swap cabinet (critical)',
    examples: envelope(104, 'swap.fire', undefined, {
      cabinet: 'swap-1',
      active: true,
      priority: 'critical',
      cause: 'smoke',
      value: 1,
      suppression: true,
    }),
  },
  {
    type: 'swap.slot_isolated',
    class: 'charging',
    data: SwapSlotData,
    description: 'A slot was isolated (thermal, BMS fault or command): its pack is never issued until slot.release',
    examples: envelope(105, 'swap.slot_isolated', 'slot-5', { cabinet: 'swap-1', slot: 5, reason: 'thermal', batteryId: 'GH-PACK-0005' }),
  },
  {
    type: 'swap.slot_released',
    class: 'charging',
    data: SwapSlotData,
    description: 'An isolated slot was released by slot.release',
    examples: envelope(106, 'swap.slot_released', 'slot-5', { cabinet: 'swap-1', slot: 5, reason: 'release', principal: 'admin' }),
  },
]);

declare module '../core/events.js' {
  interface EventDataMap {
    'swap.started': z.input<typeof SwapStartedData>;
    'swap.completed': z.input<typeof SwapCompletedData>;
    'swap.aborted': z.input<typeof SwapAbortedData>;
    'swap.thermal': z.input<typeof SwapThermalData>;
    'swap.fire': z.input<typeof SwapFireData>;
    'swap.slot_isolated': z.input<typeof SwapSlotData>;
    'swap.slot_released': z.input<typeof SwapSlotData>;
  }
}
