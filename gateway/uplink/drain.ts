/**
 * The outbox pump: reads events and command answers from the outbox in bounded batches,
 * keeps at most `window` QoS 1 publishes in flight, and acknowledges a row to the outbox
 * only after its PUBACK.
 *
 * Order: rows are published in seq order on one connection, and a new connection starts
 * again from the oldest unacknowledged row, so a platform sees each class in order (a
 * lower seq after a higher one of the same class is always a re-send, never a first send).
 *
 * Memory: at most one read batch plus the in-flight window, whatever the backlog.
 *
 * Eviction: the outbox never evicts rows at or below the read cursor. While connected the
 * cursor covers everything read (in flight or about to be published). When a connection
 * drops, rows that were in flight may already be with the platform though their PUBACK
 * was lost, so the cursor keeps covering them until they are acknowledged on a later
 * connection: an eviction report then never names an event the platform also received.
 * Rows that were only read ahead, never published, are released for eviction.
 */
import type { Clock, TimerHandle, Timers } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { EventRow, Outbox, ReplyRow } from '../outbox/outbox.js';
import { evtTopic } from '../core/topics.js';
import type { Link } from './connection.js';

export type DrainOutbox = Pick<Outbox, 'readEvents' | 'readReplies' | 'ackEvent' | 'ackReply' | 'setReadCursor' | 'flushAcks'>;

export interface DrainOptions {
  outbox: DrainOutbox;
  root: string;
  window: number;
  /** Rows read from SQLite at once. */
  batchSize: number;
  clock: Clock;
  timers: Timers;
  log: Logger;
  /** A publish the broker answered with an error (an MQTT 5 reason code): the link is not usable for it. */
  onPublishRefused(err: Error): void;
  /** Every PUBACK of an event or answer, with the ms since its publish (the metrics' latency histogram). */
  onAck?(latencyMs: number): void;
}

interface Flight {
  sentAt: number;
  bytes: number;
}

export class Drain {
  private link: Link | undefined;
  private paused = false;
  private evtBuf: EventRow[] = [];
  private evtPos = 0;
  private replyBuf: ReplyRow[] = [];
  private replyPos = 0;
  private lastSeqRead = 0;
  private lastReplyRead = 0;
  private eventsExhausted = false;
  private repliesExhausted = false;
  private highestPublished = 0;
  /** Published on an earlier connection and not known to be acknowledged. */
  private protectedUpTo = 0;
  private readonly events = new Map<number, Flight>();
  private readonly replies = new Map<number, Flight>();
  private kickScheduled = false;
  /** While stopping: the last seq to deliver (what was recorded before stop()). */
  private limit = Infinity;
  private settleWaiters: (() => void)[] = [];
  /** Wall-clock ms of the last PUBACK, for status(). */
  lastAckAt: number | null = null;
  /** Monotonic ms of the last PUBACK (or of attach), for the health check. */
  lastProgressMono = 0;
  acked = 0;

  constructor(private readonly opts: DrainOptions) {}

  /** A new connection: start again from the oldest row not yet acknowledged. */
  attach(link: Link): void {
    // Acks of the previous connection may still sit in the outbox's delete buffer; without
    // this flush those rows would be read and sent once more.
    this.opts.outbox.flushAcks();
    this.link = link;
    this.evtBuf = [];
    this.evtPos = 0;
    this.replyBuf = [];
    this.replyPos = 0;
    this.lastSeqRead = 0;
    this.lastReplyRead = 0;
    this.highestPublished = 0;
    this.eventsExhausted = false;
    this.repliesExhausted = false;
    this.lastProgressMono = this.opts.clock.monotonic();
    this.kick();
  }

  detach(): void {
    if (!this.link) return;
    this.link = undefined;
    if (this.events.size > 0) this.protectedUpTo = Math.max(this.protectedUpTo, this.highestPublished);
    this.events.clear();
    this.replies.clear();
    this.evtBuf = [];
    this.replyBuf = [];
    this.setCursor();
    this.settle();
  }

  /** Shutdown, first step: deliver what is recorded up to `lastSeq` (and the answers), nothing newer. */
  finish(lastSeq: number): void {
    this.limit = lastSeq;
    this.kick();
    this.settle();
  }

  /** Shutdown, last step: publish nothing more; what is in flight may still be acknowledged. */
  pause(): void {
    this.paused = true;
  }

  /** New events were committed. */
  recorded(): void {
    this.eventsExhausted = false;
    this.kick();
  }

  /** New command answers were committed. */
  replied(): void {
    this.repliesExhausted = false;
    this.kick();
  }

  get inflight(): number {
    return this.events.size + this.replies.size;
  }

  /** Whether anything is waiting to be delivered as far as this connection knows. */
  waiting(): boolean {
    return (
      this.inflight > 0 ||
      !this.eventsExhausted ||
      !this.repliesExhausted ||
      this.evtPos < this.evtBuf.length ||
      this.replyPos < this.replyBuf.length
    );
  }

  /** Age of the oldest publish still waiting for its PUBACK, 0 when none. */
  oldestInflightAgeMs(): number {
    let oldest = Infinity;
    // Maps iterate in insertion (publish) order: the first entry is the oldest.
    for (const f of this.events.values()) {
      oldest = f.sentAt;
      break;
    }
    for (const f of this.replies.values()) {
      oldest = Math.min(oldest, f.sentAt);
      break;
    }
    return oldest === Infinity ? 0 : this.opts.clock.monotonic() - oldest;
  }

  /**
   * Whether everything this connection should deliver is acknowledged: nothing in flight
   * and nothing left to send up to the limit (or no connection to send it on).
   */
  private settled(): boolean {
    if (this.inflight > 0) return false;
    if (!this.link || this.paused) return true;
    if (this.replyPos < this.replyBuf.length || !this.repliesExhausted) return false;
    const next = this.evtBuf[this.evtPos];
    if (next) return next.seq > this.limit;
    return this.eventsExhausted || this.lastSeqRead >= this.limit;
  }

  /** Resolves true once settled(), false after `timeoutMs`. */
  whenSettled(timeoutMs: number): Promise<boolean> {
    if (this.settled()) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined;
      const done = () => {
        timer?.cancel();
        resolve(true);
      };
      this.settleWaiters.push(done);
      timer = this.opts.timers.setTimeout(() => {
        this.settleWaiters = this.settleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
    });
  }

  private settle(): void {
    if (this.settleWaiters.length === 0 || !this.settled()) return;
    const waiters = this.settleWaiters;
    this.settleWaiters = [];
    for (const w of waiters) w();
  }

  private setCursor(): void {
    this.opts.outbox.setReadCursor(Math.max(this.protectedUpTo, this.link ? this.lastSeqRead : 0));
  }

  /** Coalesces wake-ups (every PUBACK, every commit) into one pump per macrotask. */
  kick(): void {
    if (this.kickScheduled || !this.link || this.paused) return;
    this.kickScheduled = true;
    setImmediate(() => this.pump());
  }

  private pump(): void {
    this.kickScheduled = false;
    const link = this.link;
    if (!link || this.paused) return;
    try {
      while (this.inflight < this.opts.window && link === this.link) {
        const reply = this.nextReply();
        if (reply) {
          this.publishReply(link, reply);
          continue;
        }
        const row = this.nextEvent();
        if (!row) break;
        this.publishEvent(link, row);
      }
    } catch (err) {
      // The outbox file failed (or was closed under us). The next commit or PUBACK wakes
      // the pump again; the rows are still on disk.
      this.opts.log.error({ err: (err as Error).message }, 'uplink could not read the outbox');
    }
    this.settle();
  }

  private nextEvent(): EventRow | undefined {
    const buffered = this.evtBuf[this.evtPos];
    if (buffered) return buffered.seq > this.limit ? undefined : this.evtBuf[this.evtPos++];
    if (this.eventsExhausted || this.lastSeqRead >= this.limit) return undefined;
    this.evtBuf = this.opts.outbox.readEvents(this.lastSeqRead, this.opts.batchSize);
    this.evtPos = 0;
    if (this.evtBuf.length < this.opts.batchSize) this.eventsExhausted = true;
    const last = this.evtBuf[this.evtBuf.length - 1];
    if (!last) return undefined;
    this.lastSeqRead = last.seq;
    this.setCursor();
    return this.evtBuf[0]!.seq > this.limit ? undefined : this.evtBuf[this.evtPos++];
  }

  private nextReply(): ReplyRow | undefined {
    if (this.replyPos < this.replyBuf.length) return this.replyBuf[this.replyPos++];
    if (this.repliesExhausted) return undefined;
    this.replyBuf = this.opts.outbox.readReplies(this.lastReplyRead, this.opts.batchSize);
    this.replyPos = 0;
    if (this.replyBuf.length < this.opts.batchSize) this.repliesExhausted = true;
    const last = this.replyBuf[this.replyBuf.length - 1];
    if (!last) return undefined;
    this.lastReplyRead = last.id;
    return this.replyBuf[this.replyPos++];
  }

  /** An idle link that gets work again starts its "no PUBACK since" clock now, not at the last ack. */
  private busy(): void {
    if (this.inflight === 0) this.lastProgressMono = this.opts.clock.monotonic();
  }

  private publishEvent(link: Link, row: EventRow): void {
    const seq = row.seq;
    const bytes = row.body.length;
    this.busy();
    this.events.set(seq, { sentAt: this.opts.clock.monotonic(), bytes });
    this.highestPublished = seq;
    // The stored body is published as is: the bytes the platform sees are the bytes recorded.
    link.publish(evtTopic(this.opts.root, row.class), row.body, false, (err) => {
      if (link !== this.link) return; // an earlier connection: its rows are re-sent anyway
      if (err) return this.failed(err);
      const flight = this.events.get(seq);
      if (!flight) return;
      this.events.delete(seq);
      this.opts.outbox.ackEvent(seq, bytes);
      if (seq >= this.protectedUpTo) this.protectedUpTo = 0;
      this.progress(flight.sentAt);
    });
  }

  private publishReply(link: Link, row: ReplyRow): void {
    const id = row.id;
    this.busy();
    this.replies.set(id, { sentAt: this.opts.clock.monotonic(), bytes: row.body.length });
    link.publish(`${this.opts.root}/${row.topic}`, row.body, false, (err) => {
      if (link !== this.link) return;
      if (err) return this.failed(err);
      const flight = this.replies.get(id);
      if (!flight) return;
      this.replies.delete(id);
      this.opts.outbox.ackReply(id);
      this.progress(flight.sentAt);
    });
  }

  private progress(sentAt: number): void {
    this.acked++;
    this.lastAckAt = this.opts.clock.now();
    this.lastProgressMono = this.opts.clock.monotonic();
    this.opts.onAck?.(this.lastProgressMono - sentAt);
    this.kick();
    this.settle();
  }

  private failed(err: Error): void {
    // "Connection closed" comes from MQTT.js flushing callbacks of a client being torn
    // down; the connection loop handles that. A reason code means the broker refused.
    if ((err as { code?: unknown }).code !== undefined) this.opts.onPublishRefused(err);
  }
}
