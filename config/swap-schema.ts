/** The battery-swap cabinets' slice of the compound file (gateway/swap/family.ts composes it). */
import { z } from 'zod';
import { Duration, Id, modbusBusSchema } from './common.js';

/**
 * Local safety of the swap cabinets (issue 17). Defaults are the safe ones for 48 V e-bike
 * lithium packs charged at 0.5 C: an installer may tighten them; loosening one shows in the file.
 */
export const SwapSafetyConfig = z
  .object({
    /** A pack at or above this (max cell) temperature is isolated and `swap.thermal` raised. */
    packMaxTempC: z.number().min(20).max(90).default(55),
    /** A pack heating faster than this, °C per minute over the last polls, is isolated too (runaway onset). */
    packMaxRiseCPerMin: z.number().positive().max(60).default(3),
    /** The shortest span the rise is measured over (the temperature register has 0.1 °C steps). */
    packRiseWindowS: z.number().min(1).max(60).default(5),
    /** A returned pack above this is refused and kept (too hot to take in). */
    acceptMaxTempC: z.number().min(10).max(80).default(45),
    /** Cabinet air at or above this, or smoke: the cabinet's power is cut and a critical fire alarm raised. */
    cabinetMaxTempC: z.number().min(20).max(100).default(55),
    /**
     * Polls in a row with a safety register unreadable or outside the map (smoke, cabinet
     * temperature, mains, power, suppression, a pack's temperature or presence) before
     * `cabinet.unsupervised` is raised and the cabinet's power cut, until `cabinet.power` on.
     */
    unsupervisedAfterPolls: z.number().int().min(1).max(100).default(3),
  })
  .strict();

export const SwapCabinetConfig = z
  .object({
    id: Id,
    name: z.string().min(1).max(120).optional(),
    bus: modbusBusSchema(115_200),
    unitId: z.number().int().min(1).max(247).default(1),
    /** Slots the compound expects; the kind block read is authoritative when it says fewer. */
    slots: z.number().int().min(1).max(24),
    pollMs: Duration.min(100).max(60_000).default(1000),
    /**
     * The access door (doors[].id) whose reader is the cabinet's own: a credential the access
     * family grants there (its door groups, e.g. a "battery swap" group) authorises a swap,
     * decided locally, so it works with the uplink down.
     */
    door: Id.optional(),
    /** The cabinet has fire suppression the gateway triggers on fire. */
    suppression: z.boolean().default(false),
  })
  .strict();

export const SwapConfig = z
  .object({
    safety: SwapSafetyConfig.prefault({}),
    /** How long an unlocked slot door waits to be opened before it relocks (register map 10.4). */
    openTimeoutS: z.number().int().min(5).max(600).default(60),
    /** A swap with no progress for this long is aborted (`timeout`). */
    swapTimeoutMs: Duration.min(5000).max(3_600_000).default(180_000),
    /** A pack is issued only at or above this state of charge. */
    minIssueSoc: z.number().int().min(1).max(100).default(80),
    /** Pack ids the compound accepts besides the packs its cabinets have held (e.g. the operator's fleet prefix). */
    packIdPrefixes: z.array(z.string().min(1).max(16)).default([]),
  })
  .strict();

export type SwapSafetyConfig = z.infer<typeof SwapSafetyConfig>;
export type SwapCabinetConfig = z.infer<typeof SwapCabinetConfig>;
export type SwapCabinetConfigInput = z.input<typeof SwapCabinetConfig>;
export type SwapConfig = z.infer<typeof SwapConfig>;
