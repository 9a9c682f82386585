/**
 * The single-node option of a district (issue 16): boxes on one Mosquitto with a password
 * per box and a topic ACL that confines each box to its own `gatehouse/v1/{compound}/{gateway}/#`,
 * and 3 competing reference consumers on an MQTT shared subscription
 * (`$share/platform/gatehouse/v1/+/+/evt/+`), each acknowledging (PUBACK) only after its
 * SQLite write. A fleet of 60 boxes and one real gateway process (simulated smart locks on its
 * embedded broker, residents using them); every seq of every box is
 * stored exactly once after dedupe, and a box cannot publish under another box's root.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetIdentity } from '../../sim/fleet/box.js';
import { DistrictStore } from '../../sim/district/store.js';
import type { Fleet } from '../../sim/fleet/fleet.js';
import { validateMessage } from '../helpers/asyncapi.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait.js';
import { makeFleet, startConsumer, startGateway, stopChild, type Child } from './harness.js';

const BOXES = 60;
const EVENTS_PER_BOX = 30;
const SECRET = 'district-mosquitto-fleet-secret';

describe('district on Mosquitto with shared subscriptions', () => {
  let broker: Mosquitto;
  let dir: string;
  const children: Child[] = [];
  let fleet: Fleet | undefined;
  const ids = Array.from({ length: BOXES }, (_, i) => fleetIdentity('share', i, SECRET));
  const real = { compound: 'real-share', gateway: 'gw-1', username: 'box-real-share-gw-1', password: 'real-share-password-1' };
  const platform = { username: 'platform', password: 'platform-password-1' };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-district-mq-'));
    const acl = join(dir, 'acl');
    const boxes = [
      ...ids.map((b) => ({ user: b.username!, root: `gatehouse/v1/${b.compound}/${b.gateway}` })),
      { user: real.username, root: `gatehouse/v1/${real.compound}/${real.gateway}` },
    ];
    // Each box writes only under its own root and reads only its commands; the platform reads all events and sends commands.
    writeFileSync(
      acl,
      [
        ...boxes.flatMap((b) => [`user ${b.user}`, `topic write ${b.root}/#`, `topic read ${b.root}/cmd/+`, '']),
        `user ${platform.username}`,
        'topic read gatehouse/v1/+/+/#',
        'topic write gatehouse/v1/+/+/cmd/+',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    broker = await startMosquitto({
      users: {
        ...Object.fromEntries(ids.map((b) => [b.username!, b.password!])),
        [real.username]: real.password,
        [platform.username]: platform.password,
      },
      extraConfig: [`acl_file ${acl}`],
    });
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
    for (const c of children) await stopChild(c, 'SIGKILL');
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('stores every seq of every box exactly once after dedupe, with 3 consumers on $share', async () => {
    const db = join(dir, 'platform.db');
    const url = broker.url.replace('mqtt://', `mqtt://${platform.username}:${platform.password}@`);
    for (let i = 0; i < 3; i++) children.push(await startConsumer({ db, name: `s${i + 1}`, mqttUrl: url, group: 'platform' }));
    const reader = new DistrictStore(db, 'test-reader');
    const gw = await startGateway({
      data: join(dir, 'gw'),
      uplinks: [broker.url],
      compound: real.compound,
      gateway: real.gateway,
      user: real.username,
      password: real.password,
      locks: 3,
      intervalMs: 200,
    });
    children.push(gw);
    fleet = await makeFleet({ boxes: BOXES, rate: 3, urls: [broker.url], secret: SECRET, eventsPerBox: EVENTS_PER_BOX, prefix: 'share' });
    fleet.start();
    await waitFor(
      () => fleet!.done(),
      'every fleet event acknowledged by Mosquitto',
      120_000,
      () => fleet!.report().acked,
    );
    // The residents stop; the gateway also records its own events (start-up, uplink, devices): its last seq is what it says it delivered.
    const lastSeq = await gw.finish(120_000);
    const total = BOXES * EVENTS_PER_BOX + lastSeq;
    await waitFor(
      () => reader.count() >= total,
      `all ${total} events stored`,
      120_000,
      () => reader.count(),
    );

    const report = reader.report();
    expect(report.problems).toEqual([]);
    expect(report.unique).toBe(total);
    for (const b of fleet.report().boxes) {
      const g = report.gateways.find((x) => x.compound === b.compound);
      expect([g?.unique, g?.maxSeq, g?.missingCount]).toEqual([b.lastSeq, b.lastSeq, 0]);
    }
    const g = report.gateways.find((x) => x.compound === real.compound);
    expect([g?.unique, g?.maxSeq, g?.missingCount]).toEqual([lastSeq, lastSeq, 0]);
    const types = reader.db.prepare('SELECT DISTINCT type FROM events WHERE compound = ?').all(real.compound) as { type: string }[];
    expect(types.map((t) => t.type)).toContain('access.granted');
    // The load was shared: every consumer stored some.
    const per = reader.db.prepare('SELECT consumer, count(*) AS n FROM events GROUP BY consumer').all() as {
      consumer: string;
      n: number;
    }[];
    expect(per.map((p) => p.consumer).sort()).toEqual(['s1', 's2', 's3']);
    console.log(
      `mosquitto $share: ${report.unique} unique, ${report.duplicates} duplicates, per consumer ${per.map((p) => `${p.consumer}=${p.n}`).join(' ')}`,
    );

    // What the fleet publishes is the contract: every stored fleet envelope validates against docs/asyncapi.yaml, every class is there.
    const rows = reader.db.prepare("SELECT compound, gateway, class, body FROM events WHERE compound LIKE 'share-%'").all() as {
      compound: string;
      gateway: string;
      class: string;
      body: string;
    }[];
    const invalid = rows
      .map((r) => ({ r, v: validateMessage(`gatehouse/v1/${r.compound}/${r.gateway}/evt/${r.class}`, r.body) }))
      .filter((x) => !x.v.ok);
    expect(invalid.slice(0, 3).map((x) => [x.r.body, x.v.errors])).toEqual([]);
    expect(new Set(rows.map((r) => r.class))).toEqual(new Set(['access', 'charging', 'device', 'system', 'alarm']));

    // The ACL: box 1 publishing under box 2's root never reaches the platform. (Mosquitto may answer the
    // denied publish by closing the connection: the marker goes on a connection of its own.)
    const a = ids[0]!;
    const forged = {
      v: 1,
      id: '01JD3M6R9Q8ZABCDEFGHJKMNPQ',
      seq: 9999,
      ts: new Date().toISOString(),
      clock: 'synced',
      type: 'access.granted',
      source: { device: 'x' },
      data: {},
    };
    const intruder = await mqtt.connectAsync(broker.url, {
      clientId: 'intruder',
      username: a.username,
      password: a.password,
      reconnectPeriod: 0,
    });
    intruder.publish(`gatehouse/v1/${ids[1]!.compound}/gw-1/evt/access`, JSON.stringify(forged), { qos: 1 });
    await new Promise((r) => setTimeout(r, 500));
    await intruder.endAsync(true);
    // A marker on its own root, sent after the forged one, proves the consumers had their chance to see it.
    const marker = { ...forged, id: '01JD3M6R9Q8ZABCDEFGHJKMNPR', seq: EVENTS_PER_BOX + 1 };
    const own = await mqtt.connectAsync(broker.url, {
      clientId: 'intruder-marker',
      username: a.username,
      password: a.password,
      reconnectPeriod: 0,
    });
    await own.publishAsync(`gatehouse/v1/${a.compound}/gw-1/evt/access`, JSON.stringify(marker), { qos: 1 });
    await own.endAsync(true);
    await waitFor(() => reader.count() >= total + 1, 'the marker stored', 30_000);
    expect(reader.db.prepare('SELECT count(*) AS n FROM events WHERE seq = 9999').get()).toEqual({ n: 0 });
    reader.close();
  }, 600_000);
});
