/**
 * The gateway's own clients of the embedded broker (moved out of embedded-broker.ts):
 * in-process subscribers (no network hop, the same wildcard matching as MQTT clients get,
 * retained messages replayed), publish gates that hold a device's PUBACK until the gateway
 * committed what it reports, and publishing on the gateway's behalf.
 */
import type { Aedes, AedesPublishPacket, Client } from 'aedes';
import { GatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { topicMatches } from '../../drivers/smartlock/memory-transport.js';

export type MessageHandler = (topic: string, payload: Buffer) => void;
/**
 * Takes a device's publish before it is acknowledged: the PUBACK goes out only when the
 * returned promise resolves (the gateway committed what the message reports). A rejection
 * closes the connection without PUBACK, so the device sends the message again.
 */
export type PublishGate = (clientId: string, topic: string, payload: Buffer) => Promise<void>;

export interface PublishOptions {
  qos?: 0 | 1 | 2;
  retain?: boolean;
}

const asBuffer = (payload: Buffer | string): Buffer => (Buffer.isBuffer(payload) ? payload : Buffer.from(payload));

export class InProcessClients {
  private readonly subs = new Set<{ pattern: string; deliver: (p: AedesPublishPacket, cb: () => void) => void }>();
  private readonly gates = new Set<{ pattern: string; handler: PublishGate }>();

  /** `aedes()`: the running broker, undefined while stopped (subscriptions wait for the next start). */
  constructor(
    private readonly aedes: () => Aedes | undefined,
    private readonly log: Logger,
  ) {}

  /** At start: the subscriptions made while stopped reach the new broker. */
  attach(aedes: Aedes): void {
    for (const s of this.subs) aedes.subscribe(s.pattern, s.deliver, () => undefined);
  }

  /** At stop: in-process subscriptions end with the broker. */
  clear(): void {
    this.subs.clear();
  }

  /** See EmbeddedBroker.subscribe. */
  subscribe(pattern: string, handler: MessageHandler): () => void {
    const deliver = (packet: AedesPublishPacket, cb: () => void): void => {
      try {
        handler(packet.topic, asBuffer(packet.payload));
      } catch (err) {
        this.log.error({ topic: packet.topic, err: (err as Error).message }, 'in-process subscriber threw');
      }
      cb();
    };
    const entry = { pattern, deliver };
    this.subs.add(entry);
    const aedes = this.aedes();
    if (aedes) aedes.subscribe(pattern, deliver, () => void this.replayRetained(aedes, pattern, handler));
    return () => {
      if (!this.subs.delete(entry)) return;
      this.aedes()?.unsubscribe(pattern, deliver, () => undefined);
    };
  }

  private async replayRetained(aedes: Aedes, pattern: string, handler: MessageHandler): Promise<void> {
    try {
      const persistence = (aedes as unknown as { persistence: unknown }).persistence as {
        createRetainedStreamCombi(p: string[]): AsyncIterable<AedesPublishPacket>;
      };
      for await (const packet of persistence.createRetainedStreamCombi([pattern])) {
        handler(packet.topic, asBuffer(packet.payload));
      }
    } catch (err) {
      this.log.error({ pattern, err: (err as Error).message }, 'retained replay failed');
    }
  }

  /** See EmbeddedBroker.gate. */
  gate(pattern: string, handler: PublishGate): () => void {
    const entry = { pattern, handler };
    this.gates.add(entry);
    return () => void this.gates.delete(entry);
  }

  /** Runs the gate of a device publish, if one matches; aedes writes the PUBACK when `cb(null)` is called. */
  passGate(client: Client, packet: { topic: string; payload: Buffer | string }, cb: (err?: Error | null) => void): void {
    let gate: PublishGate | undefined;
    for (const g of this.gates) if (topicMatches(g.pattern, packet.topic)) gate = g.handler;
    if (!gate) return cb(null);
    const payload = asBuffer(packet.payload);
    let pending: Promise<void>;
    try {
      pending = gate(client.id, packet.topic, payload);
    } catch (err) {
      pending = Promise.reject(err as Error);
    }
    pending.then(
      () => cb(null),
      (err: Error) => {
        const why = 'device publish not acknowledged: it could not be committed; connection closed so the device sends it again';
        this.log.warn({ clientId: client.id, topic: packet.topic, err: err.message }, why);
        cb(new Error(`not committed: ${err.message}`));
      },
    );
  }
}

/** Publishes on behalf of the gateway itself (no ACL, no network hop). */
export function publishInProcess(aedes: Aedes, topic: string, payload: Buffer | string, opts: PublishOptions): Promise<void> {
  if (/[+#]/.test(topic)) return Promise.reject(new GatehouseError('INTERNAL', `cannot publish to a wildcard topic: ${topic}`));
  const packet = {
    cmd: 'publish' as const,
    topic,
    payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
    qos: opts.qos ?? 1,
    retain: opts.retain ?? false,
    dup: false,
  };
  return new Promise((resolve, reject) =>
    aedes.publish(packet, (err) =>
      err ? reject(new GatehouseError('INTERNAL', `embedded publish failed: ${err.message}`, undefined, { cause: err })) : resolve(),
    ),
  );
}
