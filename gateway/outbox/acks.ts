/**
 * Settling delivered rows: the uplink marks an event or a command answer delivered when
 * the platform's PUBACK arrives, and the rows are deleted in batches (every 50 ms or 2000
 * rows). A lost delete (a crash, a full disk) only means a re-send of the same content:
 * duplicates, never loss.
 */
import type { Database as Db, Statement } from 'better-sqlite3';
import { GatehouseError } from '../core/errors.js';

export interface AckBatcherOptions {
  db: Db;
  deleteEvent: Statement;
  deleteReply: Statement;
  /** Event bytes actually deleted by one flush. */
  freed(bytes: number): void;
  onError(err: GatehouseError): void;
}

export class AckBatcher {
  private events: { seq: number; bytes: number }[] = [];
  private replies: number[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: AckBatcherOptions) {}

  event(seq: number, bytes: number): void {
    this.events.push({ seq, bytes });
    this.schedule();
  }

  reply(id: number): void {
    this.replies.push(id);
    this.schedule();
  }

  private schedule(): void {
    if (this.events.length + this.replies.length >= 2000) return this.flush();
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), 50);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.events.length && !this.replies.length) return;
    const events = this.events;
    const replies = this.replies;
    this.events = [];
    this.replies = [];
    const { db } = this.o;
    try {
      let freed = 0;
      // A lost delete only means a re-send, so this transaction skips the per-commit fsync
      // (the next recording commit's fsync covers it in the WAL anyway).
      db.pragma('synchronous = NORMAL');
      try {
        db.transaction(() => {
          for (const a of events) if (this.o.deleteEvent.run(a.seq).changes) freed += a.bytes;
          for (const id of replies) this.o.deleteReply.run(id);
        })();
      } finally {
        db.pragma('synchronous = FULL');
      }
      this.o.freed(freed);
    } catch (err) {
      // Rows stay and are re-sent later: duplicates, never loss.
      this.o.onError(new GatehouseError('INTERNAL', `outbox ack delete failed: ${(err as Error).message}`, undefined, { cause: err }));
    }
  }
}
