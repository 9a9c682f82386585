/**
 * Idle memory (issue 12, deliverable 9): mqtt-packet, shared by aedes and mqtt.js, builds at its first
 * written packet a cache of all 65,536 two-byte numbers as separate Buffers (~6.5 MB of heap for the life
 * of the daemon). The embedded broker turns it off before it writes anything; packet ids still go out right.
 * Vitest runs each file in its own worker, so the cache here starts empty.
 */
import { afterEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { createRequire } from 'node:module';
import { pino } from 'pino';
import { secretsFrom } from '../../config/load.js';
import { EmbeddedBroker } from '../../gateway/broker/embedded-broker.js';

// The cache object lives in mqtt-packet's numbers module (CommonJS, no types).
const numbers = createRequire(import.meta.url)('mqtt-packet/numbers.js') as { cache: Record<number, Buffer> };

describe('EmbeddedBroker and the mqtt-packet number cache', () => {
  let broker: EmbeddedBroker | undefined;
  let client: MqttClient | undefined;

  afterEach(async () => {
    await client?.endAsync(true).catch(() => undefined);
    await broker?.stop();
  });

  it('writes CONNACK, SUBACK, PUBACK and a QoS 1 delivery without building the 65,536-Buffer cache', async () => {
    expect(Object.keys(numbers.cache)).toHaveLength(0);
    broker = new EmbeddedBroker({
      config: { host: '127.0.0.1', port: 0, maxPayloadBytes: 1024, maxTopicDepth: 8, maxQueuedPerClient: 10, maxConnections: 5 },
      secrets: secretsFrom({ 'devices.lock-a': 'pw-a-secret' }),
      devices: [{ id: 'lock-a', passwordSecret: 'devices.lock-a' }],
      internalAccounts: [{ username: 'gatehouse-uplink', password: 'internal-pass', role: 'gateway' }],
      topicRoot: 'gatehouse/v1/test-court/gw-1',
      log: pino({ level: 'silent' }),
    });
    const { port } = await broker.start();
    const url = `mqtt://127.0.0.1:${port}`;
    client = await mqtt.connectAsync(url, { clientId: 'lock-a', username: 'lock-a', password: 'pw-a-secret', protocolVersion: 4 });
    const got = new Promise<{ topic: string; payload: string; qos: number; id?: number }>((resolve) =>
      client!.once('message', (topic, payload, packet) =>
        resolve({ topic, payload: String(payload), qos: packet.qos, id: packet.messageId }),
      ),
    );
    expect((await client.subscribeAsync('lan/v1/lock/lock-a/cmd', { qos: 1 }))[0]?.qos).toBe(1);
    // A QoS 1 delivery to the lock carries a packet id the broker writes; the lock's PUBACK must match it.
    await broker.publish('lan/v1/lock/lock-a/cmd', '{"action":"unlock"}', { qos: 1 });
    const m = await got;
    expect(m).toMatchObject({ topic: 'lan/v1/lock/lock-a/cmd', payload: '{"action":"unlock"}', qos: 1 });
    expect(m.id).toBeGreaterThan(0);
    // The lock's own QoS 1 publish resolves on the broker's PUBACK, matched by packet id.
    await client.publishAsync('lan/v1/lock/lock-a/status', '{"state":"unlocked"}', { qos: 1 });
    expect(Object.keys(numbers.cache)).toHaveLength(0);
  });
});
