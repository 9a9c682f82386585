/**
 * `npm run bench:district` (issue 16): the district path on a real 3-node RabbitMQ cluster,
 * every figure next to a baseline measured in the same run.
 *
 * 1. Throughput: the fleet emulator (300 boxes, offered far above capacity) -> cluster ->
 *    3 reference consumer processes -> SQLite (durable write, then ack), as a ratio of a bare
 *    path: 30 plain MQTT.js publishers (QoS 1, window 16) -> cluster -> 3 bare amqplib
 *    consumers that ack without writing anything.
 * 2. Failover gap: SIGKILL one node under the realistic mix; per moved box, the time from its
 *    lost connection to its next PUBACK on another node; p50/p99 over boxes.
 * 3. The fleet emulator's own cost at the realistic mix (0.5 events/s per box): CPU and RSS
 *    per 100 boxes, against this process before the fleet started.
 * 4. Boxes per cluster node before the consumers fall behind, measured by ramping fleets on
 *    one node (bench-ramp.ts), and the events/s that carries as a ratio of the baseline of 1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { fleetIdentity } from '../../sim/fleet/box.js';
import { DistrictStore } from '../../sim/district/store.js';
import { BACKLOG_SLACK, P99_LIMIT_MS, RAMP_RATE, rampCredentials, rampOneNode } from './bench-ramp.js';
import { boxCredentials, EVENTS_QUEUE, RabbitCluster, type BoxCredentials } from './cluster.js';
import { makeFleet, startConsumer, stopChild, type Child } from './harness.js';

const BOXES = 300;
const SECRET = 'district-bench-secret';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Bare path: plain publishers, consumers that ack and write nothing. Returns messages/s. */
async function baseline(cluster: RabbitCluster, pubs: BoxCredentials[], perPublisher: number, body: string): Promise<number> {
  const urls = cluster.mqttUrls();
  let consumed = 0;
  const models = await Promise.all([0, 1, 2].map((i) => amqp.connect(cluster.amqpUrl(i))));
  for (const m of models) {
    const ch = await m.createChannel();
    await ch.prefetch(500);
    let n = 0;
    await ch.consume(EVENTS_QUEUE, (msg) => {
      if (!msg) return;
      consumed++;
      // One multiple-ack per 100, as a batching consumer does; the tail stays unacked (it is counted as consumed).
      if (++n % 100 === 0) ch.ack(msg, true);
    });
  }
  const clients = await Promise.all(
    pubs.map((p, i) =>
      mqtt.connectAsync(urls[i % urls.length]!, {
        clientId: p.clientId,
        username: p.username,
        password: p.password,
        clean: true,
        reconnectPeriod: 0,
      }),
    ),
  );
  const total = pubs.length * perPublisher;
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (c, i) => {
      const topic = `gatehouse/v1/${pubs[i]!.compound}/${pubs[i]!.gateway}/evt/access`;
      let next = 0;
      const worker = async () => {
        while (next < perPublisher) {
          next++;
          await c.publishAsync(topic, body, { qos: 1 });
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
    }),
  );
  await until(() => consumed >= total - 100 * 3, 120_000, 'baseline consumed');
  const rate = consumed / ((performance.now() - t0) / 1000);
  await Promise.all(clients.map((c) => c.endAsync(true)));
  for (const m of models) await m.close().catch(() => undefined);
  return rate;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-district-'));
  const children: Child[] = [];
  let cluster: RabbitCluster | undefined;
  try {
    console.log(`gatehouse district benchmark — node ${process.version}, RabbitMQ cluster of 3 nodes on this machine\n`);
    const t0 = Date.now();
    cluster = await RabbitCluster.start();
    console.log(`   cluster up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const fleetCreds = (prefix: string) =>
      Array.from({ length: BOXES }, (_, i) => {
        const id = fleetIdentity(prefix, i, SECRET);
        return { compound: id.compound, gateway: id.gateway, username: id.username!, password: id.password!, clientId: id.clientId };
      });
    const pubs = Array.from({ length: 30 }, (_, i) => boxCredentials(`bare-${i}`, 'gw-1'));
    await cluster.addBoxes([...fleetCreds('tput'), ...fleetCreds('gap'), ...fleetCreds('cost'), ...pubs, ...rampCredentials(SECRET)]);

    // 1. Throughput.
    const sample = JSON.stringify({
      v: 1,
      id: '01JD3M6R9Q8ZABCDEFGHJKMNPQ',
      seq: 1,
      ts: new Date().toISOString(),
      clock: 'synced',
      type: 'access.granted',
      source: { device: 'gate-north', point: 'reader-in' },
      data: { credential: '****5678', door: 'gate-north', direction: 'in', holder: 'flat-2-201' },
    });
    const base = await baseline(cluster, pubs, 400, sample);
    const db = join(dir, 'platform.db');
    const amqpUrls = [0, 1, 2].map((i) => cluster!.amqpUrl(i));
    for (let i = 0; i < 3; i++)
      children.push(
        await startConsumer({
          db,
          name: `c${i}`,
          amqpUrls: [...amqpUrls.slice(i), ...amqpUrls.slice(0, i)],
          queue: EVENTS_QUEUE,
          prefetch: 500,
        }),
      );
    const reader = new DistrictStore(db, 'bench');
    const perBox = 40;
    const fleet = await makeFleet({
      boxes: BOXES,
      rate: 100,
      urls: cluster.mqttUrls(),
      secret: SECRET,
      eventsPerBox: perBox,
      prefix: 'tput',
    });
    const t1 = performance.now();
    fleet.start();
    await until(() => reader.count() >= BOXES * perBox, 300_000, 'fleet events stored');
    const fleetRate = reader.count() / ((performance.now() - t1) / 1000);
    await fleet.stop();
    console.log('1. events/s through the cluster to the consumers');
    console.log(`   baseline  30 bare MQTT publishers -> 3 bare AMQP consumers (ack only) : ${Math.round(base)} msg/s`);
    console.log(`   fleet     ${BOXES} boxes -> 3 reference consumers (SQLite FULL, then ack) : ${Math.round(fleetRate)} events/s`);
    console.log(`   ratio fleet/baseline = ${(fleetRate / base).toFixed(3)}\n`);

    // 2. Failover gap under the realistic mix.
    const gapFleet = await makeFleet({ boxes: BOXES, rate: 2, urls: cluster.mqttUrls(), secret: SECRET, prefix: 'gap' });
    gapFleet.start();
    await until(() => gapFleet.report().connected === BOXES, 120_000, 'gap fleet connected');
    await sleep(5000);
    cluster.kill(1);
    const moved = gapFleet.boxes.map((_, i) => i).filter((i) => i % 3 === 1);
    await until(() => moved.every((i) => gapFleet.report().boxes[i]!.gapsMs.length > 0), 120_000, 'moved boxes delivering again');
    const gaps = moved.map((i) => gapFleet.report().boxes[i]!.gapsMs[0]! / 1000);
    await gapFleet.stop();
    console.log('2. failover gap (lost connection -> next PUBACK on another node), boxes of the killed node');
    console.log(
      `   ${moved.length} boxes: p50 ${pct(gaps, 50).toFixed(2)} s, p99 ${pct(gaps, 99).toFixed(2)} s, max ${Math.max(...gaps).toFixed(2)} s\n`,
    );
    await cluster.restart(1);

    // 3. The fleet emulator's own cost.
    global.gc?.();
    await sleep(500);
    const rss0 = process.memoryUsage().rss;
    const costFleet = await makeFleet({ boxes: BOXES, rate: 0.5, urls: cluster.mqttUrls(), secret: SECRET, prefix: 'cost' });
    costFleet.start();
    await until(() => costFleet.report().connected === BOXES, 120_000, 'cost fleet connected');
    await sleep(3000);
    const cpu0 = process.cpuUsage();
    const w0 = performance.now();
    await sleep(20_000);
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - w0;
    const rss1 = process.memoryUsage().rss;
    await costFleet.stop();
    const cpuShare = (cpu.user + cpu.system) / 1000 / wall;
    console.log(`3. fleet emulator at the realistic mix (0.5 events/s per box), per 100 boxes`);
    console.log(
      `   CPU ${((cpuShare * 100 * 100) / BOXES).toFixed(2)} % of one core, RSS +${((rss1 - rss0) / 1024 / 1024 / (BOXES / 100)).toFixed(1)} MB (process RSS ${(rss0 / 1048576).toFixed(0)} -> ${(rss1 / 1048576).toFixed(0)} MB)`,
    );
    console.log('');

    // 4. Boxes per node, measured.
    console.log(
      `4. boxes per cluster node before the consumers fall behind: fleets at ${RAMP_RATE} events/s per box, all on node 1, ` +
        `3 reference consumers; carried = box->store p99 <= ${P99_LIMIT_MS} ms and the backlog grows by <= ${BACKLOG_SLACK * 100} % of what was offered`,
    );
    const steps = await rampOneNode(cluster, reader, 0, SECRET, (l) => console.log(l));
    const carried = steps.filter((x) => x.carried).at(-1);
    if (!carried) console.log('   => not even the first step was carried on this machine now');
    else {
      const ceiling = steps.at(-1)!.carried ? ' (the last step of the ramp: the ceiling is higher)' : '';
      console.log(
        `   => ${carried.boxes} boxes per node carried${ceiling}: ${carried.storedPerS.toFixed(0)} events/s stored = ` +
          `${(carried.storedPerS / base).toFixed(3)} x the bare baseline of section 1\n`,
      );
    }
    reader.close();
  } finally {
    for (const c of children) await stopChild(c, 'SIGKILL');
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

await main();
