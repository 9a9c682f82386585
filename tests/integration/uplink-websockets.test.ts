/**
 * `ws://` and `wss://` uplinks (in the contract since version 1) against a real Mosquitto
 * WebSocket listener: the same delivery checks as over plain MQTT. Events recorded before
 * and while connected arrive in order and are deleted after PUBACK, retained status and
 * states are there, a command from the platform is handed over and its answer published,
 * a cut link comes back by itself with nothing lost, and the clean stop says offline. The
 * wss listener uses the throwaway CA of the TLS tests, verified (never rejectUnauthorized
 * false), with a password; a wrong CA is retried, not fatal.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretsFrom } from '../../config/load.js';
import { cmdTopic, topicRoot } from '../../gateway/core/topics.js';
import { Verifier } from '../../sim/verifier.js';
import { makeTestCerts, type Mosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { makeRig, outboxBacklog, testEvent, type RigOptions } from '../helpers/uplink-rig.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

const PASSWORD = 'ws-uplink-password-9f3';

describe('uplink over WebSockets', () => {
  let broker: Mosquitto;
  let platform: MqttClient;
  let scratch: string;

  beforeAll(async () => {
    // Persistence on: the platform's verifier keeps a persistent session, which a broker
    // without persistence forgets on restart (events published before it resubscribes were lost to it).
    broker = await startMosquitto({ persistence: true, websockets: { tls: true }, users: { 'gw-ws': PASSWORD, platform: 'platform-pw' } });
    platform = await mqtt.connectAsync(broker.url, {
      clientId: 'ws-platform',
      username: 'platform',
      password: 'platform-pw',
      reconnectPeriod: 100,
    });
    scratch = mkdtempSync(join(tmpdir(), 'gh-ws-'));
  });
  afterAll(async () => {
    await platform?.endAsync(true);
    await broker?.dispose();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const cases: { name: string; url: () => string; uplink: () => RigOptions['uplink'] }[] = [
    { name: 'ws://', url: () => broker.wsUrl!, uplink: () => ({ username: 'gw-ws', passwordSecret: 'uplink.password' }) },
    {
      name: 'wss://',
      url: () => broker.wssUrl!,
      uplink: () => ({ username: 'gw-ws', passwordSecret: 'uplink.password', caFile: broker.certs!.caFile }),
    },
  ];

  for (const c of cases) {
    it(`${c.name}: delivers events in order, states and status, answers commands, and recovers from a cut link`, async () => {
      const root = topicRoot('ws-court', `gw-${c.name.replace(/\W/g, '')}`);
      const v = await Verifier.connect({ url: broker.url, root, username: 'platform', password: 'platform-pw', persistentSession: true });
      const r = makeRig({
        url: c.url(),
        root,
        uplink: { ...c.uplink(), ackTimeoutMs: 2000 },
        secrets: secretsFrom({ 'uplink.password': PASSWORD }),
        extra: {
          onCommand: (name, payload) => {
            r.commands.push({ name, payload: payload.toString() });
            const { id } = JSON.parse(payload.toString()) as { id: string };
            void r.outbox.recordReply(`cmd/${name}/res`, { id, ok: true, result: { pong: true } });
          },
        },
      });
      try {
        expect(c.url()).toMatch(c.name === 'ws://' ? /^ws:\/\// : /^wss:\/\//);
        await Promise.all(Array.from({ length: 500 }, (_, i) => r.outbox.record(testEvent(i))));
        await r.outbox.setState('gate-in', { online: true });
        r.uplink.start();
        await nextEvent(r.uplink, 'connected');
        await Promise.all(Array.from({ length: 500 }, (_, i) => r.outbox.record(testEvent(500 + i))));
        await waitFor(
          () => v.unique === 1000 && outboxBacklog(r.outbox) === 0,
          `1000 events over ${c.name}`,
          15_000,
          () => ({
            unique: v.unique,
            status: r.uplink.status(),
          }),
        );
        expect(v.states.get('gate-in')).toMatchObject({ online: true });
        await waitFor(() => v.lastStatus()?.state === 'online', 'online status');

        await waitFor(() => platform.connected, 'the platform connected (the previous case restarted the broker)');
        await platform.publishAsync(cmdTopic(root, 'system.ping'), '{"id":"over-ws"}', { qos: 1 });
        await waitFor(() => v.replies.some((x) => (x.body as { id?: string }).id === 'over-ws'), `the answer over ${c.name}`);
        expect(r.commands).toEqual([{ name: 'system.ping', payload: '{"id":"over-ws"}' }]);

        // A cut link (the broker restarts): back by itself, the rest delivered in order.
        await broker.restart();
        await Promise.all(Array.from({ length: 200 }, (_, i) => r.outbox.record(testEvent(1000 + i))));
        await waitFor(
          () => v.unique === 1200 && outboxBacklog(r.outbox) === 0,
          `the rest over ${c.name} after a restart`,
          20_000,
          () => ({
            unique: v.unique,
            status: r.uplink.status(),
          }),
        );
        const report = v.report();
        expect(report.problems).toEqual([]);
        expect(report).toMatchObject({ ok: true, maxSeq: 1200, missingCount: 0 });
        expect(r.uplink.status().reconnects).toBeGreaterThanOrEqual(1);
      } finally {
        await r.dispose();
      }
      await waitFor(() => v.lastStatus()?.state === 'offline', 'offline on a clean stop');
      await v.close();
      expect(r.logs.join('\n')).not.toContain(PASSWORD);
    });
  }

  it('wss://: a broker certificate from another CA is an outage that is retried, never accepted', async () => {
    const otherCa = makeTestCerts(scratch, 'Some Other CA').caFile;
    const r = makeRig({
      url: broker.wssUrl!,
      root: topicRoot('ws-court', 'gw-wrong-ca'),
      uplink: { username: 'gw-ws', passwordSecret: 'uplink.password', caFile: otherCa },
      secrets: secretsFrom({ 'uplink.password': PASSWORD }),
    });
    try {
      r.uplink.start();
      await waitFor(() => r.uplink.status().attempts >= 3, 'three refused attempts');
      expect(r.uplink.status()).toMatchObject({ connected: false, reconnects: 0 });
      expect(r.uplink.status().lastError).toMatch(/certificate|self.signed|verify/i);
    } finally {
      await r.dispose();
    }
  });
});
