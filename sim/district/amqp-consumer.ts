/**
 * The reference platform consumer on AMQP 0-9-1 (RabbitMQ): one of several competing
 * consumers of a durable quorum queue bound to `amq.topic` with the box topics (MQTT `/` is
 * AMQP `.`: `gatehouse.v1.*.*.evt.*`). Manual acknowledgement, after the durable write:
 *
 *   deliveries -> batch (up to `batchMax`, or `batchMs` after the first) -> DistrictStore.record
 *   (one SQLite transaction, fsync) -> ack the batch's last delivery tag with multiple=true
 *
 * `prefetch` bounds what the broker hands us unacknowledged: that is what another consumer
 * gets again if this one dies. A lost connection (a broker node killed) drops the batch that
 * was not yet written (the broker redelivers it) and reconnects to the next URL with
 * backoff; a batch written but not acknowledged comes back as counted duplicates.
 */
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { mqttTopicOfRoutingKey, type DistrictStore, type Outcome } from './store.js';

export interface AmqpConsumerOptions {
  /** AMQP URLs of the cluster nodes; the consumer uses one and moves to the next on failure. */
  urls: string[];
  queue: string;
  store: DistrictStore;
  /** Shown by the broker as the connection's name (`connection_name`): which consumer holds what, in its tools. */
  name?: string;
  prefetch?: number;
  batchMax?: number;
  batchMs?: number;
  /** Called after each committed and acknowledged batch (tests, progress output). */
  onBatch?: (outcomes: Outcome[]) => void;
  onError?: (err: Error) => void;
}

export class AmqpConsumer {
  private model?: ChannelModel;
  private channel?: Channel;
  private batch: ConsumeMessage[] = [];
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private urlIndex = 0;
  private attempt = 0;
  /** Deliveries written and acknowledged. */
  acked = 0;
  connections = 0;

  constructor(private readonly opts: AmqpConsumerOptions) {}

  static async start(opts: AmqpConsumerOptions): Promise<AmqpConsumer> {
    const c = new AmqpConsumer(opts);
    await c.connect();
    return c;
  }

  private async connect(): Promise<void> {
    const url = this.opts.urls[this.urlIndex % this.opts.urls.length]!;
    const model = await amqp.connect(url, {
      timeout: 5000,
      ...(this.opts.name ? { clientProperties: { connection_name: this.opts.name } } : {}),
    });
    this.connections++;
    this.attempt = 0;
    const ch = await model.createChannel();
    await ch.prefetch(this.opts.prefetch ?? 256);
    this.model = model;
    this.channel = ch;
    const lost = (err?: Error): void => {
      if (this.model !== model) return;
      this.model = undefined;
      this.channel = undefined;
      // Unwritten deliveries of the dead channel: the broker redelivers them, we must not ack them.
      this.batch = [];
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      if (err) this.opts.onError?.(err);
      if (!this.stopped) this.reconnectLater();
    };
    model.on('error', (err: Error) => lost(err));
    model.on('close', () => lost());
    ch.on('error', (err: Error) => lost(err));
    await ch.consume(this.opts.queue, (m) => m && this.onDelivery(ch, m), { noAck: false });
  }

  private reconnectLater(): void {
    this.urlIndex++;
    const delay = Math.min(5000, 100 * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
    setTimeout(() => {
      if (this.stopped) return;
      this.connect().catch((err: Error) => {
        this.opts.onError?.(err);
        this.reconnectLater();
      });
    }, delay);
  }

  private onDelivery(ch: Channel, m: ConsumeMessage): void {
    if (ch !== this.channel) return;
    this.batch.push(m);
    if (this.batch.length >= (this.opts.batchMax ?? 128)) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.opts.batchMs ?? 20);
  }

  /** Durable write first, acknowledgement second. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const ch = this.channel;
    const batch = this.batch;
    this.batch = [];
    if (!ch || batch.length === 0) return;
    let outcomes: Outcome[];
    try {
      outcomes = this.opts.store.record(
        batch.map((m) => ({ topic: mqttTopicOfRoutingKey(m.fields.routingKey), payload: m.content, redelivered: m.fields.redelivered })),
      );
    } catch (err) {
      // Not written: give them back to the queue for another try (or another consumer).
      this.opts.onError?.(err as Error);
      ch.nack(batch[batch.length - 1]!, true, true);
      return;
    }
    try {
      ch.ack(batch[batch.length - 1]!, true);
    } catch (err) {
      // The channel died after the write: the broker redelivers, the store counts duplicates.
      this.opts.onError?.(err as Error);
      return;
    }
    this.acked += batch.length;
    this.opts.onBatch?.(outcomes);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.flush();
    const model = this.model;
    this.model = undefined;
    await model?.close().catch(() => undefined);
  }
}
