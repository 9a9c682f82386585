/**
 * The rows of one group commit: envelopes stamped with gap-free seqs, states upserted,
 * replies inserted, and the next seq persisted in the same transaction as the rows that
 * use it. Runs inside the caller's transaction; nothing here is visible until it commits.
 */
import type { Statement } from 'better-sqlite3';
import type { Envelope } from '../core/events.js';
import type { PendingOp } from './types.js';

export interface BatchStatements {
  insertEvent: Statement;
  upsertState: Statement;
  insertReply: Statement;
  setNextSeq: Statement;
}

export interface BatchRows {
  /** The seq the next event will get once this batch is committed. */
  endSeq: number;
  /** One per event op, in order. */
  envelopes: Envelope[];
  /** Bytes of the event bodies written. */
  addedBytes: number;
}

/** The ISO form of the last timestamp seen: the events of one poll (one batch) mostly share their millisecond. */
let lastTs = Number.NaN;
let lastIso = '';
function iso(ts: number): string {
  if (ts !== lastTs) {
    lastIso = new Date(ts).toISOString();
    lastTs = ts;
  }
  return lastIso;
}

export function writeBatch(stmts: BatchStatements, ulid: (ts: number) => string, batch: PendingOp[], startSeq: number): BatchRows {
  const envelopes: Envelope[] = [];
  let addedBytes = 0;
  let seq = startSeq;
  for (const op of batch) {
    if (op.kind === 'event') {
      const env: Envelope = {
        v: 1,
        id: ulid(op.ts),
        seq,
        ts: iso(op.ts),
        clock: op.clock,
        type: op.input.type,
        source: op.input.source,
        data: op.input.data,
      };
      const body = JSON.stringify(env);
      stmts.insertEvent.run(seq, op.input.class, op.ts, op.clock === 'synced' ? 1 : 0, op.pinned ? 1 : 0, body);
      addedBytes += body.length;
      envelopes.push(env);
      seq++;
    } else if (op.kind === 'state') {
      stmts.upsertState.run(op.device, op.body, op.ts);
    } else if (op.kind === 'write') {
      op.run();
    } else {
      stmts.insertReply.run(op.topic, op.body, op.ts);
    }
  }
  if (seq !== startSeq) stmts.setNextSeq.run(seq);
  return { endSeq: seq, envelopes, addedBytes };
}
