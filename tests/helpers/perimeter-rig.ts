/**
 * Shared set-up for the perimeter integration tests: a compound with input modules on a
 * given bus each, the zones of a compound wall (three IR beams, a supervised fence, a
 * tamper switch, an SOS button), one partition, one siren; a real Outbox on a SQLite file,
 * the fake alarm sink, and the commands run as the router would hand them over.
 */
import { join } from 'node:path';
import { CompoundConfig } from '../../config/schema.js';
import type { AlarmSink } from '../../gateway/alarms/types.js';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import type { CommandContext, CommandDefinition } from '../../gateway/commands/types.js';
import type { GatehouseError } from '../../gateway/core/errors.js';
import { createLoggerFactory } from '../../gateway/core/log.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { createPerimeter, type PerimeterComponent } from '../../gateway/perimeter/create-perimeter.js';
import type { SimZone } from '../../sim/perimeter/index.js';

export type ModuleBus = { tcp: { host: string; port: number } } | { rtu: { path: string; baudRate: number } };

export const POLL_MS = 50;
export const DEBOUNCE_MS = 100;

/** Zones on module A (16 channels, supervised, with a siren) and B (8 channels). */
export const ZONES = [
  { id: 'beam-1', module: 'mod-a', channel: 0, type: 'perimeter', contact: 'NC', partition: 'wall' },
  { id: 'beam-2', module: 'mod-a', channel: 1, type: 'perimeter', contact: 'NC', partition: 'wall' },
  { id: 'beam-3', module: 'mod-a', channel: 2, type: 'perimeter', contact: 'NC', partition: 'wall' },
  { id: 'fence-1', module: 'mod-a', channel: 3, type: 'perimeter', contact: 'NC', partition: 'wall' },
  { id: 'tamper-a', module: 'mod-a', channel: 4, type: 'h24', contact: 'NC' },
  { id: 'sos-gate', module: 'mod-b', channel: 0, type: 'panic', contact: 'NO' },
] as const;

export const SIM_ZONES: SimZone[] = ZONES.map((z) => ({ id: z.id, module: z.module, channel: z.channel, contact: z.contact }));

export function perimeterConfig(buses: { a: ModuleBus; b: ModuleBus; unitA?: number; unitB?: number }): CompoundConfig {
  return CompoundConfig.parse({
    compound: { id: 'maple-court' },
    gateway: { id: 'gw-1' },
    inputModules: [
      {
        id: 'mod-a',
        bus: buses.a,
        unitId: buses.unitA ?? 1,
        channels: 16,
        supervision: { table: 'input', address: 100 },
        outputs: { address: 0, count: 4 },
        pollMs: POLL_MS,
      },
      { id: 'mod-b', bus: buses.b, unitId: buses.unitB ?? 1, channels: 8, pollMs: POLL_MS },
    ],
    zones: ZONES.map((z) => ({ ...z, debounceMs: DEBOUNCE_MS })),
    partitions: [{ id: 'wall' }],
    outputs: [{ id: 'siren-1', kind: 'siren', module: 'mod-a', index: 0 }],
  });
}

export interface PerimeterRig {
  outbox: Outbox;
  perimeter: PerimeterComponent;
}

/** Opens the outbox at `dir/outbox.db` and starts a perimeter on it (restartable on the same file). */
export function startPerimeter(dir: string, config: CompoundConfig, sink: AlarmSink): PerimeterRig {
  const clock = systemClock({ forceState: 'synced' });
  const outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
  const perimeter = createPerimeter({
    config,
    outbox,
    sink,
    clock,
    timers: realTimers,
    logs: createLoggerFactory({ level: 'silent' }),
    busOptions: { timeoutMs: 150, probeTimeoutMs: 100, retries: 0, deadAfter: 2, backoff: { minMs: 200, maxMs: 400 } },
  });
  perimeter.start();
  return { outbox, perimeter };
}

export async function stopPerimeter(rig: PerimeterRig | undefined): Promise<void> {
  if (!rig) return;
  await rig.perimeter.stop();
  rig.outbox.close();
}

export type Json = Record<string, any>;

export function perimeterProbes(rig: () => PerimeterRig) {
  const events = (): Json[] =>
    rig()
      .outbox.readEvents(0, 100_000)
      .map((r) => ({ ...(JSON.parse(r.body) as Json), class: r.class }));
  const ctx = (): CommandContext => ({
    id: 'c',
    caller: { via: 'cli', role: 'guard', principal: 'guard-anna' },
    deadline: performance.now() + 10_000,
  });
  const run = (name: string, args: Record<string, unknown>) => {
    const def = rig()
      .perimeter.commands()
      .find((d) => d.name === name) as CommandDefinition | undefined;
    if (!def) throw new Error(`no command ${name}`);
    return def.handler(def.args.parse(args), ctx());
  };
  const runError = async (name: string, args: Record<string, unknown>): Promise<GatehouseError> => {
    try {
      await run(name, args);
    } catch (err) {
      return err as GatehouseError;
    }
    throw new Error(`${name} did not fail`);
  };
  const states = () => rig().perimeter.service.states();
  return { events, run, runError, states };
}
