/**
 * Child process for the lazy-loading test: loads the compound file GATEHOUSE_PROBE_CONFIG,
 * starts the gateway on GATEHOUSE_PROBE_DATA, prints `started {rss}` and stops. Run from
 * dist/ under tests/helpers/module-log-hooks.mjs, which records what was imported.
 */
import { loadCompoundFile } from '../../config/load.js';
import { Gateway } from '../../gateway/app.js';
import { createLoggerFactory } from '../../gateway/core/log.js';

const loaded = loadCompoundFile(process.env.GATEHOUSE_PROBE_CONFIG!);
const gateway = new Gateway({
  config: loaded.config,
  secrets: loaded.secrets,
  dataDir: process.env.GATEHOUSE_PROBE_DATA!,
  logs: createLoggerFactory({ level: 'silent' }),
});
await gateway.start();
process.stdout.write(
  `started ${JSON.stringify({ rss: process.memoryUsage().rss, failed: (gateway.status() as { failedComponents: object }).failedComponents })}\n`,
);
await gateway.stop();
