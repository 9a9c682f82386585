/**
 * A real gateway in a child process under load, for the crash tests: it records events
 * as fast as group commit allows and prints `acked N` each time a batch is durably
 * recorded (N = highest seq), so the parent knows what the gateway promised before it
 * was killed. Environment: GH_DATA, GH_UPLINK, GH_MODE=load|drain, and for the kill soak's mixed
 * load (all optional): GH_DC09_PORT (a SIA DC-09 receiver), GH_LOCKS (`id:password,...`:
 * smart locks on the embedded broker, whose port is printed as `broker N`), GH_CABINETS (`id:port:ports,...`:
 * charging cabinets over Modbus TCP on 127.0.0.1).
 */
import { CompoundConfig } from '../../config/schema.js';
import { secretsFrom } from '../../config/load.js';
import { createLoggerFactory } from '../../gateway/core/log.js';
import { Gateway } from '../../gateway/app.js';
import { sampleEvent } from '../bench/record-rate.js';

const dataDir = process.env.GH_DATA!;
const uplinkUrl = process.env.GH_UPLINK!;
const mode = process.env.GH_MODE ?? 'load';
const pairs = (v: string | undefined): string[][] => (v ? v.split(',').map((p) => p.split(':')) : []);
const locks = pairs(process.env.GH_LOCKS);
const cabinets = pairs(process.env.GH_CABINETS);

const config = CompoundConfig.parse({
  compound: { id: 'crash-court' },
  console: { enabled: false },
  gateway: { id: 'gw-crash' },
  broker: { host: '127.0.0.1', port: 0 },
  uplink: { url: uplinkUrl, keepaliveSeconds: 5, ackTimeoutMs: 5000, backoff: { minMs: 50, maxMs: 500 } },
  outbox: { checkpointIntervalMs: 1000 },
  log: { level: 'warn' },
  // GH_DC09_PORT: also receive SIA DC-09 from a simulated panel (the soak's mixed load).
  ...(process.env.GH_DC09_PORT
    ? {
        alarmPanels: [{ id: 'panel-soak', account: '1234', supervisionS: 0 }],
        perimeter: { dc09: { host: '127.0.0.1', tcpPort: Number(process.env.GH_DC09_PORT) } },
      }
    : {}),
  locks: locks.map(([id]) => ({ id })),
  cabinets: cabinets.map(([id, port, ports]) => ({
    id,
    bus: { tcp: { host: '127.0.0.1', port: Number(port) } },
    unitId: 1,
    ports: Number(ports),
    pollMs: 200,
  })),
});
const secrets = secretsFrom(Object.fromEntries(locks.map(([id, password]) => [`devices.${id}`, password!])));
const gateway = new Gateway({ config, secrets, dataDir, logs: createLoggerFactory(config.log, { destination: process.stderr }) });
await gateway.start();
// The embedded broker's port is new each life: a fixed one can be taken by another program between two lives.
process.stdout.write(`broker ${gateway.brokerPort}\nready\n`);

let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
  void gateway.stop().then(() => process.exit(0));
});

let i = 0;
async function load(): Promise<void> {
  while (!stopping) {
    const batch: Promise<{ seq: number }>[] = [];
    for (let j = 0; j < 200; j++) batch.push(gateway.outbox.record(sampleEvent(i++)));
    const envelopes = await Promise.all(batch);
    process.stdout.write(`acked ${envelopes[envelopes.length - 1]!.seq}\n`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
if (mode === 'load') void load();
