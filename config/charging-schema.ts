/** The cabinets' and charging slice of the compound file (gateway/charging/family.ts composes it). */
import { z } from 'zod';
import { Id, Duration, modbusBusSchema } from './common.js';

/**
 * Local charging safety interlocks (issue 3). The defaults are the safe ones for e-bike
 * chargers (2-5 A, a few hundred watts): an installer may tighten them; loosening them is
 * a decision that must show up in the compound file.
 */
export const ChargingSafetyConfig = z
  .object({
    /** A port at or above this temperature is stopped and an alarm raised. */
    portMaxTempC: z.number().min(20).max(100).default(60),
    /** A port drawing more than this is stopped (e-bike chargers draw 2-5 A). */
    portMaxCurrentA: z.number().positive().max(32).default(10),
    /** Cabinet at or above this temperature: every port cut and a critical fire alarm. */
    cabinetMaxTempC: z.number().min(20).max(100).default(55),
    /** A port drawing more than this is limited to it. */
    perPortPowerCapW: z.number().int().positive().max(7400).default(600),
    /** Charging below this power for `fullForMin` minutes means the battery is full. */
    fullPowerW: z.number().nonnegative().default(10),
    fullForMin: z.number().positive().max(240).default(10),
    /** A session longer than this is stopped (8 h). */
    maxSessionMin: z
      .number()
      .int()
      .positive()
      .max(24 * 60)
      .default(480),
    /** Mains below this RMS voltage counts as lost. */
    mainsMinV: z.number().nonnegative().default(180),
    /** A safety command the cabinet has not obeyed after this long is sent again. */
    reassertAfterMs: Duration.min(500).default(5000),
    /** Polls in a row whose safety registers cannot be read or decoded before `cabinet.unsupervised` is raised. */
    unsupervisedAfterPolls: z.number().int().min(1).max(100).default(3),
    /** What an unsupervised cabinet gets: `cut` (its power cut, latched until charging.reset) or only the alarm. */
    unsupervisedPolicy: z.enum(['cut', 'alarm']).default('cut'),
  })
  .strict();

/** Where a cabinet's Modbus bus is: an RS-485 line (several cabinets share it) or a TCP endpoint. */
export const CabinetBusConfig = modbusBusSchema(115_200);

export const CabinetConfig = z
  .object({
    id: Id,
    name: z.string().min(1).max(120).optional(),
    bus: CabinetBusConfig,
    /** Modbus unit id on its bus (1-247). */
    unitId: z.number().int().min(1).max(247).default(1),
    /** Ports the compound expects; the identity read is authoritative when it says fewer. */
    ports: z.number().int().min(1).max(24),
    /** How often the cabinet is read, and so how fast the local interlocks act. */
    pollMs: Duration.min(100).max(60_000).default(1000),
  })
  .strict();

export const ChargingConfig = z
  .object({
    safety: ChargingSafetyConfig.prefault({}),
    /** MeterValues interval per running session (OCPP MeterValueSampleInterval). */
    meterIntervalMs: Duration.min(100).default(60_000),
  })
  .strict();

export type ChargingSafetyConfig = z.infer<typeof ChargingSafetyConfig>;
export type CabinetBusConfig = z.infer<typeof CabinetBusConfig>;
export type CabinetConfig = z.infer<typeof CabinetConfig>;
export type CabinetConfigInput = z.input<typeof CabinetConfig>;
export type ChargingConfig = z.infer<typeof ChargingConfig>;

/** One ModbusBus per distinct key: an RTU line by device path, a TCP endpoint by host:port. */
export function cabinetBusKey(bus: CabinetBusConfig): string {
  return 'rtu' in bus ? `rtu:${bus.rtu.path}` : `tcp:${bus.tcp.host}:${bus.tcp.port}`;
}
