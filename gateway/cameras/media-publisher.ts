/**
 * Delivers stored snapshots to the platform: the JPEG bytes on `{root}/media/{id}`, QoS 1,
 * not retained (docs/asyncapi.yaml, channel `media`). Nothing is lost: the ids come from
 * MediaStore's durable queue (media_queue in outbox.db), an id leaves the queue only on
 * PUBACK, and whatever was not acknowledged is sent again after the next connect (the
 * platform may see a JPEG twice; the id, in the topic, and the sha256 of the
 * `media.snapshot` event make that harmless).
 *
 * The transport is injected so this works with the real uplink:
 *
 *   uplink.on('connected', () => media.attach({ publish: (t, p) => uplink.publishRaw(t, p) }));
 *   uplink.on('disconnected', () => media.detach());
 *
 * Snapshots are large (up to media.maxSnapshotBytes) and would hog the link, so only a few
 * are in flight at once (`window`, default 2); events on evt/* keep flowing in between.
 */
import { realTimers, type TimerHandle, type Timers } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { MediaStore } from './media-store.js';

export interface MediaTransport {
  publish(topic: string, payload: Buffer, opts: { qos: 1 }): Promise<void>;
}

export const mediaTopic = (root: string, id: string): string => `${root}/media/${id}`;

export interface MediaPublisherOptions {
  store: MediaStore;
  /** `gatehouse/v1/{compound}/{gateway}` (gateway/topics.ts topicRoot). */
  root: string;
  log: Logger;
  timers?: Timers;
  /** Snapshots in flight at once. Default 2. */
  window?: number;
  /** A publish with no PUBACK for this long is given up on this connection and retried. Default 30 s. */
  ackTimeoutMs?: number;
  /** After a failed publish on a live transport, wait this long before trying again. Default 2 s. */
  retryMs?: number;
}

export class MediaPublisher {
  private transport: MediaTransport | undefined;
  private readonly inflight = new Set<string>();
  private readonly timers: Timers;
  private retry: TimerHandle | undefined;
  private generation = 0;
  private readonly onQueued = () => this.pump();
  published = 0;
  failures = 0;

  constructor(private readonly o: MediaPublisherOptions) {
    this.timers = o.timers ?? realTimers;
    o.store.on('queued', this.onQueued);
  }

  /** The uplink is connected: send everything queued, oldest first. */
  attach(transport: MediaTransport): void {
    this.transport = transport;
    this.generation++;
    this.inflight.clear();
    this.pump();
  }

  /** The uplink is gone: what is in flight stays queued and goes again after attach(). */
  detach(): void {
    this.transport = undefined;
    this.generation++;
    this.inflight.clear();
    this.retry?.cancel();
    this.retry = undefined;
  }

  /** Sends queued snapshots up to the window. Called on attach, on every new snapshot and after each PUBACK. */
  pump(): void {
    const transport = this.transport;
    if (!transport || this.retry) return;
    const window = this.o.window ?? 2;
    if (this.inflight.size >= window) return;
    for (const id of this.o.store.pending(window + this.inflight.size)) {
      if (this.inflight.size >= window) break;
      if (this.inflight.has(id)) continue;
      let jpeg: Buffer;
      try {
        jpeg = this.o.store.read(id);
      } catch {
        // Removed by the cap before it could be sent: nothing left to deliver.
        this.o.log.warn({ mediaId: id }, 'media removed by the cap before delivery');
        this.o.store.delivered(id);
        continue;
      }
      this.send(transport, id, jpeg);
    }
  }

  private send(transport: MediaTransport, id: string, jpeg: Buffer): void {
    const gen = this.generation;
    this.inflight.add(id);
    let settled = false;
    const timeout = this.timers.setTimeout(
      () => settle(new Error(`no PUBACK within ${this.o.ackTimeoutMs ?? 30_000} ms`)),
      this.o.ackTimeoutMs ?? 30_000,
    );
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      timeout.cancel();
      if (gen !== this.generation) return; // a previous connection: attach() starts over
      this.inflight.delete(id);
      if (!err) {
        this.o.store.delivered(id);
        this.published++;
        this.pump();
        return;
      }
      this.failures++;
      this.o.log.warn({ mediaId: id, err: err.message }, 'media publish failed; it stays queued');
      // Back off a little instead of spinning on a link that refuses; a reconnect retries at once.
      this.retry ??= this.timers.setTimeout(() => {
        this.retry = undefined;
        this.pump();
      }, this.o.retryMs ?? 2000);
    };
    transport.publish(mediaTopic(this.o.root, id), jpeg, { qos: 1 }).then(
      () => settle(),
      (err: unknown) => settle(err instanceof Error ? err : new Error(String(err))),
    );
  }

  get inFlight(): number {
    return this.inflight.size;
  }

  close(): void {
    this.detach();
    this.o.store.off('queued', this.onQueued);
  }
}
