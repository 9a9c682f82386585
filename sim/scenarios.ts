/**
 * Demo scenarios, one per family, each next to its simulator (`sim/<family>/demo-scenario.ts`).
 * A scenario starts its simulated devices where the demo compound expects them, says what it
 * changes in the compound (ports the simulators got, fresh secrets), plays its story once the
 * gateway runs, and stops. `gatehouse demo` finds them by listing this folder: adding a family's
 * scenario is one new file, no list to edit.
 *
 * Scenarios see the gateway only through DemoHost (commands, retained states, ports), like the
 * platform and the devices do, never its modules. Config is read through `import type` only.
 */
import { readdirSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EventEmitter } from 'node:events';
import type { CompoundConfig } from '../config/schema.js';

/** The gateway as a scenario may use it once it runs. */
export interface DemoHost {
  /** The embedded broker, for simulated MQTT devices. */
  brokerUrl: string;
  /** The DC-09 receiver's TCP port, when one runs. */
  dc09TcpPort: number | undefined;
  /** Runs a command through the gateway's router, as the platform would (audited as the demo). */
  execute(command: string, args: Record<string, unknown>, id: string): Promise<{ ok: boolean }>;
  /** The latest retained state of a device (state/{device}), as the platform sees it. */
  state(device: string): Record<string, unknown> | undefined;
}

/**
 * What scenarios tell each other about the story, without importing each other: the perimeter
 * emits `zone-tripped` (zone id) when its simulated beam is crossed, the camera walks the
 * intruder into its picture.
 */
export type DemoStory = EventEmitter<{ 'zone-tripped': [zone: string] }>;

/** A scenario started for one demo run. */
export interface RunningScenario {
  /** What it changes in the compound (devices on the simulators' real ports). Merged in order. */
  config?: Partial<CompoundConfig>;
  /** Secrets the gateway needs for these devices (fresh keys and passwords). */
  secrets?: Record<string, string>;
  /** After the gateway started: connect, sync, start the story. */
  run?(host: DemoHost, say: (line: string) => void): Promise<void>;
  /** Banner lines with ready-to-paste commands; `pub(command, args)` numbers them demo-1, demo-2… */
  banner?(pub: (command: string, args: Record<string, unknown>) => string): string[];
  /** Before the gateway stops: no more story (no commands, alarms or intruders). */
  halt?(): Promise<void> | void;
  /** After the gateway stopped (stopping devices first would read as devices going offline). */
  stop(): Promise<void>;
}

/** What `gatehouse sim --config FILE` gives a family's simulators. */
export interface SimBench {
  /** The broker FILE names, for simulated MQTT devices. */
  brokerUrl: string;
  /** A secret of FILE's secrets (device passwords and keys the simulators must share). */
  secret(name: string): string | undefined;
}

/** A family's simulators running for `gatehouse sim`: what to tell the installer, and the stop. */
export interface SimulatedFamily {
  lines: string[];
  stop(): Promise<void>;
}

/** A bench that cannot start because of the compound file (exit 2, like any configuration error). */
export class BenchConfigError extends Error {}

/** Runs a family's start, naming what could not be simulated when it fails. */
export async function simulating<T>(what: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    if (err instanceof BenchConfigError) throw err;
    throw new Error(`cannot simulate the ${what}: ${(err as Error).message}`);
  }
}

export interface DemoScenario {
  /** The family it plays (a name of the family registry). */
  family: string;
  /** Place in the demo: prepare, run, banner and stop go in this order. */
  order: number;
  /**
   * Before the gateway: start the simulators for the compound as the scenarios before it left
   * it; undefined when the family is not in the compound or cannot run here (say why).
   */
  prepare(config: CompoundConfig, say: (line: string) => void, story: DemoStory): Promise<RunningScenario | undefined>;
  /**
   * `gatehouse sim --config FILE`: this family's devices of FILE, each where the gateway will
   * look for it; undefined when FILE has none.
   */
  simulate?(config: CompoundConfig, bench: SimBench): Promise<SimulatedFamily | undefined>;
}

export const SCENARIO_FILE = 'demo-scenario';

/** Every `sim/<family>/demo-scenario` next to this module (compiled .js, or .ts when run from the sources), in order. */
export async function loadScenarios(dir = dirname(fileURLToPath(import.meta.url))): Promise<DemoScenario[]> {
  const ext = extname(fileURLToPath(import.meta.url));
  const found: DemoScenario[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory()) continue;
    const file = join(dir, entry.name, `${SCENARIO_FILE}${ext}`);
    if (!readdirSync(join(dir, entry.name)).includes(`${SCENARIO_FILE}${ext}`)) continue;
    const mod = (await import(pathToFileURL(file).href)) as { scenario?: DemoScenario };
    if (!mod.scenario) throw new Error(`${file} exports no \`scenario\``);
    found.push(mod.scenario);
  }
  return found.sort((a, b) => a.order - b.order);
}
