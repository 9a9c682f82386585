/**
 * A real gateway process of the district tests: the daemon's Gateway (outbox, uplink) with
 * a light compound (no device buses: 2 shared cores run 300 emulated boxes and a 3-node
 * cluster beside it) recording GH_EVENTS events at GH_RATE per second, as its devices would.
 * Prints `ready`, then `recorded N` once all N are durably in its outbox, then
 * `delivered lastSeq=S` once its outbox is empty (every event up to seq S acknowledged by the broker).
 *
 * Environment: GH_DATA, GH_UPLINK (one URL: uplink.urls is another engineer's work this
 * session), GH_COMPOUND, GH_GATEWAY, GH_USER, GH_PASSWORD, GH_EVENTS, GH_RATE.
 */
import { CompoundConfig } from '../../config/schema.js';
import { secretsFrom } from '../../config/load.js';
import { createLoggerFactory } from '../../gateway/core/log.js';
import { Gateway } from '../../gateway/app.js';
import { sampleEvent } from '../bench/record-rate.js';

const env = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`gateway-child: ${k} is not set`);
  return v;
};
const config = CompoundConfig.parse({
  compound: { id: env('GH_COMPOUND') },
  console: { enabled: false },
  gateway: { id: env('GH_GATEWAY') },
  broker: { host: '127.0.0.1', port: 0 },
  uplink: {
    url: env('GH_UPLINK'),
    username: env('GH_USER'),
    passwordSecret: 'uplink.password',
    keepaliveSeconds: 5,
    ackTimeoutMs: 5000,
    backoff: { minMs: 100, maxMs: 2000 },
  },
  log: { level: 'warn' },
});
const gateway = new Gateway({
  config,
  secrets: secretsFrom({ 'uplink.password': env('GH_PASSWORD') }),
  dataDir: env('GH_DATA'),
  logs: createLoggerFactory(config.log, { destination: process.stderr }),
});
await gateway.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => void gateway.stop().then(() => process.exit(0)));

const total = Number(env('GH_EVENTS'));
const gapMs = 1000 / Number(env('GH_RATE'));
for (let i = 0; i < total; i++) {
  await gateway.outbox.record(sampleEvent(i));
  await new Promise((r) => setTimeout(r, gapMs));
}
process.stdout.write(`recorded ${total}\n`);
// The gateway records its own events too (start-up, uplink): the platform must see every seq up to the last one.
for (;;) {
  const stats = gateway.outbox.stats();
  if (stats.events === 0 && stats.pendingCommit === 0) {
    process.stdout.write(`delivered lastSeq=${stats.nextSeq - 1}\n`);
    break;
  }
  await new Promise((r) => setTimeout(r, 100));
}
