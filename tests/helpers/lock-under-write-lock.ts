/**
 * A smart lock in its own process that also holds the outbox's SQLite write lock while it
 * publishes one QoS 1 event: the gateway (another process) cannot commit until the lock
 * is released, so a PUBACK that arrives while it is held was sent before the commit.
 * Prints one JSON line: `{ pubackWhileHeld, pubackAfterRelease }`.
 * Environment: GH_DB, GH_URL, GH_LOCK, GH_PASSWORD, GH_HOLD_MS.
 */
import Database from 'better-sqlite3';
import mqtt from 'mqtt';

const db = new Database(process.env.GH_DB!);
db.pragma('busy_timeout = 5000');
const lock = process.env.GH_LOCK!;
const client = await mqtt.connectAsync(process.env.GH_URL!, {
  clientId: lock,
  username: lock,
  password: process.env.GH_PASSWORD!,
  reconnectPeriod: 0,
});
let held = true;
let pubackWhileHeld = false;
client.on('packetreceive', (p) => {
  if (p.cmd === 'puback' && held) pubackWhileHeld = true;
});
db.exec('BEGIN IMMEDIATE');
const acked = client.publishAsync(`lan/v1/lock/${lock}/evt`, JSON.stringify({ type: 'door', eid: `${lock}-held`, door: 'open' }), {
  qos: 1,
});
await new Promise((r) => setTimeout(r, Number(process.env.GH_HOLD_MS ?? 1000)));
held = false;
db.exec('ROLLBACK');
await acked;
process.stdout.write(`${JSON.stringify({ pubackWhileHeld, pubackAfterRelease: true })}\n`);
await client.endAsync();
db.close();
