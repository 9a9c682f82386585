/**
 * Child process for ws-lazy-load.test.ts: loads the compound file GATEHOUSE_PROBE_CONFIG,
 * starts the gateway on GATEHOUSE_PROBE_DATA, waits until its uplink is connected, appends
 * every CommonJS module it required to GATEHOUSE_MODULE_LOG (the ESM ones are logged by
 * tests/helpers/module-log-hooks.mjs, which sees no `require` inside a package), prints
 * `connected` and stops.
 */
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { loadCompoundFile } from '../../config/load.js';
import { Gateway } from '../../gateway/app.js';
import { createLoggerFactory } from '../../gateway/core/log.js';
import { waitFor } from './wait.js';

const loaded = loadCompoundFile(process.env.GATEHOUSE_PROBE_CONFIG!);
const gateway = new Gateway({
  config: loaded.config,
  secrets: loaded.secrets,
  dataDir: process.env.GATEHOUSE_PROBE_DATA!,
  logs: createLoggerFactory({ level: 'silent' }),
});
await gateway.start();
const uplink = () => (gateway.status() as { uplink: { connected: boolean; lastError?: unknown } }).uplink;
await waitFor(() => uplink().connected, 'the uplink to connect', 30_000, uplink);
const cjs = Object.keys(createRequire(import.meta.url).cache).map((f) => pathToFileURL(f).href);
appendFileSync(process.env.GATEHOUSE_MODULE_LOG!, cjs.map((u) => `${u}\n`).join(''));
process.stdout.write('connected\n');
await gateway.stop();
