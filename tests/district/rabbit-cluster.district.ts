/**
 * A district on a 3-node RabbitMQ cluster (issue 16): real gateway processes and a fleet of
 * 300 emulated boxes publish over MQTT to the nodes; 3 competing reference consumers read the
 * quorum queue over AMQP and write to one SQLite file before acknowledging. In the middle, one
 * broker node is SIGKILLed (the boxes on it fail over) and one consumer hangs and is SIGKILLed
 * with deliveries in hand (its unacknowledged deliveries go to the others); the node is then
 * restarted and rejoins.
 * After the run every gateway's seq 1..N is stored exactly once after dedupe.
 *
 * 3 real gateways, not 10: this machine has 2 cores shared with the cluster and the fleet.
 * Each real gateway has one uplink URL (uplink.urls lands separately); the one on the killed
 * node keeps its events in its outbox until the node is back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetIdentity } from '../../sim/fleet/box.js';
import { DistrictStore } from '../../sim/district/store.js';
import type { Fleet } from '../../sim/fleet/fleet.js';
import { waitFor } from '../helpers/wait.js';
import { boxCredentials, EVENTS_QUEUE, RabbitCluster, type BoxCredentials } from './cluster.js';
import { makeFleet, startConsumer, startGateway, stopChild, type Child } from './harness.js';

const BOXES = 300;
const EVENTS_PER_BOX = 30;
const GATEWAYS = 3;
const GATEWAY_EVENTS = 150;
const SECRET = 'district-test-fleet-secret';

describe('district on a 3-node RabbitMQ cluster', () => {
  let cluster: RabbitCluster;
  let dir: string;
  const children: Child[] = [];
  let fleet: Fleet | undefined;
  const gwCreds = Array.from({ length: GATEWAYS }, (_, i) => boxCredentials(`real-${i + 1}`, 'gw-1'));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-district-'));
    cluster = await RabbitCluster.start();
    const fleetBoxes: BoxCredentials[] = Array.from({ length: BOXES }, (_, i) => {
      const id = fleetIdentity('fleet', i, SECRET);
      return { compound: id.compound, gateway: id.gateway, username: id.username!, password: id.password!, clientId: id.clientId };
    });
    await cluster.addBoxes([...fleetBoxes, ...gwCreds]);
  }, 400_000);

  afterAll(async () => {
    await fleet?.stop();
    for (const c of children) await stopChild(c, 'SIGKILL');
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('delivers every seq of every box exactly once after dedupe through a node kill and a consumer kill', async () => {
    const db = join(dir, 'platform.db');
    const amqp = [0, 1, 2].map((i) => cluster.amqpUrl(i));
    // Consumer i starts on node i; each has the whole list to move on.
    const consumers: Child[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await startConsumer({
        db,
        name: `c${i + 1}`,
        amqpUrls: [...amqp.slice(i), ...amqp.slice(0, i)],
        queue: EVENTS_QUEUE,
        prefetch: 500,
      });
      consumers.push(c);
      children.push(c);
    }
    const reader = new DistrictStore(db, 'test-reader');
    const urls = cluster.mqttUrls();
    const gateways: Child[] = [];
    for (const [i, cred] of gwCreds.entries()) {
      const g = await startGateway({
        data: join(dir, `gw-${i}`),
        uplink: urls[i % urls.length]!,
        compound: cred.compound,
        gateway: cred.gateway,
        user: cred.username,
        password: cred.password,
        events: GATEWAY_EVENTS,
        rate: 10,
      });
      gateways.push(g);
      children.push(g);
    }

    fleet = await makeFleet({ boxes: BOXES, rate: 2, urls, secret: SECRET, eventsPerBox: EVENTS_PER_BOX });
    fleet.start();
    await waitFor(
      () => fleet!.report().connected === BOXES,
      'all fleet boxes connected',
      120_000,
      () => fleet!.report().connected,
    );
    const total = BOXES * EVENTS_PER_BOX + GATEWAYS * GATEWAY_EVENTS;
    await waitFor(
      () => reader.count() > total / 5,
      'a fifth of the events stored',
      120_000,
      () => reader.count(),
    );

    // Node 2 dies without warning: a third of the boxes and real-2's uplink were on it.
    const onNode2 = fleet.boxes.filter((_, i) => i % 3 === 1).map((b) => b.root);
    cluster.kill(1);
    // A consumer hangs, then dies: while it is stopped the broker keeps handing it deliveries up
    // to its prefetch of 500, none of which it writes or acknowledges. Waiting for the others to
    // store more makes sure it holds some when it dies, however fast this machine drains the
    // queue (a consumer killed while idle holds nothing, and CI once saw exactly that).
    await waitFor(
      () => reader.count() > total / 3,
      'a third of the events stored',
      120_000,
      () => reader.count(),
    );
    consumers[0]!.proc.kill('SIGSTOP');
    const storedWhenHung = reader.count();
    await waitFor(
      () => reader.count() > storedWhenHung + 300,
      'the other consumers stored 300 more while c1 hung',
      120_000,
      () => reader.count() - storedWhenHung,
    );
    consumers[0]!.proc.kill('SIGKILL');

    await waitFor(
      () => fleet!.report().connected === BOXES,
      'the boxes of the killed node reconnected elsewhere',
      120_000,
      () => fleet!.report().connected,
    );
    const moved = fleet.report().boxes.filter((b) => onNode2.includes(`gatehouse/v1/${b.compound}/${b.gateway}`));
    expect(moved.every((b) => b.connections >= 2 && b.url !== urls[1])).toBe(true);

    await cluster.restart(1);
    expect((await cluster.runningNodes()).length).toBe(3);

    await waitFor(
      () => fleet!.done(),
      'every fleet event acknowledged by the cluster',
      180_000,
      () => fleet!.report().acked,
    );
    // A real gateway also records its own events (start-up, uplink): its last seq is what it says it delivered.
    const lastSeqs: number[] = [];
    for (const g of gateways) lastSeqs.push(Number((await g.line(/^delivered lastSeq=/, 180_000)).split('=')[1]));
    expect(lastSeqs.every((s) => s >= GATEWAY_EVENTS)).toBe(true);
    const all = BOXES * EVENTS_PER_BOX + lastSeqs.reduce((a, b) => a + b, 0);
    await waitFor(
      () => reader.count() >= all,
      `all ${all} events stored`,
      180_000,
      () => reader.count(),
    );

    const report = reader.report();
    expect(report.problems).toEqual([]);
    expect(report.unique).toBe(all);
    const byRoot = new Map(report.gateways.map((g) => [`${g.compound}/${g.gateway}`, g]));
    for (const b of fleet.report().boxes) {
      const g = byRoot.get(`${b.compound}/${b.gateway}`);
      expect(g, `${b.compound} stored`).toBeDefined();
      expect([g!.unique, g!.maxSeq, g!.missingCount]).toEqual([b.lastSeq, b.lastSeq, 0]);
    }
    for (let i = 0; i < GATEWAYS; i++) {
      const g = byRoot.get(`real-${i + 1}/gw-1`);
      expect([g?.unique, g?.maxSeq, g?.missingCount]).toEqual([lastSeqs[i], lastSeqs[i], 0]);
    }
    expect(report.orderViolations).toBe(0);
    // The killed consumer's unacknowledged deliveries were stored by the others, marked redelivered.
    const redelivered = reader.db.prepare("SELECT count(*) AS n FROM events WHERE redelivered = 1 AND consumer != 'c1'").get() as {
      n: number;
    };
    expect(redelivered.n).toBeGreaterThan(0);
    console.log(`district: ${report.unique} unique, ${report.duplicates} duplicates, ${redelivered.n} redelivered after the consumer kill`);

    // Retained status of the moved boxes: online on the node each moved to (3.10 keeps retained messages per node).
    const sample = fleet
      .report()
      .boxes.filter((b) => onNode2.includes(`gatehouse/v1/${b.compound}/${b.gateway}`))
      .slice(0, 10);
    for (const b of sample) {
      const sub = await mqtt.connectAsync(b.url!, {
        clientId: `platform-status-${b.compound}`,
        username: cluster.platformUser,
        password: cluster.platformPassword,
        clean: true,
        reconnectPeriod: 0,
      });
      const got = new Promise<string>((res) => sub.on('message', (_t, p) => res(p.toString())));
      await sub.subscribeAsync(`gatehouse/v1/${b.compound}/${b.gateway}/status`, { qos: 1 });
      const status = JSON.parse(
        await Promise.race([
          got,
          new Promise<string>((_, rej) => setTimeout(() => rej(new Error(`no retained status for ${b.compound} on ${b.url}`)), 5000)),
        ]),
      ) as { state: string };
      expect(status.state).toBe('online');
      await sub.endAsync();
    }
    reader.close();
  }, 900_000);
});
