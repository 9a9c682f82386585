/** Builds the locks family from its context (gateway/locks/family.ts declares it). */
import type { EmbeddedBroker } from '../broker/embedded-broker.js';
import type { FamilyContext, FamilyInstance } from '../families/family.js';
import type { CompoundConfig } from '../../config/schema.js';
import type { PresenceTracker } from '../presence/presence-policy.js';
import { LockService } from './lock-service.js';
import type { AlarmSink } from '../alarms/types.js';

export interface LocksInstance extends FamilyInstance {
  service: LockService;
}

export function create(ctx: FamilyContext<CompoundConfig>): LocksInstance {
  const service = new LockService({
    locks: ctx.config.locks,
    broker: ctx.use<EmbeddedBroker>('broker'),
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
    commands: () => service.commands(),
  };
}
