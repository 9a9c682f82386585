/**
 * The charging commands offered to the command router: `charging.start`, `charging.stop`,
 * `charging.set_limit`, `charging.port_enable`, `charging.reset`. Arguments are validated here with the
 * limits of the register map, so a command the router accepts is one the cabinet can carry.
 */
import { z } from 'zod';
import { Id } from '../../config/schema.js';
import { MAX_DURATION_MIN, MAX_PORTS } from '../../drivers/cabinet/register-map.js';
import { defineCommand, type CommandContext, type CommandDefinition } from '../commands/types.js';

const Port = z.number().int().min(1).max(MAX_PORTS);

export const StartArgs = z
  .object({
    cabinet: Id,
    port: Port,
    sessionId: z.number().int().min(1).max(0xffffffff).optional(),
    powerLimitW: z.number().int().min(0).max(0xffff).optional(),
    maxDurationMin: z.number().int().min(1).max(MAX_DURATION_MIN).optional(),
  })
  .strict();
export const StopArgs = z.object({ cabinet: Id, port: Port }).strict();
export const SetLimitArgs = z.object({ cabinet: Id, port: Port, powerLimitW: z.number().int().min(0).max(0xffff) }).strict();
export const PortEnableArgs = z.object({ cabinet: Id, port: Port, enabled: z.boolean() }).strict();
/** The reason is required: releasing a cabinet that smoked is a decision someone signs. */
export const ResetArgs = z.object({ cabinet: Id, reason: z.string().trim().min(1).max(200) }).strict();

export type StartArgs = z.infer<typeof StartArgs>;

/** What the commands need from the cabinet service. */
export interface ChargingControl {
  start(args: StartArgs, ctx: CommandContext): Promise<Record<string, unknown>>;
  stop(cabinet: string, port: number, ctx: CommandContext): Promise<Record<string, unknown>>;
  setLimit(cabinet: string, port: number, powerLimitW: number, ctx: CommandContext): Promise<Record<string, unknown>>;
  enable(cabinet: string, port: number, enabled: boolean, ctx: CommandContext): Promise<Record<string, unknown>>;
  reset(cabinet: string, reason: string, ctx: CommandContext): Promise<Record<string, unknown>>;
}

export function chargingCommands(control: ChargingControl): CommandDefinition[] {
  return [
    defineCommand({
      name: 'charging.start',
      description:
        'Starts a charging session on a plugged port, with an optional session id (the platform transaction), power limit and maximum duration.',
      args: StartArgs,
      roles: ['platform', 'admin'],
      handler: (args, ctx) => control.start(args, ctx),
    }),
    defineCommand({
      name: 'charging.stop',
      description: 'Stops the session of a port (reason remote).',
      args: StopArgs,
      roles: ['platform', 'guard', 'admin'],
      handler: (args, ctx) => control.stop(args.cabinet, args.port, ctx),
    }),
    defineCommand({
      name: 'charging.set_limit',
      description: 'Sets the power limit of a port (0 = none, the safety cap still applies).',
      args: SetLimitArgs,
      roles: ['platform', 'admin'],
      handler: (args, ctx) => control.setLimit(args.cabinet, args.port, args.powerLimitW, ctx),
    }),
    defineCommand({
      name: 'charging.port_enable',
      description: 'Enables or disables a port (a disabled port refuses every start).',
      args: PortEnableArgs,
      roles: ['platform', 'installer', 'admin'],
      handler: (args, ctx) => control.enable(args.cabinet, args.port, args.enabled, ctx),
    }),
    defineCommand({
      name: 'charging.reset',
      description:
        'Releases a cabinet cut off by smoke, over-temperature or lost supervision and switches its power back on; refused while the cause is still read.',
      args: ResetArgs,
      roles: ['platform', 'admin'],
      handler: (args, ctx) => control.reset(args.cabinet, args.reason, ctx),
    }),
  ] as CommandDefinition[];
}
