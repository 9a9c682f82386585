/** Builds the swap family from its context (gateway/swap/family.ts declares it). */
import type { CompoundConfig } from '../../config/schema.js';
import type { FamilyContext, FamilyInstance } from '../families/family.js';
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
  return {
    service,
    start: () => service.start(),
    stop: () => service.stop(),
    status: () => service.states(),
    commands: () => service.commands(),
  };
}
