/**
 * Presence damping (gateway/presence/): when a device that keeps going offline and online
 * is held offline instead of announced each time. Shared by every device family.
 *
 * The defaults bound what one flapping device can produce to ≤ 20 events per hour on the
 * platform, whatever it does: one free offline/online cycle per window, then it is held
 * offline for `holdMs` of uninterrupted answers (doubling per episode up to `maxHoldMs`).
 */
import { z } from 'zod';
import { Duration } from './common.js';

export const PresenceConfig = z
  .object({
    /** Announced presence changes (offline, online) allowed within `windowMs`; the next one starts a flapping hold. */
    maxChanges: z.number().int().min(1).max(100).default(2),
    windowMs: Duration.min(1000).default(10 * 60_000),
    /** A held device is announced online again once it has answered without a break this long (first episode). */
    holdMs: Duration.min(1000).default(20 * 60_000),
    /** Each further episode doubles the hold, up to this. */
    maxHoldMs: Duration.min(1000).default(4 * 3600_000),
    /** A device released this long ago without a new episode starts again from `holdMs` with free changes. */
    resetAfterMs: Duration.min(1000).default(4 * 3600_000),
  })
  .strict()
  .refine((c) => c.maxHoldMs >= c.holdMs, { message: 'maxHoldMs must be at least holdMs', path: ['maxHoldMs'] });

export type PresenceConfig = z.infer<typeof PresenceConfig>;
