/** Field types shared by every part of the compound file schema. */
import { z } from 'zod';

/** Ids become MQTT topic levels and log keys: keep them to a safe, readable alphabet. */
export const Id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be 1-64 characters of a-z, 0-9, "-" or "_", starting with a letter or digit');

/** Milliseconds (or another whole-number unit named by the key). */
export const Duration = z.number().int().nonnegative();

/**
 * Serial character format of an RTU line: 8 data bits with even, odd or no parity; two stop
 * bits only without parity. These are the four the Modbus serial-line spec and our register
 * map allow (8E1 is the spec's default, 8N1 what most cabinets ship with, so 8N1 stays ours).
 */
export const RTU_FRAMINGS = ['8N1', '8E1', '8O1', '8N2'] as const;

function rtuLine(defaultBaud: number) {
  return z
    .object({
      path: z.string().min(1),
      baudRate: z.number().int().min(1200).max(921_600).default(defaultBaud),
      parity: z.enum(['none', 'even', 'odd']).default('none'),
      stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
    })
    .strict()
    .refine((l) => l.parity === 'none' || l.stopBits === 1, {
      message: `parity with 2 stop bits is not a Modbus framing; use one of ${RTU_FRAMINGS.join(', ')}`,
      path: ['stopBits'],
    });
}

/** `8E1` etc. of a configured line, for logs and errors. */
export function rtuFraming(l: { parity: 'none' | 'even' | 'odd'; stopBits: 1 | 2 }): string {
  return `8${l.parity === 'none' ? 'N' : l.parity === 'even' ? 'E' : 'O'}${l.stopBits}`;
}

/**
 * Where a Modbus device is: an RS-485 line (several units share it, by unit id) or a Modbus
 * TCP endpoint. The default baud rate differs by family (cabinets 115200, I/O modules 9600).
 */
export function modbusBusSchema(defaultBaud: number) {
  return z.union([
    z.object({ rtu: rtuLine(defaultBaud) }).strict(),
    z.object({ tcp: z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535).default(502) }).strict() }).strict(),
  ]);
}

/**
 * Devices that share an RS-485 path share one serial port, opened once: they must agree on
 * its baud rate and framing, or all but the first would be read with the wrong settings and
 * look dead. `lines` are every RTU device of the file, with where they are in it.
 */
export interface RtuLineUse {
  /** Where the device is in the file, e.g. ['cabinets', 0]. */
  path: (string | number)[];
  rtu: { path: string; baudRate: number; parity: 'none' | 'even' | 'odd'; stopBits: 1 | 2 };
}

export function checkSharedRtuLines(lines: RtuLineUse[], ctx: z.RefinementCtx): void {
  const first = new Map<string, { at: string; settings: string }>();
  for (const l of lines) {
    const settings = `${l.rtu.baudRate} ${rtuFraming(l.rtu)}`;
    const at = l.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
      .join('')
      .slice(1);
    const f = first.get(l.rtu.path);
    if (!f) first.set(l.rtu.path, { at, settings });
    else if (f.settings !== settings) {
      const message = `${l.rtu.path} is opened at ${f.settings} for ${f.at}; every device on one line must use the same baud rate and framing (here ${settings})`;
      ctx.addIssue({ code: 'custom', path: [...l.path, 'bus', 'rtu'], message });
    }
  }
}
