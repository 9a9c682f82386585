/**
 * Commands about the gateway itself: `system.ping` (is the command path alive, what time
 * does the box think it is) and `system.status` (what the composition root reports).
 */
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { defineCommand, type CommandRegistry, type Role } from './types.js';

export type StatusProvider = () => Record<string, unknown> | Promise<Record<string, unknown>>;

export interface SystemCommandDeps {
  status: StatusProvider;
  /** Defaults to the router's clock, so `ts` is the same time the gateway stamps events with. */
  clock?: Clock;
}

const NoArgs = z.object({}).strict();

const EVERYONE: readonly Role[] = ['platform', 'guard', 'installer', 'admin'];
/** Status exposes uplink and outbox internals: not for the gate guard's console. */
const STATUS_ROLES: readonly Role[] = ['platform', 'installer', 'admin'];

export function registerSystemCommands(registry: CommandRegistry & { readonly clock?: Clock }, deps: SystemCommandDeps): void {
  const clock = deps.clock ?? registry.clock;
  const now = (): number => (clock ? clock.now() : Date.now());
  registry.register(
    defineCommand({
      name: 'system.ping',
      description: 'Answers at once with the gateway wall-clock time; proves the command path works end to end.',
      args: NoArgs,
      roles: EVERYONE,
      async handler() {
        return { pong: true, ts: new Date(now()).toISOString() };
      },
    }),
  );
  registry.register(
    defineCommand({
      name: 'system.status',
      description: 'Reports version, clock state, component health, uplink and outbox figures.',
      args: NoArgs,
      roles: STATUS_ROLES,
      async handler() {
        return await deps.status();
      },
    }),
  );
}
