/**
 * Which compound file a starting daemon loads: the seed (`--config`, the installer's file)
 * until the platform applies one, then the one `{data}/config/state.json` names as running.
 *
 * This is where a crash during an apply is made harmless:
 * - a configuration on probation that is started a second time (the first start died
 *   before proving healthy: a crash, a kill, a power cut) is rolled back before it loads;
 * - one that no longer loads (schema changed by an upgrade, a damaged file) is rolled back;
 * - a last good one that no longer loads falls back to the seed file, which always exists;
 * - a damaged state.json falls back to the seed file (and is left for the operator to read).
 * Each rollback decided here is recorded as `config.rolled_back` once the gateway runs.
 *
 * A seed edited by hand since the platform's first apply wins over the platform's files: an
 * installer on site has the last word (the history is kept).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, formatProblem, parseCompound, type LoadedConfig } from '../../config/load.js';
import { GatehouseError } from '../core/errors.js';
import { ConfigStore, hashOf, type ConfigState } from './store.js';
import { layeredSecrets } from './validate.js';

/** The running configuration as config.get and the console tell it. */
export interface ConfigSource {
  origin: 'seed' | 'remote';
  version: string;
  hash: string;
  seq: number | null;
  /** The seed compound file (--config); undefined for a gateway built without one (tests). */
  seedFile: string | undefined;
  /** On probation: the gateway must prove healthy or roll back. */
  probation: boolean;
}

export interface Startup {
  loaded: LoadedConfig;
  source: ConfigSource;
  /** What happened on the way, for the log (no secret in them). */
  notes: string[];
}

/** The version name of the installer's file. */
export const SEED_VERSION = 'seed';

export function resolveStartup(seedFile: string, dataDir: string): Startup {
  const seedPath = resolve(seedFile);
  let seedText: string;
  try {
    seedText = readFileSync(seedPath, 'utf8');
  } catch (err) {
    throw new GatehouseError(
      'CONFIG_UNREADABLE',
      `${seedFile}: cannot read the compound file (${(err as NodeJS.ErrnoException).code ?? err}); check the path given to --config`,
    );
  }
  const store = new ConfigStore(dataDir);
  const notes: string[] = [];
  const seedHash = hashOf(seedText);
  // On probation on the seed only for a secrets.set made while the seed ran (its seq is null then).
  const seed = (state?: ConfigState): Startup => ({
    loaded: load(seedText, seedPath, seedPath, store),
    source: {
      origin: 'seed',
      version: SEED_VERSION,
      hash: seedHash,
      seq: null,
      seedFile: seedPath,
      probation: state?.probation?.seq === null,
    },
    notes,
  });
  let state: ConfigState | undefined;
  try {
    state = store.read();
  } catch (err) {
    notes.push(`${store.dir}/state.json is damaged (${(err as Error).message}); starting with the seed file ${seedPath}`);
    return seed();
  }
  if (!state) return seed();
  if (state.seedHash !== seedHash) {
    notes.push(`${seedPath} was edited since the platform applied a configuration: it wins; the platform's history is kept`);
    const p = state.probation;
    if (p) state = store.rollBack(state, 'the seed file was edited on the box');
    state = { ...state, seedHash, running: null, lastGood: null };
    store.write(state);
    return seed();
  }
  if (state.probation) {
    const p = state.probation;
    if (p.starts >= 1) {
      const why = 'the gateway stopped or restarted before the change proved healthy (a crash, a kill or a power cut)';
      state = rollBack(store, state, why);
      const what = p.secrets ? `secrets.set of ${p.secrets.join(', ')}` : `configuration ${store.entry(state, p.seq)?.version}`;
      notes.push(`${what} rolled back: it did not survive its probation`);
    } else {
      state = { ...state, probation: { ...p, starts: p.starts + 1 } };
      store.write(state);
    }
  }
  for (;;) {
    const seq = state.running;
    if (seq === null) return seed(state);
    const entry = store.entry(state, seq);
    const file = store.fileOf(seq);
    try {
      if (!entry) throw new Error(`no history entry ${seq}`);
      const text = store.text(seq);
      if (hashOf(text) !== entry.hash) throw new Error(`${file} does not match the hash it was applied with`);
      return {
        loaded: load(text, file, seedPath, store),
        source: {
          origin: 'remote',
          version: entry.version,
          hash: entry.hash,
          seq,
          seedFile: seedPath,
          probation: state.probation?.seq === seq,
        },
        notes,
      };
    } catch (err) {
      const why = err instanceof ConfigError ? err.problems.map(formatProblem).join('; ') : (err as Error).message;
      if (state.probation?.seq === seq) {
        state = rollBack(store, state, `it does not load: ${why}`);
        notes.push(`configuration ${entry?.version} rolled back: it does not load (${why})`);
      } else {
        notes.push(`the last good configuration ${entry?.version ?? seq} does not load (${why}); starting with the seed file ${seedPath}`);
        state = { ...state, running: null, lastGood: null };
        store.write(state);
      }
    }
  }
}

/**
 * A configuration (or secrets.set) on probation whose gateway could not even start (a required
 * component failed): rolled back now with that reason, so the restart brings the previous one
 * back at once instead of after a second failed start. False when nothing was on probation.
 */
export function rollBackAtStart(dataDir: string, source: ConfigSource, reason: string): boolean {
  const store = new ConfigStore(dataDir);
  const state = store.read();
  if (!source.probation || !state?.probation || state.probation.seq !== source.seq) return false;
  rollBack(store, state, reason);
  return true;
}

function rollBack(store: ConfigStore, state: ConfigState, reason: string): ConfigState {
  const p = state.probation!;
  const entry = store.entry(state, p.seq);
  const restored = store.entry(state, p.previous);
  return store.rollBack(state, reason, {
    type: 'config.rolled_back',
    version: entry?.version ?? SEED_VERSION,
    hash: entry?.hash ?? state.seedHash,
    restoredVersion: restored?.version ?? SEED_VERSION,
    reason,
    ...(p.secrets ? { secrets: p.secrets } : {}),
  });
}

/** Parses a compound file; secrets from the seed's secrets file (beside the seed) and the platform's over them. */
function load(text: string, file: string, seedPath: string, store: ConfigStore): LoadedConfig {
  const config = parseCompound(text, file);
  const warnings: string[] = [];
  const secrets = layeredSecrets(config, seedPath, store.readSecrets(), warnings);
  return { config, file, secrets, warnings };
}
