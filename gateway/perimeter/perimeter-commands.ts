/**
 * Perimeter commands offered to the router: arming and disarming partitions, bypassing
 * zones for a bounded time (a beam being serviced, a gate left open for a delivery), and
 * switching outputs. Guards may arm, disarm and bypass; outputs (sirens) are for the
 * platform and admins only, because a siren is loud for the whole compound.
 */
import { z } from 'zod';
import { Id } from '../../config/schema.js';
import { defineCommand, type CommandDefinition } from '../commands/types.js';
import type { PerimeterService } from './perimeter-service.js';

const PartitionArgs = z.object({ partition: Id }).strict();
const BypassArgs = z.object({ zone: Id, minutes: z.number().int().min(1).max(1440) }).strict();
const ZoneArgs = z.object({ zone: Id }).strict();
const OutputArgs = z.object({ output: Id, on: z.boolean(), seconds: z.number().int().min(1).max(3600).optional() }).strict();

export function perimeterCommands(service: Pick<PerimeterService, 'arm' | 'bypass' | 'unbypass' | 'outputs'>): CommandDefinition[] {
  return [
    defineCommand({
      name: 'partition.arm',
      description:
        'Arms a partition until the next edge of its arm schedule; zones tripped now are returned as notReady (not raised until back to normal).',
      args: PartitionArgs,
      roles: ['platform', 'guard', 'admin'],
      async handler(args, ctx) {
        return { ...service.arm(args.partition, true, ctx.caller.principal) };
      },
    }),
    defineCommand({
      name: 'partition.disarm',
      description: 'Disarms a partition until the next edge of its arm schedule; its perimeter alarms clear.',
      args: PartitionArgs,
      roles: ['platform', 'guard', 'admin'],
      async handler(args, ctx) {
        return { ...service.arm(args.partition, false, ctx.caller.principal) };
      },
    }),
    defineCommand({
      name: 'zone.bypass',
      description: 'Bypasses a zone for 1-1440 minutes: it raises nothing meanwhile; when the time is up, whatever still holds is raised.',
      args: BypassArgs,
      roles: ['platform', 'guard', 'admin'],
      async handler(args, ctx) {
        return { ...service.bypass(args.zone, args.minutes, ctx.caller.principal), bypassed: true };
      },
    }),
    defineCommand({
      name: 'zone.unbypass',
      description: 'Ends a zone bypass now; if the zone is still in alarm (and armed) it is raised.',
      args: ZoneArgs,
      roles: ['platform', 'guard', 'admin'],
      async handler(args, ctx) {
        return { ...service.unbypass(args.zone, ctx.caller.principal), bypassed: false };
      },
    }),
    defineCommand({
      name: 'output.set',
      description: 'Switches a siren, strobe or relay on or off; with `seconds`, on for that long and then off.',
      args: OutputArgs,
      roles: ['platform', 'admin'],
      async handler(args) {
        const s = await service.outputs.set(args.output, args.on, args.seconds);
        return { output: args.output, on: s.on, offAt: s.offAt === null ? null : new Date(s.offAt).toISOString() };
      },
    }),
  ];
}
