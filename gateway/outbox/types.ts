/**
 * The outbox's types: rows handed to readers, its stats, its events, the operations
 * waiting for a group commit, and its options.
 */
import type { Clock, Timers } from '../core/clock.js';
import type { GatehouseError } from '../core/errors.js';
import type { Envelope, EventClass, EventInput } from '../core/events.js';
import type { OutboxConfig } from '../../config/schema.js';
import type { DiskFullInfo } from './disk-full.js';
import type { EvictionReport } from './eviction.js';

export interface EventRow {
  seq: number;
  class: EventClass;
  body: string;
}

export interface ReplyRow {
  id: number;
  topic: string;
  body: string;
}

export interface OutboxStats {
  events: number;
  bytes: number;
  maxBytes: number;
  oldestRecordedAt: number | null;
  nextSeq: number;
  replies: number;
  pendingCommit: number;
  lastCommitAt: number | null;
  byClass: Record<string, number>;
  /** The cap configured in outbox.maxBytes; `maxBytes` is lower when the filesystem cannot hold it. */
  configuredMaxBytes: number;
  /** Set while the disk is full: since when (epoch ms) and how many events were refused. */
  diskFull: { since: string; rejected: number; code: string } | null;
  /** Whether the reserve file (outbox.reserveBytes) is in place. */
  reserveHeld: boolean;
}

export interface OutboxEvents {
  /** The committed envelopes, and the class of each (same order). */
  recorded: [Envelope[], classes: EventClass[]];
  state: [string, string];
  reply: [];
  evicted: [EvictionReport];
  error: [GatehouseError];
  /** The outbox could not commit even after evicting telemetry and releasing its reserve. */
  diskFull: [DiskFullInfo];
  /** Commits succeed again and the reserve is back: recording resumed by itself. */
  diskRecovered: [DiskFullInfo & { until: number }];
}

/** One operation waiting for the next group commit. */
export type PendingOp =
  | {
      kind: 'event';
      input: EventInput;
      ts: number;
      clock: 'synced' | 'unsynced';
      pinned: boolean;
      resolve: (e: Envelope) => void;
      reject: (e: unknown) => void;
    }
  | { kind: 'state'; device: string; body: string; ts: number; resolve: () => void; reject: (e: unknown) => void }
  | { kind: 'reply'; topic: string; body: string; ts: number; resolve: () => void; reject: (e: unknown) => void }
  /** An owner's own rows written inside the group commit (StoreScope.defer); run again if the commit is retried. */
  | { kind: 'write'; run: () => void; ts: number; resolve: () => void; reject: (e: unknown) => void };

export interface OutboxOptions {
  file: string;
  clock: Clock;
  config?: Partial<OutboxConfig>;
  /** For the disk-full retry; real timers by default. */
  timers?: Timers;
}
