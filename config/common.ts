/** Field types shared by every part of the compound file schema. */
import { z } from 'zod';

/** Ids become MQTT topic levels and log keys: keep them to a safe, readable alphabet. */
export const Id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be 1-64 characters of a-z, 0-9, "-" or "_", starting with a letter or digit');

/** Milliseconds (or another whole-number unit named by the key). */
export const Duration = z.number().int().nonnegative();

/**
 * Where a Modbus device is: an RS-485 line (several units share it, by unit id) or a Modbus
 * TCP endpoint. The default baud rate differs by family (cabinets 115200, I/O modules 9600).
 */
export function modbusBusSchema(defaultBaud: number) {
  return z.union([
    z.object({ rtu: z.object({ path: z.string().min(1), baudRate: z.number().int().min(1200).max(921_600).default(defaultBaud) }).strict() }).strict(),
    z.object({ tcp: z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535).default(502) }).strict() }).strict(),
  ]);
}
