/** The locks' slice of the compound file (gateway/locks/family.ts composes it). */
import { z } from 'zod';
import { Id, Duration } from './common.js';

export const LockConfig = z
  .object({
    id: Id,
    name: z.string().min(1).max(120).optional(),
    /** Secret holding this lock's broker password. Defaults to `devices.{id}`. */
    passwordSecret: z.string().min(1).optional(),
    /** A lock that has not been heard from for this long is reported offline. */
    offlineAfterMs: Duration.min(1000).default(180_000),
  })
  .strict();

export type LockConfig = z.infer<typeof LockConfig>;

/** The broker password secret of a lock: the one place its default name is written. */
export const lockPasswordSecret = (lock: Pick<LockConfig, 'id' | 'passwordSecret'>): string => lock.passwordSecret ?? `devices.${lock.id}`;
