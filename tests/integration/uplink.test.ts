/**
 * The uplink against a real Mosquitto: delivery and order, the bytes on the wire, the
 * in-flight window, commands in and answers out, retained status with its last will, and
 * retained device states after a reconnect. Faults under load are in uplink-faults.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { Mosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor, nextEvent } from '../helpers/wait.js';
import { makeRig, outboxBacklog, testEvent, TEST_ROOT, type Rig } from '../helpers/uplink-rig.js';
import { Verifier } from '../../sim/verifier.js';
import {
  cmdResTopic,
  cmdTopic,
  MAX_COMMAND_NAME_LENGTH,
  parseCmdTopic,
  stateTopic,
  statusTopic,
  topicRoot,
} from '../../gateway/core/topics.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { Backoff } from '../../gateway/uplink/connection.js';

describe('topics', () => {
  it('builds the version 1 root and refuses ids that are not one topic level', () => {
    expect(topicRoot('maple-court', 'gw-1')).toBe('gatehouse/v1/maple-court/gw-1');
    for (const bad of ['', 'a/b', 'a+', '#']) expect(() => topicRoot(bad, 'gw')).toThrow(/topic level/);
    expect(cmdResTopic(TEST_ROOT, 'lock.open')).toBe(`${TEST_ROOT}/cmd/lock.open/res`);
  });

  it('parses a command topic and rejects wildcards, empty, nested and over-long names', () => {
    expect(parseCmdTopic(TEST_ROOT, `${TEST_ROOT}/cmd/lock.open`)).toBe('lock.open');
    expect(parseCmdTopic(TEST_ROOT, `${TEST_ROOT}/cmd/${'a'.repeat(MAX_COMMAND_NAME_LENGTH)}`)).toBe('a'.repeat(MAX_COMMAND_NAME_LENGTH));
    for (const bad of ['', '+', '#', 'a+b', 'lock.open/res', 'a'.repeat(MAX_COMMAND_NAME_LENGTH + 1), 'x\u0000y']) {
      expect(parseCmdTopic(TEST_ROOT, `${TEST_ROOT}/cmd/${bad}`)).toBeUndefined();
    }
    expect(parseCmdTopic(TEST_ROOT, 'gatehouse/v1/other/gw-1/cmd/lock.open')).toBeUndefined();
  });
});

describe('backoff', () => {
  it('is full jitter: uniform below min·2^attempt, capped at max, back to min after reset', () => {
    const high = new Backoff(100, 1000, () => 0.999999);
    expect(Array.from({ length: 6 }, () => high.next())).toEqual([99, 199, 399, 799, 999, 999]);
    high.reset();
    expect(high.next()).toBe(99);
    const low = new Backoff(100, 1000, () => 0);
    expect(Array.from({ length: 3 }, () => low.next())).toEqual([0, 0, 0]);
  });
});

describe('uplink → mosquitto', () => {
  let broker: Mosquitto;
  let platform: MqttClient;
  const rigs: Rig[] = [];
  const verifiers: Verifier[] = [];
  const proxies: TcpProxy[] = [];

  beforeAll(async () => {
    broker = await startMosquitto();
    platform = await mqtt.connectAsync(broker.url, { clientId: 'test-platform', reconnectPeriod: 0 });
  });
  afterEach(async () => {
    for (const r of rigs.splice(0)) await r.dispose();
    for (const v of verifiers.splice(0)) await v.close();
    for (const p of proxies.splice(0)) await p.close();
  });
  afterAll(async () => {
    await platform?.endAsync(true);
    await broker?.dispose();
  });

  const rig = (...a: Parameters<typeof makeRig>) => {
    const r = makeRig(...a);
    rigs.push(r);
    return r;
  };
  const verifier = async (root = TEST_ROOT) => {
    const v = await Verifier.connect({ url: broker.url, root, persistentSession: false });
    verifiers.push(v);
    return v;
  };
  const proxy = async () => {
    const p = await TcpProxy.start({ port: broker.port });
    proxies.push(p);
    return p;
  };

  it('delivers a backlog and live events in order, byte for byte, within the in-flight window', async () => {
    const root = topicRoot('test-court', 'gw-order');
    const v = await verifier(root);
    const raw = new Map<number, string>();
    const sub = await mqtt.connectAsync(broker.url, { clientId: 'raw-sub', reconnectPeriod: 0 });
    sub.on('message', (_t, p) => raw.set((JSON.parse(p.toString()) as { seq: number }).seq, p.toString()));
    await sub.subscribeAsync(`${root}/evt/#`, { qos: 1 });
    const r = rig({ url: broker.url, root, uplink: { inflightWindow: 50 } });
    await Promise.all(Array.from({ length: 3000 }, (_, i) => r.outbox.record(testEvent(i))));
    const stored = new Map(r.outbox.readEvents(0, 5000).map((row) => [row.seq, row.body]));
    let maxInflight = 0;
    const sampler = setInterval(() => (maxInflight = Math.max(maxInflight, r.uplink.status().inflight)), 1);
    r.uplink.start();
    await nextEvent(r.uplink, 'connected');
    await Promise.all(Array.from({ length: 1000 }, (_, i) => r.outbox.record(testEvent(3000 + i))));
    await waitFor(
      () => v.unique === 4000 && outboxBacklog(r.outbox) === 0,
      '4000 events delivered and acknowledged',
      15_000,
      () => ({ unique: v.unique, status: r.uplink.status() }),
    );
    clearInterval(sampler);
    const report = v.report();
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ ok: true, maxSeq: 4000, missingCount: 0, duplicates: 0 });
    expect(maxInflight).toBeLessThanOrEqual(50);
    expect(maxInflight).toBeGreaterThan(1);
    await waitFor(() => raw.size === 4000, 'the raw subscriber');
    for (const [seq, body] of stored) expect(raw.get(seq)).toBe(body);
    expect(r.uplink.status()).toMatchObject({ connected: true, inflight: 0, reconnects: 0, lastError: null });
    expect(r.uplink.status().lastAckAt).toBeTypeOf('number');
    expect(r.uplink.healthy()).toBe(true);
    await sub.endAsync(true);
  });

  it('retries on the schedule of the injected timers and random, and connects once the broker is reachable', async () => {
    const p = await proxy();
    p.refuse();
    const timers = new ManualClock();
    const r = rig({ url: p.url, uplink: { backoff: { minMs: 1000, maxMs: 4000 } }, extra: { timers, random: () => 0.5 } });
    const retries = () => r.logs.filter((l) => l.includes('reconnecting after backoff')).length;
    r.uplink.start();
    await waitFor(() => retries() === 1, 'the first refusal');
    // Delays: 0.5 × min(4000, 1000·2^n) = 500, 1000, 2000, 2000 …
    for (const [delay, attempt] of [
      [500, 2],
      [1000, 3],
      [2000, 4],
    ] as const) {
      timers.advance(delay - 1);
      expect(r.uplink.status().attempts).toBe(attempt - 1);
      timers.advance(1);
      expect(r.uplink.status().attempts).toBe(attempt);
      await waitFor(() => retries() === attempt, `refusal ${attempt}`);
    }
    p.pass();
    timers.advance(2000);
    await nextEvent(r.uplink, 'connected');
    expect(r.uplink.status()).toMatchObject({ connected: true, attempts: 5, reconnects: 0 });
  });

  it('speaks MQTT 5 too, where PUBACK "no matching subscribers" still means the broker has it', async () => {
    const root = topicRoot('test-court', 'gw-v5');
    const r = rig({ url: broker.url, root, uplink: { protocolVersion: 5 } });
    await Promise.all(Array.from({ length: 300 }, (_, i) => r.outbox.record(testEvent(i))));
    r.uplink.start();
    await waitFor(
      () => outboxBacklog(r.outbox) === 0,
      'the backlog acknowledged with no subscriber at all',
      10_000,
      () => r.uplink.status(),
    );
    const v = await verifier(root);
    const e = await r.outbox.record(testEvent(300));
    await waitFor(() => v.has(e.seq), 'a v5 event at the platform');
    expect(r.uplink.status().reconnects).toBe(0);
  });

  it('keeps trying through a DNS failure without being told to', async () => {
    const r = rig({ url: 'mqtt://gatehouse-no-such-host.invalid:1883' });
    r.uplink.start();
    await waitFor(
      () => r.uplink.status().attempts >= 3,
      'three attempts',
      10_000,
      () => r.uplink.status(),
    );
    expect(r.uplink.status()).toMatchObject({ connected: false, lastError: expect.stringMatching(/ENOTFOUND|EAI_AGAIN|getaddrinfo/) });
    expect(r.uplink.healthy()).toBe(true);
  });

  it('hands cmd/{name} to onCommand, ignores bad and retained ones, and publishes the answers', async () => {
    const v = await verifier();
    // A retained command (a platform bug) reaches a new subscription with the retain flag.
    await platform.publishAsync(cmdTopic(TEST_ROOT, 'system.ping'), '{"id":"stale"}', { qos: 1, retain: true });
    const r = rig({ url: broker.url });
    r.uplink.start();
    await nextEvent(r.uplink, 'connected');
    // The subscription is made right after CONNACK; the online status proves it was processed.
    await waitFor(() => v.lastStatus()?.state === 'online', 'online status');
    await platform.publishAsync(cmdTopic(TEST_ROOT, 'a'.repeat(MAX_COMMAND_NAME_LENGTH + 1)), '{"id":"long"}', { qos: 1 });
    await platform.publishAsync(cmdResTopic(TEST_ROOT, 'system.ping'), '{"id":"echo"}', { qos: 1 });
    await platform.publishAsync(cmdTopic(TEST_ROOT, 'system.ping'), '{"id":"c-1"}', { qos: 1 });
    await waitFor(() => r.commands.length >= 1, 'the command');
    expect(r.commands).toEqual([{ name: 'system.ping', payload: '{"id":"c-1"}' }]);
    expect(r.logs.some((l) => l.includes('unacceptable command topic'))).toBe(true);
    expect(r.logs.some((l) => l.includes('ignored a retained command'))).toBe(true);
    await platform.publishAsync(cmdTopic(TEST_ROOT, 'system.ping'), '', { qos: 1, retain: true }); // clear it
    await r.outbox.recordReply('cmd/system.ping/res', { id: 'c-1', ok: true, result: { pong: true } });
    const answer = await waitFor(() => v.replies.find((x) => (x.body as { id?: string }).id === 'c-1'), 'the answer');
    expect(answer).toEqual({ name: 'system.ping', body: { id: 'c-1', ok: true, result: { pong: true } } });
    await waitFor(() => (r.outbox.flushAcks(), r.outbox.stats().replies === 0), 'the answer deleted after PUBACK');
  });

  it('says online (retained), fires the last will when the link is cut, and says offline on a clean stop', async () => {
    const p = await proxy();
    const root = topicRoot('test-court', 'gw-will');
    const v = await verifier(root);
    const r = rig({ url: p.url, root, extra: { version: '9.9.9-test' } });
    r.uplink.start();
    await nextEvent(r.uplink, 'connected');
    const online = await waitFor(() => v.statuses.find((s) => s.state === 'online'), 'online');
    expect(JSON.parse(online.raw)).toEqual({ state: 'online', ts: expect.any(String), version: '9.9.9-test' });

    const lost = nextEvent<[string]>(r.uplink, 'disconnected');
    p.resetAll(); // abrupt: no DISCONNECT, the broker publishes the will
    const will = await waitFor(() => v.statuses.find((s) => s.state === 'offline'), 'the last will');
    expect(JSON.parse(will.raw)).toEqual({ state: 'offline', ts: expect.any(String), version: '9.9.9-test' });
    // The will is written when the connection is made, so it carries the connect time.
    expect(Date.parse(will.ts!)).toBeLessThanOrEqual(Date.parse(online.ts!));
    await lost;
    await waitFor(() => r.uplink.status().connected && v.lastStatus()?.state === 'online', 'back online by itself');
    expect(r.uplink.status().reconnects).toBe(1);

    const before = Date.now();
    await r.close();
    await waitFor(() => v.lastStatus()?.state === 'offline', 'offline on stop');
    const late = await mqtt.connectAsync(broker.url, { clientId: 'late-sub', reconnectPeriod: 0 });
    const retained = new Promise<string>((resolve) => late.on('message', (_t, b, pkt) => pkt.retain && resolve(b.toString())));
    await late.subscribeAsync(statusTopic(root), { qos: 1 });
    const body = JSON.parse(await retained) as { state: string; ts: string };
    expect(body.state).toBe('offline');
    expect(Date.parse(body.ts)).toBeGreaterThanOrEqual(before - 5);
    await late.endAsync(true);
  });

  it('on a clean stop delivers what was recorded before it, then says offline, and keeps newer rows for next time', async () => {
    const root = topicRoot('test-court', 'gw-stop');
    const v = await verifier(root);
    const r = rig({ url: broker.url, root });
    r.uplink.start();
    await nextEvent(r.uplink, 'connected');
    const before = await Promise.all(Array.from({ length: 300 }, (_, i) => r.outbox.record(testEvent(i))));
    const stopped = r.uplink.stop();
    const after = await r.outbox.record(testEvent(300));
    await stopped;
    await waitFor(() => v.lastStatus()?.state === 'offline', 'offline');
    expect(before.every((e) => v.has(e.seq))).toBe(true);
    expect(v.has(after.seq)).toBe(false);
    expect(outboxBacklog(r.outbox)).toBe(1);
    expect(r.outbox.readEvents(0, 10).map((row) => row.seq)).toEqual([after.seq]);
  });

  it('republishes every retained state after a reconnect, and sends the latest of rapid updates', async () => {
    const p = await proxy();
    const v = await verifier();
    const r = rig({ url: p.url });
    await r.outbox.setState('lock-1', { locked: true, battery: 80 });
    await r.outbox.setState('lock-2', { locked: false, battery: 55 });
    r.uplink.start();
    await waitFor(() => v.states.size === 2, 'both states');
    expect(v.states.get('lock-1')).toMatchObject({ locked: true, battery: 80 });

    // The platform's broker forgets them (as after a restart without persistence)...
    await platform.publishAsync(stateTopic(TEST_ROOT, 'lock-1'), '', { qos: 1, retain: true });
    await platform.publishAsync(stateTopic(TEST_ROOT, 'lock-2'), '', { qos: 1, retain: true });
    await waitFor(() => v.states.size === 0, 'the states cleared');
    // ...and the next connection puts them back.
    p.resetAll();
    await waitFor(() => v.states.size === 2, 'the states republished after reconnect');
    expect(v.states.get('lock-2')).toMatchObject({ locked: false, battery: 55 });

    for (let i = 0; i < 50; i++) void r.outbox.setState('lock-1', { locked: i % 2 === 0, battery: i });
    await waitFor(() => (v.states.get('lock-1') as { battery?: number } | undefined)?.battery === 49, 'the latest state');
    const late = await mqtt.connectAsync(broker.url, { clientId: 'late-state', reconnectPeriod: 0 });
    const retained = new Promise<string>((resolve) => late.on('message', (_t, b) => resolve(b.toString())));
    await late.subscribeAsync(stateTopic(TEST_ROOT, 'lock-1'), { qos: 1 });
    expect(JSON.parse(await retained)).toMatchObject({ locked: false, battery: 49 });
    await late.endAsync(true);
  });
});
