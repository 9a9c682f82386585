/**
 * Door commands offered to the router: `door.open` (momentary, like a guard's button),
 * `door.unlock` (held unlocked, e.g. the main gate during the morning rush) and
 * `door.lock` (back to normal: only credentials open it). Every call is audited by the
 * router; the door's own events say what physically happened.
 */
import { z } from 'zod';
import { Id } from '../../config/schema.js';
import { defineCommand, type CommandDefinition } from '../commands/types.js';
import { GatehouseError } from '../core/errors.js';
import type { AccessService } from './access-service.js';

const DoorArgs = z.object({ door: Id }).strict();
const OpenArgs = z.object({ door: Id, seconds: z.number().int().min(1).max(60).optional() }).strict();

export function doorCommands(service: Pick<AccessService, 'door' | 'lockOnline'>): CommandDefinition[] {
  return [
    defineCommand({
      name: 'door.open',
      description: 'Unlocks a door once for a few seconds (remote open); refused while its lock reader is offline.',
      args: OpenArgs,
      roles: ['platform', 'guard', 'admin'],
      async handler(args) {
        const door = service.door(args.door);
        // A momentary open that cannot reach the lock would tell the guard a lie.
        if (!service.lockOnline(args.door))
          throw new GatehouseError('DEVICE_OFFLINE', `the reader driving door ${args.door}'s lock is offline`, { door: args.door });
        door.remoteOpen(args.seconds !== undefined ? args.seconds * 1000 : undefined);
        return { door: args.door, opened: true, ...(args.seconds !== undefined ? { seconds: args.seconds } : {}) };
      },
    }),
    defineCommand({
      name: 'door.unlock',
      description: 'Holds a door unlocked until door.lock; applied when its lock reader comes back if it is offline.',
      args: DoorArgs,
      roles: ['platform', 'guard', 'admin'],
      async handler(args) {
        service.door(args.door).setMode('unlocked');
        return { door: args.door, mode: service.door(args.door).snapshot().mode, online: service.lockOnline(args.door) };
      },
    }),
    defineCommand({
      name: 'door.lock',
      description: 'Returns a door to normal operation: locked, opened by credentials only.',
      args: DoorArgs,
      roles: ['platform', 'guard', 'admin'],
      async handler(args) {
        service.door(args.door).setMode('normal');
        return { door: args.door, mode: service.door(args.door).snapshot().mode, online: service.lockOnline(args.door) };
      },
    }),
  ];
}
