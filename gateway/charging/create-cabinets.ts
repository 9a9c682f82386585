/** Builds the cabinets family from its context (gateway/charging/family.ts declares it). */
import type { CompoundConfig } from '../../config/schema.js';
import type { FamilyContext, FamilyInstance } from '../families/family.js';
import type { PresenceTracker } from '../presence/presence-policy.js';
import { CabinetService } from './cabinet-service.js';
import type { AlarmSink } from '../alarms/types.js';

export interface CabinetsInstance extends FamilyInstance {
  service: CabinetService;
}

export function create(ctx: FamilyContext<CompoundConfig>): CabinetsInstance {
  // Charging sessions live in the outbox database, so they survive a restart with it.
  const service = new CabinetService({
    cabinets: ctx.config.cabinets,
    outbox: ctx.outbox,
    sink: ctx.use<AlarmSink>('alarms'),
    clock: ctx.clock,
    timers: ctx.timers,
    log: ctx.log,
    safety: ctx.config.charging.safety,
    meterIntervalMs: ctx.config.charging.meterIntervalMs,
    presence: ctx.use<PresenceTracker>('presence'),
    ...(ctx.observe ? { observe: ctx.observe } : {}),
  });
  return {
    service,
    start: () => service.start(),
    stop: () => service.stop(),
    status: () => service.states(),
    commands: () => service.commands(),
  };
}
