/**
 * What `gatehouse check` says when the platform has applied a configuration: the daemon runs
 * `{data}/config/compound-N.yaml`, not the seed file given to --config, so a check of the seed
 * alone would vouch for a file that is not running. Read-only: unlike the daemon's start-up
 * (startup.ts), nothing here rolls back, counts a start or writes state.json.
 */
import { readFileSync } from 'node:fs';
import { ConfigStore, hashOf } from './store.js';

/** A line naming the applied configuration the daemon would start with, or undefined when it would start with the seed. */
export function appliedConfigNotice(seedFile: string, dataDir: string): string | undefined {
  const store = new ConfigStore(dataDir);
  let state;
  try {
    state = store.read();
  } catch (err) {
    return `${store.dir}/state.json is damaged (${(err as Error).message}): the daemon will start with ${seedFile}`;
  }
  if (!state || state.running === null) return undefined;
  // A seed edited by hand since the platform's apply wins at the next start (startup.ts).
  if (state.seedHash !== hashOf(readFileSync(seedFile, 'utf8'))) return undefined;
  const entry = store.entry(state, state.running);
  return (
    `this checked the seed file ${seedFile}, but the daemon runs configuration ${entry?.version ?? state.running} ` +
    `applied by the platform: ${store.fileOf(state.running)}${state.probation?.seq === state.running ? ' (on probation)' : ''}; ` +
    `check that one with: gatehouse check --config ${store.fileOf(state.running)} --data ${dataDir}`
  );
}
