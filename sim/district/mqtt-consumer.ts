/**
 * The reference platform consumer on a single MQTT broker (Mosquitto): one of several
 * competing consumers on an MQTT shared subscription (`$share/{group}/gatehouse/v1/+/+/evt/+`),
 * each with a persistent session (clean: false) so what arrives while it is away is kept.
 *
 * Acknowledgement after the durable write: MQTT.js sends the PUBACK only when
 * `handleMessage` calls back, so each message is written (one SQLite transaction, fsync)
 * before its PUBACK. MQTT.js hands messages over one at a time on a connection, so there is
 * no batching here; AMQP (amqp-consumer.ts) batches.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { DistrictStore, Outcome } from './store.js';

export const SHARED_EVENTS_FILTER = 'gatehouse/v1/+/+/evt/+';

export interface MqttConsumerOptions {
  url: string;
  group: string;
  clientId: string;
  username?: string;
  password?: string;
  store: DistrictStore;
  onMessage?: (outcome: Outcome) => void;
  onError?: (err: Error) => void;
}

export class MqttSharedConsumer {
  acked = 0;

  private constructor(readonly client: MqttClient) {}

  static async start(opts: MqttConsumerOptions): Promise<MqttSharedConsumer> {
    const client = mqtt.connect(opts.url, {
      clientId: opts.clientId,
      clean: false,
      reconnectPeriod: 500,
      connectTimeout: 5000,
      username: opts.username,
      password: opts.password,
      manualConnect: true,
    });
    const c = new MqttSharedConsumer(client);
    client.handleMessage = (packet, done) => {
      if (packet.cmd !== 'publish') return done();
      let outcome: Outcome;
      try {
        outcome = opts.store.record([{ topic: packet.topic, payload: Buffer.from(packet.payload), redelivered: packet.dup }])[0]!;
      } catch (err) {
        // Not written, so no PUBACK: the broker sends it again on the next connection.
        opts.onError?.(err as Error);
        client.end(true);
        return;
      }
      c.acked++;
      opts.onMessage?.(outcome);
      done();
    };
    client.on('error', (err) => opts.onError?.(err));
    client.connect();
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const granted = await client.subscribeAsync(`$share/${opts.group}/${SHARED_EVENTS_FILTER}`, { qos: 1 });
    if (granted.some((g) => g.qos === 128)) throw new Error(`consumer ${opts.clientId}: shared subscription refused`);
    return c;
  }

  async stop(): Promise<void> {
    await this.client.endAsync();
  }
}
