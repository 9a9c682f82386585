/**
 * Builds the alarm lifecycle from the compound file: the manager on the outbox database
 * (open alarms are restored right here, before any source runs), the linkage engine once
 * outputs and cameras exist, and the commands. Kept out of app.ts so the composition root
 * stays a list of components. The families report their conditions to `manager` (their
 * alarm sink) and declare their kinds with `manager.declareKinds()`.
 *
 * Order matters: the component must stop after the sources and before the outbox closes
 * (its final state/alarms write and pending events need the outbox).
 */
import type { CompoundConfig } from '../../config/schema.js';
import type { Clock, Timers } from '../core/clock.js';
import type { CommandDefinition } from '../commands/types.js';
import type { LoggerFactory } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import { alarmCommands } from './alarm-commands.js';
import { AlarmManager } from './alarm-manager.js';
import { LinkageEngine } from './linkage.js';
import type { CameraLinkage, OutputDriver } from './types.js';

export interface AlarmsComponent {
  manager: AlarmManager;
  /**
   * The linkage engine for the compound's rules. With drivers, (re)builds it on them (call
   * again when the perimeter outputs or the cameras become available); without, returns
   * the current one (building a driverless one if there is none), e.g. for the console's
   * `notify` listener.
   */
  linkage(outputs?: OutputDriver, cameras?: CameraLinkage): LinkageEngine;
  commands(): CommandDefinition[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface CreateAlarmsOptions {
  config: Pick<CompoundConfig, 'alarms' | 'linkage'>;
  outbox: Pick<Outbox, 'record' | 'setState' | 'scope'>;
  clock: Clock;
  timers: Timers;
  logs: LoggerFactory;
}

export function createAlarms(opts: CreateAlarmsOptions): AlarmsComponent {
  const log = opts.logs.child('alarms');
  const manager = new AlarmManager({
    db: opts.outbox.scope('alarms'),
    outbox: opts.outbox,
    config: opts.config.alarms,
    clock: opts.clock,
    timers: opts.timers,
    log,
  });
  let engine: LinkageEngine | undefined;
  let started = false;
  return {
    manager,
    linkage(outputs, cameras) {
      if (engine && !outputs && !cameras) return engine;
      if (engine) void engine.stop();
      engine = new LinkageEngine({
        rules: opts.config.linkage,
        manager,
        ...(outputs ? { outputs } : {}),
        ...(cameras ? { cameras } : {}),
        timers: opts.timers,
        clock: opts.clock,
        outbox: opts.outbox,
        log: opts.logs.child('linkage'),
      });
      if (started) engine.start();
      return engine;
    },
    commands: () => alarmCommands(manager),
    async start() {
      started = true;
      // Linkage listens before anything is raised after start; the manager then publishes the restored state.
      engine?.start();
      manager.start();
    },
    async stop() {
      started = false;
      await engine?.stop();
      await manager.stop();
    },
  };
}
