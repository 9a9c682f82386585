/**
 * Failover between broker nodes (`uplink.urls`): three real Mosquitto processes stand in
 * for the nodes of a cluster, and the platform reads from all of them. Under load, the node
 * the gateway is on is killed (SIGKILL): the gateway moves to the next node with its usual
 * backoff, and across the move nothing recorded is lost, each class stays in order, the
 * retained status and device states are republished on the new node, its last will is
 * registered there, and its command subscription works there.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/core/clock.js';
import { cmdTopic, topicRoot } from '../../gateway/core/topics.js';
import { EventChecker } from '../../sim/event-checker.js';
import { spawnCli } from '../helpers/cli.js';
import { freePort, type Mosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { makeRig, outboxBacklog, startLoad, type Rig } from '../helpers/uplink-rig.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

const ROOT = topicRoot('failover-court', 'gw-1');

/** One platform reader per node; what arrives on any node goes into one checker, in arrival order. */
class ClusterPlatform {
  readonly checker = new EventChecker();
  readonly statuses: { node: number; state: string; retained: boolean }[] = [];
  private constructor(private readonly clients: MqttClient[]) {}

  static async connect(urls: string[]): Promise<ClusterPlatform> {
    const clients = await Promise.all(
      urls.map((url, i) => mqtt.connectAsync(url, { clientId: `failover-platform-${i}`, reconnectPeriod: 0 })),
    );
    const p = new ClusterPlatform(clients);
    clients.forEach((c, node) => {
      c.on('error', () => undefined);
      c.on('message', (topic, payload, packet) => {
        const sub = topic.slice(ROOT.length + 1);
        if (sub.startsWith('evt/')) p.checker.addEvent(sub.slice(4), payload, topic);
        else if (sub === 'status' && payload.length)
          p.statuses.push({ node, state: (JSON.parse(payload.toString()) as { state: string }).state, retained: packet.retain });
      });
    });
    await Promise.all(clients.map((c) => c.subscribeAsync(`${ROOT}/#`, { qos: 1 })));
    return p;
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.endAsync(true)));
  }
}

/** What a newcomer on `url` gets as retained under the root: status and states. */
async function retainedOn(url: string): Promise<Map<string, string>> {
  const c = await mqtt.connectAsync(url, { clientId: `failover-late-${Date.now()}`, reconnectPeriod: 0 });
  const got = new Map<string, string>();
  c.on('message', (topic, payload, packet) => {
    if (packet.retain) got.set(topic.slice(ROOT.length + 1), payload.toString());
  });
  await c.subscribeAsync([`${ROOT}/status`, `${ROOT}/state/#`], { qos: 1 });
  await waitFor(() => got.has('status') && got.size >= 3 && got, `the retained status and states on ${url}`);
  await c.endAsync(true);
  return got;
}

describe('uplink failover between broker nodes', () => {
  const nodes: Mosquitto[] = [];
  let proxyB: TcpProxy;
  let platform: ClusterPlatform;
  let rig: Rig;

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) nodes.push(await startMosquitto({ persistence: false }));
    // Node B is reached through a proxy, so the test can cut the gateway's link to it alone (its will).
    proxyB = await TcpProxy.start({ port: nodes[1]!.port });
    platform = await ClusterPlatform.connect(nodes.map((n) => n.url));
  });
  afterAll(async () => {
    await rig?.dispose();
    await platform?.close();
    await proxyB?.close();
    for (const n of nodes) await n.dispose();
  });

  it('moves to the next node when its node is killed, losing nothing, in order, with status, states, will and commands there', async () => {
    const [a, b] = nodes as [Mosquitto, Mosquitto, Mosquitto];
    const urls = [a.url, proxyB.url, nodes[2]!.url];
    rig = makeRig({ url: a.url, root: ROOT, uplink: { url: undefined, urls, clientId: 'gatehouse-failover-gw-1', inflightWindow: 50 } });
    await rig.outbox.setState('gate-in', { online: true, secure: true });
    await rig.outbox.setState('flat-3-201', { locked: true, battery: 81 });
    rig.uplink.start();
    await nextEvent(rig.uplink, 'connected');
    expect(rig.uplink.status().url).toBe(a.url);

    const load = startLoad(rig.outbox, { perTick: 10, everyMs: 5 });
    await waitFor(() => platform.checker.unique >= 300, '300 events through node A', 15_000);
    const moved = nextEvent(rig.uplink, 'connected', 15_000);
    await a.kill(); // SIGKILL: no goodbye to anyone
    await moved;
    expect(rig.uplink.status()).toMatchObject({ connected: true, url: proxyB.url, reconnects: 1 });
    const afterMove = platform.checker.unique;
    await waitFor(() => platform.checker.unique >= afterMove + 300, '300 more events through node B', 15_000);
    const recorded = await load.stop();

    await waitFor(
      () => platform.checker.unique === recorded.length && outboxBacklog(rig.outbox) === 0,
      `all ${recorded.length} events delivered and deleted`,
      20_000,
      () => ({ unique: platform.checker.unique, backlog: outboxBacklog(rig.outbox), status: rig.uplink.status() }),
    );
    const report = platform.checker.report();
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ ok: true, maxSeq: recorded.length, missingCount: 0, orderViolations: [], conflicts: [] });

    // Retained on the new node: online, and every device state.
    const onB = await retainedOn(b.url);
    expect(JSON.parse(onB.get('status')!)).toMatchObject({ state: 'online' });
    expect(JSON.parse(onB.get('state/gate-in')!)).toMatchObject({ online: true, secure: true });
    expect(JSON.parse(onB.get('state/flat-3-201')!)).toMatchObject({ locked: true, battery: 81 });

    // Commands: the subscription was made on the new node.
    const client = await mqtt.connectAsync(b.url, { clientId: 'failover-commander', reconnectPeriod: 0 });
    await client.publishAsync(cmdTopic(ROOT, 'system.ping'), '{"id":"on-b"}', { qos: 1 });
    await waitFor(() => rig.commands.some((c) => c.payload.includes('"on-b"')), 'the command sent on node B');
    await client.endAsync(true);

    // The last will is registered with node B: cut the link abruptly and B says offline.
    const offlineBefore = platform.statuses.filter((s) => s.node === 1 && s.state === 'offline').length;
    proxyB.resetAll();
    await waitFor(
      () => platform.statuses.filter((s) => s.node === 1 && s.state === 'offline').length > offlineBefore,
      'the will on node B',
    );
    // A dropped link is retried on the same node first: back on B, online again.
    await waitFor(() => rig.uplink.status().connected && platform.statuses.at(-1)?.state === 'online', 'online again');
    expect(platform.statuses.at(-1)).toMatchObject({ node: 1, state: 'online' });
    expect(rig.uplink.status().url).toBe(proxyB.url);
    expect(JSON.parse((await retainedOn(b.url)).get('status')!)).toMatchObject({ state: 'online' });
  }, 90_000);

  it('gatehouse run takes the nodes from GATEHOUSE_UPLINK_URL as a comma-separated list, and moves past a dead one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-failover-cli-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'compound: { id: failover-court }\ngateway: { id: gw-cli }\nconsole: { enabled: false }\nbroker: { port: 0 }\n');
    const root = topicRoot('failover-court', 'gw-cli');
    const c = nodes[2]!;
    const watcher = await mqtt.connectAsync(c.url, { clientId: 'failover-cli-watcher', reconnectPeriod: 0 });
    const statuses: string[] = [];
    watcher.on('message', (_t, payload) => payload.length && statuses.push((JSON.parse(payload.toString()) as { state: string }).state));
    await watcher.subscribeAsync(`${root}/status`, { qos: 1 });
    const dead = `mqtt://127.0.0.1:${await freePort()}`;
    const child = spawnCli(['run', '--config', file, '--data', join(dir, 'data')], { GATEHOUSE_UPLINK_URL: `${dead}, ${c.url}` });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    try {
      await waitFor(
        () => statuses.includes('online'),
        'the gateway online on the second node',
        20_000,
        () => err.slice(-2000),
      );
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await waitFor(() => statuses.at(-1) === 'offline', 'offline after a clean stop');
    } finally {
      child.kill('SIGKILL');
      await watcher.endAsync(true);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('tries the nodes in order on the backoff schedule, and retries a dropped link on its own node first', async () => {
    const proxies = await Promise.all(nodes.slice(1).map((n) => TcpProxy.start({ port: n.port })));
    const [p1, p2] = proxies as [TcpProxy, TcpProxy];
    const dead = `mqtt://127.0.0.1:${await freePort()}`;
    const clock = new ManualClock();
    const r = makeRig({
      url: dead,
      root: topicRoot('failover-court', 'gw-order'),
      uplink: { url: undefined, urls: [dead, p1.url, p2.url], backoff: { minMs: 1000, maxMs: 4000 } },
      extra: { timers: clock, random: () => 0.5 },
    });
    try {
      p1.refuse();
      p2.refuse();
      const retries = () => r.logs.filter((l) => l.includes('reconnecting after backoff')).length;
      const tried: string[] = [];
      r.uplink.start();
      tried.push(r.uplink.status().url);
      await waitFor(() => retries() === 1, 'the first failure');
      // Delays 0.5 × min(4000, 1000·2^n): 500, 1000, 2000; each failed attempt moves on.
      for (const [delay, n] of [
        [500, 2],
        [1000, 3],
        [2000, 4],
      ] as const) {
        expect(r.uplink.status().attempts).toBe(n - 1);
        clock.advance(delay - 1);
        expect(r.uplink.status().attempts).toBe(n - 1); // not a millisecond early
        tried.push(r.uplink.status().url);
        clock.advance(1);
        expect(r.uplink.status().attempts).toBe(n);
        await waitFor(() => retries() === n, `failure ${n}`);
      }
      expect(tried).toEqual([dead, p1.url, p2.url, dead]);
      // Node 1 comes up: the next attempt reaches it, and a drop is retried there, not on node 2.
      p1.pass();
      const up = nextEvent(r.uplink, 'connected');
      clock.advance(2000);
      await up;
      expect(r.uplink.status()).toMatchObject({ connected: true, url: p1.url });
      const again = nextEvent(r.uplink, 'connected');
      p1.resetAll();
      await waitFor(() => retries() === 5, 'the drop');
      clock.advance(4000);
      await again;
      expect(r.uplink.status()).toMatchObject({ connected: true, url: p1.url, reconnects: 1 });
      expect(p2.accepted).toBe(1); // only the one refused attempt of the round above
    } finally {
      await r.dispose();
      for (const p of proxies) await p.close();
    }
  });
});
