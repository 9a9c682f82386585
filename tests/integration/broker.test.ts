/**
 * The embedded broker with real MQTT.js clients on an ephemeral loopback port: who gets
 * in, what each account may publish and subscribe, the limits, and that a refusal never
 * takes the broker down.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { connect as netConnect } from 'node:net';
import { secretsFrom } from '../../config/load.js';
import { EmbeddedBroker } from '../../gateway/broker/embedded-broker.js';
import type { Logger } from '../../gateway/core/log.js';

const ROOT = 'gatehouse/v1/test-court/gw-1';

function captureLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, dest), lines };
}

const closedP = (c: { once(event: 'close', fn: () => void): unknown }): Promise<void> => new Promise((r) => c.once('close', () => r()));

const mqttString = (v: string): Buffer => {
  const b = Buffer.from(v);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};
/** One MQTT frame; bodies here stay under 128 bytes, so the length is a single byte. */
const mqttPacket = (type: number, flags: number, body: Buffer): Buffer =>
  Buffer.concat([Buffer.from([(type << 4) | flags, body.length]), body]);

/** True when a log line with message `msg` also contains every fragment. */
function logged(lines: string[], msg: string, ...fragments: string[]): boolean {
  return lines.some((l) => l.includes(`"msg":"${msg}"`) && fragments.every((f) => l.includes(f)));
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves with the CONNACK outcome: 'ok' or the error message. */
async function tryConnect(url: string, opts: mqtt.IClientOptions): Promise<{ result: string; client: MqttClient }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 3000, protocolVersion: 4, ...opts });
  const result = await new Promise<string>((resolve) => {
    client.once('connect', () => resolve('ok'));
    client.once('error', (err) => resolve(err.message));
    client.once('close', () => resolve('closed'));
  });
  return { result, client };
}

describe('EmbeddedBroker', () => {
  let broker: EmbeddedBroker;
  let url: string;
  let logs: { log: Logger; lines: string[] };
  const clients: MqttClient[] = [];
  let operatorCommands: string[] = [];

  beforeEach(async () => {
    logs = captureLog();
    operatorCommands = [];
    broker = new EmbeddedBroker({
      config: { host: '127.0.0.1', port: 0, maxPayloadBytes: 1024, maxTopicDepth: 8, maxQueuedPerClient: 10, maxConnections: 5 },
      secrets: secretsFrom({ 'devices.lock-a': 'pw-a-secret', 'devices.lock-b': 'pw-b-secret', 'ops.bms': 'bms-pass' }),
      devices: [
        { id: 'lock-a', passwordSecret: 'devices.lock-a' },
        { id: 'lock-b', passwordSecret: 'devices.lock-b' },
        { id: 'lock-c', passwordSecret: 'devices.lock-c' },
      ],
      internalAccounts: [
        { username: 'gatehouse-uplink', password: 'internal-pass', role: 'gateway' },
        { username: 'watch', password: 'watch-pass', role: 'operator' },
      ],
      topicRoot: ROOT,
      log: logs.log,
      onOperatorCommand: async (operator, name, payload) => {
        operatorCommands.push(`${operator} ${name} ${payload.toString()}`);
        return JSON.stringify({ id: 'answer', ok: true });
      },
    });
    const { port } = await broker.start();
    expect(port).toBeGreaterThan(0);
    url = `mqtt://127.0.0.1:${port}`;
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
    await broker.stop();
  });

  const connect = async (opts: mqtt.IClientOptions): Promise<{ result: string; client: MqttClient }> => {
    const r = await tryConnect(url, opts);
    clients.push(r.client);
    return r;
  };

  it('refuses anonymous clients, wrong passwords, unknown users and devices without a secret', async () => {
    expect((await connect({ clientId: 'anon' })).result).toMatch(/Not authorized/i);
    expect((await connect({ clientId: 'lock-a', username: 'lock-a', password: 'wrong' })).result).toMatch(/Bad username or password/i);
    expect((await connect({ clientId: 'ghost', username: 'ghost', password: 'x' })).result).toMatch(/Bad username or password/i);
    expect((await connect({ clientId: 'lock-c', username: 'lock-c', password: '' })).result).not.toBe('ok');
    expect((await connect({ clientId: 'lock-a', username: 'lock-a', password: 'pw-a-secret' })).result).toBe('ok');
    const all = logs.lines.join('');
    expect(all).toContain('embedded broker refused connect');
    expect(all).not.toContain('wrong');
    expect(all).not.toContain('pw-a-secret');
  });

  it('binds a device to its own client id and refuses a last will on another device', async () => {
    expect((await connect({ clientId: 'lock-b', username: 'lock-a', password: 'pw-a-secret' })).result).toMatch(/Identifier rejected/i);
    const will = { topic: 'lan/v1/lock/lock-b/status', payload: Buffer.from('{"state":"offline"}'), qos: 1 as const, retain: true };
    expect((await connect({ clientId: 'lock-a', username: 'lock-a', password: 'pw-a-secret', will })).result).toMatch(/Not authorized/i);
    const own = { ...will, topic: 'lan/v1/lock/lock-a/status' };
    expect((await connect({ clientId: 'lock-a', username: 'lock-a', password: 'pw-a-secret', will: own })).result).toBe('ok');
  });

  it('refuses operators taking the client id of a lock or of the gateway', async () => {
    const a = (await connect({ clientId: 'lock-a', username: 'lock-a', password: 'pw-a-secret' })).client;
    expect((await connect({ clientId: 'lock-a', username: 'watch', password: 'watch-pass' })).result).toMatch(/Identifier rejected/i);
    expect((await connect({ clientId: 'gatehouse-gw', username: 'gatehouse-uplink', password: 'internal-pass' })).result).toBe('ok');
    expect((await connect({ clientId: 'gatehouse-gw', username: 'watch', password: 'watch-pass' })).result).toMatch(/Identifier rejected/i);
    expect(a.connected).toBe(true);
  });

  it('refuses a lock publishing as another lock, and keeps serving the others', async () => {
    const seen: string[] = [];
    broker.subscribe('lan/v1/lock/+/evt', (topic) => seen.push(topic));
    const a = (await connect({ clientId: 'lock-a', username: 'lock-a', password: 'pw-a-secret' })).client;
    const b = (await connect({ clientId: 'lock-b', username: 'lock-b', password: 'pw-b-secret' })).client;
    // Acknowledged and dropped (MQTT-3.3.5-2), so the client does not resend it forever.
    await a.publishAsync('lan/v1/lock/lock-b/evt', '{"type":"tamper","active":true}', { qos: 1 });
    await b.publishAsync('lan/v1/lock/lock-b/evt', '{"type":"door","door":"open"}', { qos: 1 });
    await a.publishAsync('lan/v1/lock/lock-a/evt', '{"type":"door","door":"open"}', { qos: 1 });
    await waitFor(() => seen.length === 2, 'the legitimate events');
    expect(seen).toEqual(['lan/v1/lock/lock-b/evt', 'lan/v1/lock/lock-a/evt']);
    expect(a.connected).toBe(true);
    expect(logged(logs.lines, 'embedded broker refused publish', 'outside its own device subtree', '"device":"lock-a"')).toBe(true);
  });

  it('enforces the device topic scheme: no retained events, own cmd subscription only', async () => {
    const a = (await connect({ clientId: 'lock-a', username: 'lock-a', password: 'pw-a-secret' })).client;
    expect((await a.subscribeAsync('lan/v1/lock/lock-a/cmd', { qos: 1 }))[0]?.qos).toBe(1);
    // Refused filters get a SUBACK failure (0x80); MQTT.js turns that into an error.
    for (const f of ['lan/v1/lock/lock-b/cmd', 'lan/v1/#', `${ROOT}/#`, 'lan/v1/lock/lock-a/evt']) {
      await expect(a.subscribeAsync(f, { qos: 1 })).rejects.toThrow(/Subscribe error/);
    }
    await a.publishAsync('lan/v1/lock/lock-a/evt', '{"type":"door","door":"open"}', { qos: 1, retain: true });
    await a.publishAsync('lan/v1/lock/lock-a/state', '{"locked":true,"battery":50}', { qos: 1, retain: true });
    const replayed: string[] = [];
    broker.subscribe('lan/v1/lock/lock-a/#', (t) => replayed.push(t));
    await waitFor(() => replayed.length > 0, 'the retained state');
    await new Promise((r) => setImmediate(r));
    expect(replayed).toEqual(['lan/v1/lock/lock-a/state']);
    expect(logged(logs.lines, 'embedded broker refused publish', 'this topic may not be retained')).toBe(true);
  });

  it('refuses an oversized payload, and a frame too large to buffer, without stopping', async () => {
    const a = (await connect({ clientId: 'lock-a', username: 'lock-a', password: 'pw-a-secret' })).client;
    const seen: number[] = [];
    broker.subscribe('lan/v1/lock/lock-a/evt', (_t, p) => seen.push(p.length));
    await a.publishAsync('lan/v1/lock/lock-a/evt', Buffer.alloc(2000, 0x41), { qos: 1 });
    await a.publishAsync('lan/v1/lock/lock-a/evt', Buffer.alloc(10, 0x41), { qos: 1 });
    await waitFor(() => seen.length === 1, 'the small message');
    expect(seen).toEqual([10]);
    expect(logged(logs.lines, 'embedded broker refused publish', 'payload of 2000 bytes exceeds 1024')).toBe(true);

    // A raw frame announcing 200 MB: closed on the header, long before the body.
    const sock = netConnect(Number(new URL(url).port), '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const sockClosed = closedP(sock);
    sock.write(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x60]));
    await sockClosed;
    expect(logged(logs.lines, 'embedded broker refused frame', 'connect frame of 201326592 bytes')).toBe(true);

    expect((await connect({ clientId: 'lock-b', username: 'lock-b', password: 'pw-b-secret' })).result).toBe('ok');
  });

  it('lets operators publish commands and read the root, but not speak for the gateway', async () => {
    const gw = (await connect({ clientId: 'gatehouse-gw', username: 'gatehouse-uplink', password: 'internal-pass', clean: false })).client;
    await gw.subscribeAsync(`${ROOT}/cmd/+`, { qos: 1 });
    const got: string[] = [];
    gw.on('message', (t) => got.push(t));
    const op = (await connect({ clientId: 'watch-1', username: 'watch', password: 'watch-pass' })).client;
    const answers: string[] = [];
    op.on('message', (t) => answers.push(t));
    expect((await op.subscribeAsync(`${ROOT}/#`, { qos: 1 }))[0]?.qos).toBe(1);
    await expect(op.subscribeAsync('#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await op.publishAsync(`${ROOT}/cmd/lock.open`, '{"id":"c1","args":{"lock":"lock-a"}}', { qos: 1 });
    await waitFor(() => operatorCommands.length === 1, 'the command at the command handler, with the operator name');
    expect(operatorCommands).toEqual(['watch lock.open {"id":"c1","args":{"lock":"lock-a"}}']);
    await op.publishAsync(`${ROOT}/evt/alarm`, '{}', { qos: 1 });
    await op.publishAsync(`${ROOT}/cmd/lock.open`, '{"id":"c2"}', { qos: 1, retain: true });
    await op.publishAsync(`${ROOT}/cmd/x/y`, '{"id":"c3"}', { qos: 1 });
    await op.publishAsync(`${ROOT}/cmd/lock.open`, '{"id":"c4","args":{"lock":"lock-a"}}', { qos: 1 });
    await waitFor(() => operatorCommands.length === 2 && answers.length === 2, 'the second legitimate command and both answers');
    expect(operatorCommands[1]).toBe('watch lock.open {"id":"c4","args":{"lock":"lock-a"}}');
    expect(answers).toEqual([`${ROOT}/cmd/lock.open/res`, `${ROOT}/cmd/lock.open/res`]);
    // Operator commands never reach the bus: a client subscribed to cmd/+ (the gateway's own) hears none.
    expect(got).toEqual([]);
    await gw.publishAsync(`${ROOT}/status`, '{"state":"online"}', { qos: 1, retain: true });
    expect(logged(logs.lines, 'embedded broker refused publish', 'retained commands are refused')).toBe(true);
  });

  it('delivers in-process publishes to MQTT subscribers and MQTT publishes to in-process subscribers', async () => {
    const a = (await connect({ clientId: 'lock-a', username: 'lock-a', password: 'pw-a-secret' })).client;
    await a.subscribeAsync('lan/v1/lock/lock-a/cmd', { qos: 1 });
    const cmds: string[] = [];
    a.on('message', (_t, p) => cmds.push(p.toString()));
    await broker.publish('lan/v1/lock/lock-a/cmd', '{"cid":"x"}', { qos: 1 });
    await waitFor(() => cmds.length === 1, 'the command at the lock');
    const got: string[] = [];
    await a.publishAsync('lan/v1/lock/lock-a/status', '{"state":"online"}', { qos: 1, retain: true });
    // Retained messages are replayed to a late in-process subscriber, as to an MQTT one.
    const off = broker.subscribe('lan/v1/lock/+/status', (t, p) => got.push(`${t} ${p.toString()}`));
    await waitFor(() => got.length === 1, 'the retained status');
    expect(got[0]).toBe('lan/v1/lock/lock-a/status {"state":"online"}');
    off();
  });

  it('emits clientOnline/clientOffline and the last will fires on an abrupt close', async () => {
    const events: string[] = [];
    broker.on('clientOnline', (id) => events.push(`on ${id}`));
    broker.on('clientOffline', (id) => events.push(`off ${id}`));
    const wills: string[] = [];
    broker.subscribe('lan/v1/lock/+/status', (_t, p) => wills.push(p.toString()));
    const will = { topic: 'lan/v1/lock/lock-a/status', payload: Buffer.from('{"state":"offline"}'), qos: 1 as const, retain: true };
    const a = (await connect({ clientId: 'lock-a', username: 'lock-a', password: 'pw-a-secret', will })).client;
    await waitFor(() => events.includes('on lock-a'), 'online');
    a.stream.destroy();
    await waitFor(() => events.includes('off lock-a') && wills.length === 1, 'offline and the will');
    expect(wills).toEqual(['{"state":"offline"}']);
  });

  it('disconnects a client that lets more than maxQueuedPerClient messages wait for PUBACK', async () => {
    // A hand-rolled MQTT 3.1.1 client that subscribes with QoS 1 and never acknowledges.
    const sock = netConnect(Number(new URL(url).port), '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const received: Buffer[] = [];
    sock.on('data', (b: Buffer) => received.push(b));
    sock.write(
      mqttPacket(
        1,
        0,
        Buffer.concat([
          mqttString('MQTT'),
          Buffer.from([4, 0xc2, 0, 60]),
          mqttString('watch-slow'),
          mqttString('watch'),
          mqttString('watch-pass'),
        ]),
      ),
    );
    await waitFor(() => received.length > 0, 'CONNACK');
    expect([...received[0]!.subarray(0, 4)]).toEqual([0x20, 2, 0, 0]);
    sock.write(mqttPacket(8, 2, Buffer.concat([Buffer.from([0, 1]), mqttString(`${ROOT}/evt/#`), Buffer.from([1])])));
    await waitFor(() => Buffer.concat(received).includes(Buffer.from([0x90, 3, 0, 1, 1])), 'SUBACK');
    const closed = closedP(sock);
    for (let i = 0; i < 20; i++) await broker.publish(`${ROOT}/evt/access`, `{"i":${i}}`, { qos: 1 });
    await closed;
    expect(logged(logs.lines, 'embedded broker refused queue', 'awaiting PUBACK', '"clientId":"watch-slow"')).toBe(true);
  });

  it('caps connections, keeping room for every configured device, and never refuses the gateway itself', async () => {
    // Two devices can log in (lock-c has no secret) and one operator: with a cap of 3, room is
    // kept for both devices, so the operator's first session fits and its second does not.
    broker.config.maxConnections = 3;
    expect((await connect({ clientId: 'watch-1', username: 'watch', password: 'watch-pass' })).result).toBe('ok');
    expect((await connect({ clientId: 'watch-2', username: 'watch', password: 'watch-pass' })).result).toMatch(/Server unavailable/i);
    expect(logged(logs.lines, 'embedded broker refused capacity', 'room kept for 2 configured devices and operators')).toBe(true);
    expect((await connect({ clientId: 'lock-a', username: 'lock-a', password: 'pw-a-secret' })).result).toBe('ok');
    expect((await connect({ clientId: 'lock-b', username: 'lock-b', password: 'pw-b-secret' })).result).toBe('ok');
    expect((await connect({ clientId: 'gw', username: 'gatehouse-uplink', password: 'internal-pass' })).result).toBe('ok');
  });

  it('caps the sessions of one operator account', async () => {
    broker.config.maxSessionsPerOperator = 2;
    expect((await connect({ clientId: 'watch-1', username: 'watch', password: 'watch-pass' })).result).toBe('ok');
    expect((await connect({ clientId: 'watch-2', username: 'watch', password: 'watch-pass' })).result).toBe('ok');
    expect((await connect({ clientId: 'watch-3', username: 'watch', password: 'watch-pass' })).result).toMatch(/Server unavailable/i);
    expect(logged(logs.lines, 'embedded broker refused capacity', 'operator already has 2 sessions')).toBe(true);
  });
});

describe('EmbeddedBroker lifecycle', () => {
  it('raises a topic depth too small for its own topics, and refuses deeper ones', async () => {
    const { log, lines } = captureLog();
    const b = new EmbeddedBroker({
      config: { port: 0, maxTopicDepth: 3 },
      secrets: secretsFrom({ 'devices.l1': 'p' }),
      devices: [{ id: 'l1', passwordSecret: 'devices.l1' }],
      topicRoot: ROOT,
      log,
    });
    expect(b.config.maxTopicDepth).toBe(7);
    expect(logged(lines, 'broker.maxTopicDepth is too small for the gateway topics; raised')).toBe(true);
    const { port } = await b.start();
    const got: string[] = [];
    b.subscribe(`${ROOT}/#`, (t) => got.push(t));
    await b.publish(`${ROOT}/cmd/lock.open/res`, '{}');
    await expect(b.publish(`${ROOT}/a/b/c/d/e`, '{}')).rejects.toThrow();
    await waitFor(() => got.length === 1, 'the reply');
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'l1', username: 'l1', password: 'p', reconnectPeriod: 0 });
    const closed = closedP(c);
    c.publish('lan/v1/lock/l1/a/b/c/d', '{}', { qos: 1 });
    await closed; // aedes itself refuses a topic deeper than maxTopicLevels by closing
    expect(logged(lines, 'embedded broker refused publish', 'too many levels', '"device":"l1"')).toBe(true);
    await b.stop();
  });

  it('stops cleanly with clients connected and reports a port in use', async () => {
    const mk = (port: number) =>
      new EmbeddedBroker({
        config: { port },
        secrets: secretsFrom({ 'devices.l1': 'p' }),
        devices: [{ id: 'l1', passwordSecret: 'devices.l1' }],
        topicRoot: ROOT,
        log: pino({ level: 'silent' }),
      });
    const b1 = mk(0);
    const { port } = await b1.start();
    const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: 'l1', username: 'l1', password: 'p', reconnectPeriod: 0 });
    await new Promise((r) => c.once('connect', r));
    await expect(mk(port).start()).rejects.toThrow(/cannot listen on 127.0.0.1:\d+ \(EADDRINUSE\)/);
    const closed = closedP(c);
    await b1.stop();
    await closed;
    await b1.stop();
    await c.endAsync(true);
  });
});
