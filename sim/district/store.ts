/**
 * The reference platform consumer's durable store (issue 16): what a district platform
 * team copies. One SQLite file that several competing consumers (processes) share; each
 * consumer writes a batch of broker deliveries in one transaction and acknowledges them to
 * the broker only after the commit returns, so a consumer that dies at any point loses
 * nothing: whatever it had not committed is redelivered by the broker to another one.
 *
 * What it checks, per message:
 * - the envelope (sim/event-checker.ts envelopeProblem) and the topic
 *   (`gatehouse/v1/{compound}/{gateway}/evt/{class}`); a bad message is recorded as a
 *   problem and acknowledged, so a poison message cannot loop forever;
 * - dedupe by `id`: a second copy with the same bytes is a counted duplicate (delivery is at
 *   least once), a second copy with other bytes, or another id for a (gateway, seq) already
 *   stored, is a conflict (the contract says that never happens);
 * - per-class order, per consumer: a first-seen seq lower than the highest seen for its
 *   gateway and class, on a delivery the broker does not mark as redelivered, is an order
 *   violation (a box only ever re-sends lower seqs, and those are duplicates);
 * - completeness (report()): every gateway's seq 1..max is stored or inside an
 *   `outbox.evicted` report of that gateway.
 *
 * Durability: WAL with synchronous=FULL: a committed batch survives a power cut, which is
 * what "acknowledge after the durable write" means.
 */
import Database from 'better-sqlite3';
import { envelopeProblem, isObject } from '../event-checker.js';

export interface Delivery {
  /** The MQTT topic (`gatehouse/v1/c/g/evt/access`). AMQP routing keys go through mqttTopicOfRoutingKey first. */
  topic: string;
  payload: Buffer;
  /** The broker says it delivered this before (AMQP `redelivered`, MQTT `dup`). */
  redelivered: boolean;
}

export type Outcome = 'stored' | 'duplicate' | 'conflict' | 'rejected';

export interface GatewayReport {
  compound: string;
  gateway: string;
  unique: number;
  maxSeq: number;
  missing: [number, number][];
  missingCount: number;
  evicted: number;
}

export interface StoreReport {
  ok: boolean;
  problems: string[];
  unique: number;
  duplicates: number;
  conflicts: number;
  rejected: number;
  orderViolations: number;
  gateways: GatewayReport[];
  /** Events stored per compound and class: what the platform team prints first. */
  perCompound: Record<string, Record<string, number>>;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  id TEXT PRIMARY KEY,
  compound TEXT NOT NULL,
  gateway TEXT NOT NULL,
  seq INTEGER NOT NULL,
  class TEXT NOT NULL,
  type TEXT NOT NULL,
  ts TEXT NOT NULL,
  body TEXT NOT NULL,
  consumer TEXT NOT NULL,
  stored_at INTEGER NOT NULL,
  -- 1: the broker had delivered it before (to a consumer that died before its ack)
  redelivered INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_seq ON events (compound, gateway, seq);
CREATE TABLE IF NOT EXISTS evictions (
  compound TEXT NOT NULL, gateway TEXT NOT NULL, class TEXT NOT NULL,
  from_seq INTEGER NOT NULL, to_seq INTEGER NOT NULL, count INTEGER NOT NULL, reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS problems (at INTEGER NOT NULL, consumer TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL);
`;

/** AMQP routing key on amq.topic back to the MQTT topic: RabbitMQ maps MQTT `/` to `.` and `.` to `/`. */
export function mqttTopicOfRoutingKey(key: string): string {
  return key
    .split('.')
    .map((level) => level.replace(/\//g, '.'))
    .join('/');
}

const EVT = /^gatehouse\/v1\/([^/]+)\/([^/]+)\/evt\/(alarm|access|charging|device|system)$/;

export class DistrictStore {
  readonly db: Database.Database;
  private readonly maxFirstSeen = new Map<string, number>();
  private readonly q;

  constructor(
    file: string,
    readonly consumer: string,
  ) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    // Competing consumers in other processes write the same file.
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(SCHEMA);
    this.q = {
      byId: this.db.prepare<[string], { body: string; seq: number; compound: string; gateway: string }>(
        'SELECT body, seq, compound, gateway FROM events WHERE id = ?',
      ),
      bySeq: this.db.prepare<[string, string, number], { id: string }>(
        'SELECT id FROM events WHERE compound = ? AND gateway = ? AND seq = ?',
      ),
      insert: this.db.prepare(
        'INSERT INTO events (id, compound, gateway, seq, class, type, ts, body, consumer, stored_at, redelivered) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      eviction: this.db.prepare('INSERT INTO evictions VALUES (?, ?, ?, ?, ?, ?, ?)'),
      count: this.db.prepare('INSERT INTO counters (name, n) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET n = n + excluded.n'),
      problem: this.db.prepare('INSERT INTO problems VALUES (?, ?, ?, ?)'),
    };
  }

  /** Writes a batch in one durable transaction; returns each delivery's outcome in order. Acknowledge only after this returns. */
  record(batch: readonly Delivery[]): Outcome[] {
    const run = this.db.transaction((items: readonly Delivery[]) => {
      const counts: Record<string, number> = {};
      const out = items.map((d) => {
        const o = this.one(d);
        counts[o] = (counts[o] ?? 0) + 1;
        return o;
      });
      for (const [k, n] of Object.entries(counts)) this.q.count.run(k, n);
      return out;
    });
    return run.immediate(batch);
  }

  private problem(kind: string, detail: string): void {
    this.q.problem.run(Date.now(), this.consumer, kind, detail.slice(0, 500));
  }

  private one(d: Delivery): Outcome {
    const m = EVT.exec(d.topic);
    const raw = d.payload.toString('utf8');
    if (!m) {
      this.problem('topic', `not an event topic: ${d.topic}`);
      return 'rejected';
    }
    const [, compound, gateway, cls] = m as unknown as [string, string, string, string];
    let e: unknown;
    try {
      e = JSON.parse(raw);
    } catch {
      this.problem('envelope', `${d.topic}: not JSON`);
      return 'rejected';
    }
    const bad = envelopeProblem(e);
    if (bad || !isObject(e)) {
      this.problem('envelope', `${d.topic}: ${bad}`);
      return 'rejected';
    }
    const env = e as { id: string; seq: number; type: string; ts: string; data: Record<string, unknown> };
    const prior = this.q.byId.get(env.id);
    if (prior) {
      if (prior.body === raw) return 'duplicate';
      this.problem('conflict', `${d.topic}: id ${env.id} arrived again with other content`);
      return 'conflict';
    }
    const sameSeq = this.q.bySeq.get(compound, gateway, env.seq);
    if (sameSeq) {
      this.problem('conflict', `${compound}/${gateway}: seq ${env.seq} arrived with id ${env.id}, stored with ${sameSeq.id}`);
      return 'conflict';
    }
    const orderKey = `${compound}/${gateway}/${cls}`;
    const max = this.maxFirstSeen.get(orderKey) ?? 0;
    if (env.seq < max && !d.redelivered) {
      this.q.count.run('order_violation', 1);
      this.problem('order', `${orderKey}: seq ${env.seq} first seen after ${max}`);
    }
    if (env.seq > max) this.maxFirstSeen.set(orderKey, env.seq);
    this.q.insert.run(env.id, compound, gateway, env.seq, cls, env.type, env.ts, raw, this.consumer, Date.now(), d.redelivered ? 1 : 0);
    if (env.type === 'outbox.evicted') {
      const x = env.data;
      this.q.eviction.run(compound, gateway, String(x.class), Number(x.fromSeq), Number(x.toSeq), Number(x.count), String(x.reason));
    }
    return 'stored';
  }

  /** Events stored so far, by every consumer of this file (cheap: for progress polling). */
  count(): number {
    return this.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').get()!.n;
  }

  counter(name: string): number {
    return this.db.prepare<[string], { n: number }>('SELECT n FROM counters WHERE name = ?').get(name)?.n ?? 0;
  }

  /** Completeness and counts over everything every consumer stored in this file. */
  report(): StoreReport {
    const problems: string[] = [];
    const evictions = this.db
      .prepare<[], { compound: string; gateway: string; from_seq: number; to_seq: number; count: number }>('SELECT * FROM evictions')
      .all();
    const gateways: GatewayReport[] = [];
    const rows = this.db
      .prepare<[], { compound: string; gateway: string; seq: number }>(
        'SELECT compound, gateway, seq FROM events ORDER BY compound, gateway, seq',
      )
      .iterate();
    let cur: (GatewayReport & { next: number }) | undefined;
    const close = (): void => {
      if (!cur) return;
      const ev = evictions.filter((x) => x.compound === cur!.compound && x.gateway === cur!.gateway);
      cur.evicted = ev.reduce((n, x) => n + x.count, 0);
      // A gap is explained only by an eviction report of the same gateway covering it.
      const unexplained = cur.missing.filter(([a, b]) => !ev.some((x) => x.from_seq <= a && b <= x.to_seq));
      if (unexplained.length)
        problems.push(`${cur.compound}/${cur.gateway}: seq missing ${unexplained.map(([a, b]) => (a === b ? a : `${a}-${b}`)).join(', ')}`);
      const { next: _next, ...g } = cur;
      gateways.push(g);
      cur = undefined;
    };
    for (const r of rows) {
      if (!cur || cur.compound !== r.compound || cur.gateway !== r.gateway) {
        close();
        cur = { compound: r.compound, gateway: r.gateway, unique: 0, maxSeq: 0, missing: [], missingCount: 0, evicted: 0, next: 1 };
      }
      if (r.seq > cur.next) {
        cur.missing.push([cur.next, r.seq - 1]);
        cur.missingCount += r.seq - cur.next;
      }
      cur.unique++;
      cur.maxSeq = r.seq;
      cur.next = r.seq + 1;
    }
    close();
    const perCompound: Record<string, Record<string, number>> = {};
    for (const r of this.db
      .prepare<[], { compound: string; class: string; n: number }>(
        'SELECT compound, class, count(*) AS n FROM events GROUP BY compound, class',
      )
      .all()) {
      (perCompound[r.compound] ??= {})[r.class] = r.n;
    }
    const conflicts = this.counter('conflict');
    const orderViolations = this.counter('order_violation');
    if (conflicts) problems.push(`${conflicts} conflicting copies (same id or seq, other content)`);
    if (orderViolations) problems.push(`${orderViolations} order violations`);
    for (const p of this.db
      .prepare<[], { kind: string; detail: string }>("SELECT kind, detail FROM problems WHERE kind != 'conflict' LIMIT 20")
      .all()) {
      problems.push(`${p.kind}: ${p.detail}`);
    }
    return {
      ok: problems.length === 0,
      problems,
      unique: gateways.reduce((n, g) => n + g.unique, 0),
      duplicates: this.counter('duplicate'),
      conflicts,
      rejected: this.counter('rejected'),
      orderViolations,
      gateways,
      perCompound,
    };
  }

  close(): void {
    this.db.close();
  }
}
