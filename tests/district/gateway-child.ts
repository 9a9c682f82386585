/**
 * A real gateway process of the district tests: the daemon's Gateway (embedded broker,
 * smart-lock family, outbox, uplink) with GH_LOCKS simulated smart locks (sim/smartlock, the
 * demo's) connected to its embedded broker as real MQTT clients, residents using them every
 * GH_INTERVAL_MS on average. So the events come from a device bus through the lock family,
 * as in a compound, not from a loop that writes the outbox directly. Locks were chosen over
 * the OSDP or Modbus simulators because they need no pty or serial pacing: ten of these run
 * beside a 3-node cluster and 300 emulated boxes on 2 shared cores.
 *
 * The uplink gets the whole GH_UPLINK list (comma-separated: the cluster's nodes, this
 * gateway's first node first), so a lost node means failover, not waiting.
 *
 * stdout protocol (one line each):
 * - `ready` once started and the locks are connected;
 * - `uplink URL nextSeq=S` every time the uplink connects (the node, redacted, and the seq the
 *   outbox assigns next), so a test sees it move and can tell events recorded after the move;
 * - on SIGUSR2: the residents stop and the locks leave (a lock still has doors to close and
 *   relocks pending after a resident's action: stopping it cancels them, and its going offline
 *   is recorded now, not later), and once the outbox is empty and no new seq appeared for
 *   QUIET_MS, `delivered lastSeq=S` (every event up to seq S acknowledged by the broker).
 * SIGTERM stops the gateway.
 *
 * Environment: GH_DATA, GH_UPLINK, GH_COMPOUND, GH_GATEWAY, GH_USER, GH_PASSWORD, GH_LOCKS,
 * GH_INTERVAL_MS.
 */
import { randomBytes } from 'node:crypto';
import { CompoundConfig } from '../../config/schema.js';
import { secretsFrom } from '../../config/load.js';
import { createLoggerFactory } from '../../gateway/core/log.js';
import { Gateway } from '../../gateway/app.js';
import { startSimulatedLocks } from '../../sim/smartlock/index.js';

/** How long the outbox must stay empty with no new seq before the last seq is final. */
const QUIET_MS = 3000;

const env = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`gateway-child: ${k} is not set`);
  return v;
};
const lockIds = Array.from({ length: Number(env('GH_LOCKS')) }, (_, i) => `flat-${i + 1}`);
const lockPasswords = Object.fromEntries(lockIds.map((id) => [`devices.${id}`, randomBytes(12).toString('hex')]));
const config = CompoundConfig.parse({
  compound: { id: env('GH_COMPOUND') },
  console: { enabled: false },
  gateway: { id: env('GH_GATEWAY') },
  broker: { host: '127.0.0.1', port: 0 },
  locks: lockIds.map((id) => ({ id })),
  uplink: {
    urls: env('GH_UPLINK').split(','),
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
  secrets: secretsFrom({ 'uplink.password': env('GH_PASSWORD'), ...lockPasswords }),
  dataDir: env('GH_DATA'),
  logs: createLoggerFactory(config.log, { destination: process.stderr }),
});
await gateway.start();
const uplink = gateway.uplink!;
const printNode = (): void => void process.stdout.write(`uplink ${uplink.status().url} nextSeq=${gateway.outbox.stats().nextSeq}\n`);
uplink.on('connected', printNode);
if (uplink.status().connected) printNode();

const locks = await startSimulatedLocks({
  url: `mqtt://127.0.0.1:${gateway.brokerPort}`,
  locks: lockIds.map((id) => ({ id, password: lockPasswords[`devices.${id}`]! })),
  // No unplugged locks: one coming back after the residents stopped would add an event after the final count.
  scenario: { meanIntervalMs: Number(env('GH_INTERVAL_MS')), weights: { offline: 0 } },
});
process.stdout.write('ready\n');
process.on('SIGTERM', () => void locks.stop().then(() => gateway.stop().then(() => process.exit(0))));

process.once('SIGUSR2', () => void finish());

async function finish(): Promise<void> {
  await locks.stop();
  // The gateway records events of its own too (start-up, uplink, devices): the platform must see every seq up to the last one.
  let seen = -1;
  let quietSince = Date.now();
  for (;;) {
    const stats = gateway.outbox.stats();
    if (stats.nextSeq !== seen || stats.events > 0 || stats.pendingCommit > 0) {
      seen = stats.nextSeq;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= QUIET_MS) {
      process.stdout.write(`delivered lastSeq=${stats.nextSeq - 1}\n`);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
