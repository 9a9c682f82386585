/** Field types shared by every part of the compound file schema. */
import { z } from 'zod';

/** Ids become MQTT topic levels and log keys: keep them to a safe, readable alphabet. */
export const Id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be 1-64 characters of a-z, 0-9, "-" or "_", starting with a letter or digit');

/** Milliseconds (or another whole-number unit named by the key). */
export const Duration = z.number().int().nonnegative();
