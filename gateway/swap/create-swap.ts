/** Builds the swap family from its context (gateway/swap/family.ts declares it). */
import type { CompoundConfig } from '../../config/schema.js';
import type { DoorGrants, FamilyContext, FamilyInstance } from '../families/family.js';
import type { PresenceTracker } from '../presence/presence-policy.js';
import type { AlarmSink } from '../alarms/types.js';
import { SwapService } from './swap-service.js';

export interface SwapInstance extends FamilyInstance {
  service: SwapService;
}

export function create(ctx: FamilyContext<CompoundConfig>): SwapInstance {
  // Transactions live in the outbox database, so they survive a restart with it.
  const service = new SwapService({
    cabinets: ctx.config.swapCabinets,
    swap: ctx.config.swap,
    outbox: ctx.outbox,
    sink: ctx.use<AlarmSink>('alarms'),
    clock: ctx.clock,
    timers: ctx.timers,
    log: ctx.log,
    presence: ctx.use<PresenceTracker>('presence'),
  });
  // A grant at a cabinet's reader door starts a swap there, by the local decision (works offline).
  const byDoor = new Map(ctx.config.swapCabinets.flatMap((c) => (c.door ? [[c.door, c.id] as const] : [])));
  const grants = byDoor.size ? ctx.use<DoorGrants | undefined>('door-grants') : undefined;
  if (byDoor.size && !grants) ctx.log.error('swap cabinets have reader doors but access control is not running: only swap.authorize works');
  let unsubscribe: (() => void) | undefined;
  return {
    service,
    start: () => {
      service.start();
      unsubscribe = grants?.((g) => {
        const cabinet = byDoor.get(g.door);
        if (!cabinet) return;
        service
          .unit(cabinet)
          .flow.authorize('reader', g.credentialId)
          .catch((err: unknown) => ctx.log.warn({ cabinet, door: g.door, err: (err as Error).message }, 'swap at the reader refused'));
      });
    },
    stop: () => {
      unsubscribe?.();
      return service.stop();
    },
    status: () => service.states(),
    commands: () => service.commands(),
  };
}
