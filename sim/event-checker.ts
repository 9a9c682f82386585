/**
 * The pure part of the platform-side verifier (sim/verifier.ts): EventChecker takes every
 * `evt/{class}` message and checks envelope, duplicates, per-class order and completeness
 * against eviction reports, with no I/O. See verifier.ts for the guarantees it proves.
 */
import { EVENT_CLASSES, type Envelope } from '../gateway/core/events.js';

export interface EvictionNotice {
  /** The seq of the `outbox.evicted` event itself. */
  seq: number;
  class: string;
  fromSeq: number;
  toSeq: number;
  count: number;
  reason: string;
}

export type SeqRange = [from: number, to: number];

export interface VerifierReport {
  ok: boolean;
  /** One line per failed check, empty when ok. */
  problems: string[];
  fromSeq: number;
  /** The highest seq known to exist: received, or named by an eviction report. */
  maxSeq: number;
  /** evt messages received, duplicates included. */
  messages: number;
  unique: number;
  duplicates: number;
  received: SeqRange[];
  missing: SeqRange[];
  missingCount: number;
  byClass: Record<string, { unique: number; maxSeq: number }>;
  evictions: EvictionNotice[];
  evictedCount: number;
  /** Missing seqs inside no eviction range. */
  uncovered: SeqRange[];
  /** Seqs delivered although an eviction report of their own class covers them (first 100). */
  deliveredInEvicted: number[];
  evictionsExact: boolean;
  orderViolations: { class: string; seq: number; afterSeq: number }[];
  orderViolationCount: number;
  envelopeErrors: { topic: string; error: string; payload: string }[];
  envelopeErrorCount: number;
  conflicts: { seq: number; id: string; error: string }[];
  conflictCount: number;
}

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const ISO_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
export const KEEP = 100;
const CLASS_INDEX = new Map<string, number>(EVENT_CLASSES.map((c, i) => [c, i + 1]));

function fnv1a(b: Buffer): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

export function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Why `e` is not a version 1 envelope, or undefined when it is one. */
export function envelopeProblem(e: unknown): string | undefined {
  if (!isObject(e)) return 'not a JSON object';
  if (e.v !== 1) return `v is ${JSON.stringify(e.v)}, not 1`;
  if (typeof e.id !== 'string' || !ULID.test(e.id)) return 'id is not a ULID';
  if (typeof e.seq !== 'number' || !Number.isSafeInteger(e.seq) || e.seq < 1) return 'seq is not an integer >= 1';
  if (typeof e.ts !== 'string' || !ISO_TS.test(e.ts) || Number.isNaN(Date.parse(e.ts))) return 'ts is not an ISO 8601 UTC time';
  if (e.clock !== 'synced' && e.clock !== 'unsynced') return 'clock is neither synced nor unsynced';
  if (typeof e.type !== 'string' || e.type.length === 0) return 'type is missing';
  if (!isObject(e.source) || typeof e.source.device !== 'string' || e.source.device.length === 0) return 'source.device is missing';
  if (!isObject(e.data)) return 'data is not an object';
  return undefined;
}

export class EventChecker {
  readonly fromSeq: number;
  private readonly trackIds: boolean;
  private counts = new Uint8Array(1024);
  private hashes = new Uint32Array(1024);
  private classes = new Uint8Array(1024);
  private readonly ids = new Map<string, number>();
  private readonly highest = new Map<string, number>();
  private readonly uniqueByClass = new Map<string, number>();
  private readonly notices: EvictionNotice[] = [];
  private readonly orderViolations: VerifierReport['orderViolations'] = [];
  private readonly envelopeErrors: VerifierReport['envelopeErrors'] = [];
  private readonly conflicts: VerifierReport['conflicts'] = [];
  private orderViolationCount = 0;
  private envelopeErrorCount = 0;
  private conflictCount = 0;
  messages = 0;
  unique = 0;
  duplicates = 0;
  maxSeq = 0;

  constructor(opts: { fromSeq?: number; trackIds?: boolean } = {}) {
    this.fromSeq = opts.fromSeq ?? 1;
    this.trackIds = opts.trackIds ?? true;
  }

  has(seq: number): boolean {
    return seq < this.counts.length && this.counts[seq]! > 0;
  }

  private grow(seq: number): void {
    if (seq < this.counts.length) return;
    let n = this.counts.length;
    while (n <= seq) n *= 2;
    const c = new Uint8Array(n);
    c.set(this.counts);
    const h = new Uint32Array(n);
    h.set(this.hashes);
    const k = new Uint8Array(n);
    k.set(this.classes);
    this.counts = c;
    this.hashes = h;
    this.classes = k;
  }

  private envelopeError(topic: string, error: string, payload: Buffer): void {
    this.envelopeErrorCount++;
    if (this.envelopeErrors.length < KEEP) this.envelopeErrors.push({ topic, error, payload: payload.toString('utf8', 0, 200) });
  }

  private conflict(seq: number, id: string, error: string): void {
    this.conflictCount++;
    if (this.conflicts.length < KEEP) this.conflicts.push({ seq, id, error });
  }

  /** One message of `evt/{cls}`. Returns the envelope when it is new and valid. */
  addEvent(cls: string, payload: Buffer, topic = `evt/${cls}`): Envelope | undefined {
    this.messages++;
    let env: unknown;
    try {
      env = JSON.parse(payload.toString('utf8'));
    } catch {
      this.envelopeError(topic, 'not JSON', payload);
      return undefined;
    }
    const problem = envelopeProblem(env) ?? (CLASS_INDEX.has(cls) ? undefined : `unknown event class "${cls}"`);
    if (problem) {
      this.envelopeError(topic, problem, payload);
      return undefined;
    }
    const e = env as Envelope;
    const seq = e.seq;
    const hash = fnv1a(payload);
    const ci = CLASS_INDEX.get(cls)!;
    this.grow(seq);
    if (this.trackIds) {
      const prev = this.ids.get(e.id);
      if (prev === undefined) this.ids.set(e.id, seq);
      else if (prev !== seq) this.conflict(seq, e.id, `id already seen with seq ${prev}`);
    }
    if (this.counts[seq]! > 0) {
      this.duplicates++;
      if (this.counts[seq]! < 255) this.counts[seq]!++;
      if (this.hashes[seq] !== hash || this.classes[seq] !== ci) this.conflict(seq, e.id, 'seq seen again with different content or class');
      return undefined;
    }
    this.counts[seq] = 1;
    this.hashes[seq] = hash;
    this.classes[seq] = ci;
    this.unique++;
    this.uniqueByClass.set(cls, (this.uniqueByClass.get(cls) ?? 0) + 1);
    this.maxSeq = Math.max(this.maxSeq, seq);
    const high = this.highest.get(cls) ?? 0;
    if (seq < high) {
      this.orderViolationCount++;
      if (this.orderViolations.length < KEEP) this.orderViolations.push({ class: cls, seq, afterSeq: high });
    } else this.highest.set(cls, seq);
    if (e.type === 'outbox.evicted') this.addNotice(cls, e, topic, payload);
    return e;
  }

  private addNotice(cls: string, e: Envelope, topic: string, payload: Buffer): void {
    const d = e.data as Record<string, unknown>;
    const int = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
    if (
      cls !== 'system' ||
      typeof d.class !== 'string' ||
      !CLASS_INDEX.has(d.class) ||
      !int(d.fromSeq) ||
      !int(d.toSeq) ||
      !int(d.count) ||
      (d.toSeq as number) < (d.fromSeq as number)
    ) {
      this.envelopeError(topic, 'malformed outbox.evicted report', payload);
      return;
    }
    this.notices.push({
      seq: e.seq,
      class: d.class,
      fromSeq: d.fromSeq as number,
      toSeq: d.toSeq as number,
      count: d.count as number,
      reason: String(d.reason),
    });
  }

  report(): VerifierReport {
    // A report folded into an earlier one may name the very last seqs: nothing delivered
    // comes after them, but they existed and are accounted for.
    const max = this.notices.reduce((m, n) => Math.max(m, n.toSeq), this.maxSeq);
    const reportSeqs = new Set(this.notices.map((n) => n.seq));
    const problems: string[] = [];
    const received: SeqRange[] = [];
    const missing: SeqRange[] = [];
    let missingCount = 0;
    for (let s = this.fromSeq; s <= max;) {
      const got = this.counts[s]! > 0;
      let t = s;
      while (t + 1 <= max && this.counts[t + 1]! > 0 === got) t++;
      (got ? received : missing).push([s, t]);
      if (!got) missingCount += t - s + 1;
      s = t + 1;
    }
    // Which missing seqs an eviction report accounts for, and which delivered ones it should not.
    const covered = new Uint8Array(max + 2);
    const deliveredInEvicted: number[] = [];
    let deliveredInEvictedCount = 0;
    let evictedCount = 0;
    let straddling = 0;
    for (const n of this.notices) {
      if (n.fromSeq < this.fromSeq) straddling++;
      else evictedCount += n.count;
      const ci = CLASS_INDEX.get(n.class)!;
      for (let s = Math.max(n.fromSeq, 1); s <= Math.min(n.toSeq, max); s++) {
        covered[s] = 1;
        // Eviction reports are pinned, never evicted: one inside a `system` range is expected.
        if (this.counts[s]! > 0 && this.classes[s] === ci && !reportSeqs.has(s)) {
          deliveredInEvictedCount++;
          if (deliveredInEvicted.length < KEEP) deliveredInEvicted.push(s);
        }
      }
    }
    const uncovered: SeqRange[] = [];
    let uncoveredCount = 0;
    for (const [a, b] of missing) {
      for (let s = a; s <= b; s++) {
        if (covered[s]) continue;
        uncoveredCount++;
        const last = uncovered[uncovered.length - 1];
        if (last && last[1] === s - 1) last[1] = s;
        else uncovered.push([s, s]);
      }
    }
    const evictionsExact = uncoveredCount === 0 && straddling === 0 && evictedCount === missingCount && deliveredInEvictedCount === 0;
    if (this.envelopeErrorCount)
      problems.push(`${this.envelopeErrorCount} message(s) with a bad envelope, first: ${this.envelopeErrors[0]!.error}`);
    if (this.conflictCount)
      problems.push(`${this.conflictCount} conflicting re-delivery(ies), first: seq ${this.conflicts[0]!.seq} ${this.conflicts[0]!.error}`);
    if (this.orderViolationCount)
      problems.push(`${this.orderViolationCount} per-class order violation(s), first: ${JSON.stringify(this.orderViolations[0])}`);
    if (uncoveredCount)
      problems.push(
        `${uncoveredCount} missing seq(s) not covered by any eviction report, first ranges: ${JSON.stringify(uncovered.slice(0, 5))}`,
      );
    if (straddling)
      problems.push(
        `${straddling} eviction report(s) start before seq ${this.fromSeq}, where this verifier began: counts cannot be checked`,
      );
    if (!uncoveredCount && !straddling && evictedCount !== missingCount)
      problems.push(`eviction reports count ${evictedCount} event(s) but ${missingCount} seq(s) are missing`);
    if (deliveredInEvictedCount)
      problems.push(
        `${deliveredInEvictedCount} event(s) delivered although reported evicted, first: ${deliveredInEvicted.slice(0, 5).join(', ')}`,
      );
    const byClass: VerifierReport['byClass'] = {};
    for (const [cls, unique] of this.uniqueByClass) byClass[cls] = { unique, maxSeq: this.highest.get(cls) ?? 0 };
    return {
      ok: problems.length === 0,
      problems,
      fromSeq: this.fromSeq,
      maxSeq: max,
      messages: this.messages,
      unique: this.unique,
      duplicates: this.duplicates,
      received,
      missing,
      missingCount,
      byClass,
      evictions: [...this.notices],
      evictedCount,
      uncovered,
      deliveredInEvicted,
      evictionsExact,
      orderViolations: [...this.orderViolations],
      orderViolationCount: this.orderViolationCount,
      envelopeErrors: [...this.envelopeErrors],
      envelopeErrorCount: this.envelopeErrorCount,
      conflicts: [...this.conflicts],
      conflictCount: this.conflictCount,
    };
  }
}
