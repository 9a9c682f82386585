/**
 * The fleet emulator (issue 16): N emulated boxes in one process, for platform teams and
 * for our own scale tests (`gatehouse fleet --boxes N --rate R --uplink URL[,URL...]`).
 *
 * Each box (box.ts) has its own client id, credentials and per-gateway seq, and publishes
 * contract envelopes of every class built from the declared event examples (the same ones
 * docs/asyncapi.yaml shows, so every message validates against it), at a mix that looks like
 * a compound: access events in bursts (a group through the gate), charging meter values,
 * device and system events now and then, alarms rarely.
 *
 * `rate` is the mean events per second per box. Events are drawn each tick (100 ms) from a
 * Poisson process per box; an access arrival brings a burst of 1 to 5 events over the next
 * ticks, and the arrival rates are scaled so the mean stays `rate`.
 */
import type { Clock, TimerHandle, Timers } from '../../gateway/core/clock.js';
import { idGenerator } from '../../gateway/core/ids.js';
import { Box, fleetIdentity, type BoxReport, type LoginRefusal } from './box.js';

export interface EventTemplate {
  class: string;
  type: string;
  source: Record<string, unknown>;
  data: Record<string, unknown>;
}

export interface FleetOptions {
  boxes: number;
  /** Mean events per second per box. */
  rate: number;
  urls: string[];
  templates: EventTemplate[];
  /** Compound id prefix: boxes are `{prefix}-001/gw-1` ... Default `fleet`. */
  prefix?: string;
  /** Derives each box's password (fleetIdentity); none: no credentials. */
  secret?: string;
  /** Stop recording after this many events per box (a run with a known total). */
  eventsPerBox?: number;
  /** QoS 1 publishes in flight per box. Default 16. */
  window?: number;
  clock: Clock;
  timers: Timers;
  random?: () => number;
  tickMs?: number;
}

/** Share of events per class; access arrives in bursts of MEAN_BURST on average. */
export const CLASS_MIX: Record<string, number> = { access: 0.6, charging: 0.25, device: 0.09, system: 0.05, alarm: 0.01 };
const MEAN_BURST = 3;
/** Within a class, how much more often a type is drawn than the others (a meter value per minute per port). */
const TYPE_WEIGHT: Record<string, number> = { 'charging.meter': 12, 'access.granted': 6, 'device.online': 2, 'device.offline': 2 };

export interface FleetReport {
  boxes: BoxReport[];
  recorded: number;
  acked: number;
  connected: number;
}

export class Fleet {
  readonly boxes: Box[];
  private readonly byClass = new Map<string, { t: EventTemplate; w: number }[]>();
  private readonly bursts: number[];
  private readonly recorded: number[];
  private tick?: TimerHandle;
  private readonly random: () => number;
  private readonly ids = idGenerator();

  constructor(private readonly o: FleetOptions) {
    if (o.urls.length === 0) throw new Error('fleet: no uplink URL');
    this.random = o.random ?? Math.random;
    for (const t of o.templates) {
      const list = this.byClass.get(t.class) ?? [];
      list.push({ t, w: TYPE_WEIGHT[t.type] ?? 1 });
      this.byClass.set(t.class, list);
    }
    for (const cls of Object.keys(CLASS_MIX)) {
      if (!this.byClass.has(cls)) throw new Error(`fleet: no event template of class ${cls}`);
    }
    this.boxes = Array.from(
      { length: o.boxes },
      (_, i) =>
        new Box({
          identity: fleetIdentity(o.prefix ?? 'fleet', i, o.secret),
          urls: o.urls,
          firstUrl: i % o.urls.length,
          window: o.window ?? 16,
          clock: o.clock,
          timers: o.timers,
          random: this.random,
        }),
    );
    this.bursts = new Array<number>(o.boxes).fill(0);
    this.recorded = new Array<number>(o.boxes).fill(0);
  }

  start(): void {
    for (const b of this.boxes) b.start();
    const tickMs = this.o.tickMs ?? 100;
    this.tick = this.o.timers.setInterval(() => this.onTick(tickMs), tickMs);
  }

  /** True once every box recorded eventsPerBox and all of it is acknowledged. */
  done(): boolean {
    const n = this.o.eventsPerBox;
    return n !== undefined && this.recorded.every((r) => r >= n) && this.boxes.every((b) => b.unacked === 0);
  }

  private onTick(tickMs: number): void {
    const lambda = (this.o.rate * tickMs) / 1000;
    for (let i = 0; i < this.boxes.length; i++) {
      if (this.bursts[i]! > 0) {
        this.bursts[i]!--;
        this.emit(i, 'access');
      }
      for (const [cls, share] of Object.entries(CLASS_MIX)) {
        const mean = cls === 'access' ? (lambda * share) / MEAN_BURST : lambda * share;
        const n = poisson(mean, this.random);
        for (let k = 0; k < n; k++) {
          this.emit(i, cls);
          // The rest of the burst arrives over the next ticks: 0..4 more, 2 on average.
          if (cls === 'access') this.bursts[i]! += Math.floor(this.random() * 5);
        }
      }
    }
  }

  private emit(i: number, cls: string): void {
    const limit = this.o.eventsPerBox;
    if (limit !== undefined && this.recorded[i]! >= limit) return;
    this.recorded[i]!++;
    const t = this.pick(cls);
    const now = this.o.clock.now();
    this.boxes[i]!.record(cls, (seq) => ({
      v: 1,
      id: this.ids(now),
      seq,
      ts: new Date(now).toISOString(),
      clock: this.o.clock.state(),
      type: t.type,
      source: t.source,
      data: t.data,
    }));
  }

  private pick(cls: string): EventTemplate {
    const list = this.byClass.get(cls)!;
    const total = list.reduce((s, x) => s + x.w, 0);
    let r = this.random() * total;
    for (const x of list) {
      r -= x.w;
      if (r < 0) return x.t;
    }
    return list[list.length - 1]!.t;
  }

  report(): FleetReport {
    const boxes = this.boxes.map((b) => b.report());
    return {
      boxes,
      recorded: boxes.reduce((n, b) => n + b.lastSeq, 0),
      acked: boxes.reduce((n, b) => n + b.acked, 0),
      connected: this.boxes.filter((b) => b.connected).length,
    };
  }

  /** The first box a broker refused to log in, if any: a configuration mistake, not an outage. */
  refusal(): (LoginRefusal & { root: string }) | undefined {
    for (const b of this.boxes) if (b.refusal) return { root: b.root, ...b.refusal };
    return undefined;
  }

  async stop(): Promise<void> {
    this.tick?.cancel();
    await Promise.all(this.boxes.map((b) => b.stop()));
  }
}

function poisson(mean: number, random: () => number): number {
  if (mean <= 0) return 0;
  const l = Math.exp(-mean);
  let k = 0;
  let p = random();
  while (p > l) {
    k++;
    p *= random();
  }
  return k;
}

/** Templates from declared events (the AsyncAPI examples): class, type, source and data of each example envelope. */
export function templatesFromExamples(
  docs: readonly { class: string; type: string; examples?: { payload: Record<string, unknown> }[] }[],
): EventTemplate[] {
  const out: EventTemplate[] = [];
  for (const d of docs) {
    // A box that evicted nothing must not say it did: the platform would take the named seqs as dropped.
    if (d.type === 'outbox.evicted') continue;
    for (const ex of d.examples ?? []) {
      const p = ex.payload as { source?: Record<string, unknown>; data?: Record<string, unknown> };
      if (p.source && p.data) out.push({ class: d.class, type: d.type, source: p.source, data: p.data });
    }
  }
  return out;
}
