/**
 * The gateway's Prometheus metrics (issue 15.7), on prom-client. Loaded only when
 * `metrics.enabled` (app.ts imports this file then, never before), and fed by small hooks:
 * listeners on the outbox ('recorded', 'evicted') and the uplink ('acked'), a few reads at
 * scrape time (outbox counts, uplink status, open alarms, presence, certificate expiry), and
 * the `observe.pollCycle` callback the family context hands to Modbus families. No family
 * imports prom-client.
 *
 * Names follow the Prometheus conventions: the `gatehouse_` prefix, `_total` on counters,
 * base units (`_seconds`, `_bytes`). The list is in the README ("Metrics").
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Alarm } from '../alarms/types.js';
import type { Envelope } from '../core/events.js';
import type { Outbox } from '../outbox/outbox.js';
import type { EvictionReport } from '../outbox/eviction.js';
import type { Uplink } from '../uplink/uplink.js';
import type { GatewayObserver } from '../families/family.js';
import { VERSION } from '../version.js';

export interface MetricsSources {
  outbox: Pick<Outbox, 'on' | 'classCounts' | 'stats'>;
  alarms: { list(opts: { limit: number }): Alarm[]; openCount(): number };
  presence: { tracked(): { family: string; announced: boolean | null }[] };
  /** The uplink certificate's subject and seconds until it expires; undefined without one. */
  certificate(): { subject: string; secondsLeft: number } | undefined;
  now(): number;
  /** How old a per-class scan of the outbox may be (metrics.outboxScanMaxAgeMs). */
  outboxScanMaxAgeMs: number;
}

const CLASSES = ['alarm', 'access', 'charging', 'device', 'system'] as const;
const PUBACK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20];
const POLL_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A command name as a label: unknown names (answered CMD_UNKNOWN) are one label, so nobody can grow the series. */
function commandLabel(data: Record<string, unknown>): string {
  if (data.error === 'CMD_UNKNOWN' || data.error === 'CMD_MALFORMED' || typeof data.command !== 'string') return '(invalid)';
  return data.command;
}

export class GatewayMetrics implements GatewayObserver {
  readonly registry = new Registry();
  private readonly records: Counter<'class'>;
  private readonly evicted: Counter<'class' | 'reason'>;
  private readonly commands: Counter<'command' | 'result'>;
  private readonly publishes: Counter;
  private readonly pubackLatency: Histogram;
  private readonly pollCycleHist: Histogram<'bus'>;
  private uplink: Uplink | undefined;

  constructor(private readonly src: MetricsSources) {
    const registers = [this.registry];
    // Event-loop lag, RSS, heap, GC, open handles: prom-client's own, under our prefix.
    collectDefaultMetrics({ register: this.registry, prefix: 'gatehouse_' });
    new Gauge({ name: 'gatehouse_build_info', help: 'Always 1; the running version as a label.', labelNames: ['version'], registers }).set(
      { version: VERSION },
      1,
    );

    const counts = () => src.outbox.classCounts(src.outboxScanMaxAgeMs);
    new Gauge({
      name: 'gatehouse_outbox_depth',
      help: 'Events stored in the outbox and not yet acknowledged by the platform, per class.',
      labelNames: ['class'],
      registers,
      collect() {
        const c = counts();
        for (const k of CLASSES) this.set({ class: k }, c.byClass[k] ?? 0);
      },
    });
    new Gauge({
      name: 'gatehouse_outbox_oldest_age_seconds',
      help: 'Age of the oldest undelivered event per class (0 when none).',
      labelNames: ['class'],
      registers,
      collect() {
        const c = counts();
        const now = src.now();
        for (const k of CLASSES)
          this.set({ class: k }, c.oldestByClass[k] === undefined ? 0 : Math.max(0, (now - c.oldestByClass[k]) / 1000));
      },
    });
    new Gauge({
      name: 'gatehouse_outbox_bytes',
      help: 'Size of the outbox files on disk (outbox.db, -wal, -shm).',
      registers,
      collect() {
        this.set(src.outbox.stats({ maxAgeMs: Infinity }).bytes);
      },
    });
    new Gauge({
      name: 'gatehouse_outbox_max_bytes',
      help: 'The disk cap of the outbox in force (outbox.maxBytes, lowered when the filesystem cannot hold it).',
      registers,
      collect() {
        this.set(src.outbox.stats({ maxAgeMs: Infinity }).maxBytes);
      },
    });
    this.records = new Counter({
      name: 'gatehouse_outbox_records_total',
      help: 'Events recorded (committed) in the outbox, per class; rate() gives records per second.',
      labelNames: ['class'],
      registers,
    });
    this.evicted = new Counter({
      name: 'gatehouse_outbox_evicted_total',
      help: 'Events evicted from the outbox (disk cap, full disk, TTL), per class and reason; each is also reported as outbox.evicted.',
      labelNames: ['class', 'reason'],
      registers,
    });
    this.commands = new Counter({
      name: 'gatehouse_commands_total',
      help: 'Commands answered (from the platform, the console, operators), per command and result (ok or the error code).',
      labelNames: ['command', 'result'],
      registers,
    });
    for (const k of CLASSES) this.records.inc({ class: k }, 0);

    this.publishes = new Counter({
      name: 'gatehouse_uplink_publishes_total',
      help: 'Events and command answers published to the platform and acknowledged (PUBACK).',
      registers,
    });
    this.pubackLatency = new Histogram({
      name: 'gatehouse_uplink_puback_latency_seconds',
      help: 'Time from publishing an event or answer to its PUBACK.',
      buckets: PUBACK_BUCKETS,
      registers,
    });
    // The uplink is attached later (attachUplink); collectors read it through this arrow.
    const uplink = (): Uplink | undefined => this.uplink;
    const reconnects = { seen: 0 };
    new Counter({
      name: 'gatehouse_uplink_reconnects_total',
      help: 'Uplink connections established after the first one.',
      registers,
      collect() {
        const n = uplink()?.status().reconnects ?? 0;
        if (n > reconnects.seen) this.inc(n - reconnects.seen);
        reconnects.seen = Math.max(reconnects.seen, n);
      },
    });
    new Gauge({
      name: 'gatehouse_uplink_connected',
      help: '1 while the uplink to the platform (or the embedded broker) is connected.',
      registers,
      collect() {
        this.set(uplink()?.status().connected ? 1 : 0);
      },
    });
    new Gauge({
      name: 'gatehouse_uplink_inflight',
      help: 'Publishes waiting for their PUBACK.',
      registers,
      collect() {
        this.set(uplink()?.status().inflight ?? 0);
      },
    });
    new Gauge({
      name: 'gatehouse_uplink_certificate_expiry_seconds',
      help: "Seconds until the uplink's client certificate expires (negative once expired), its subject as a label; absent without one.",
      labelNames: ['subject'],
      registers,
      collect() {
        this.reset();
        const c = src.certificate();
        if (c) this.set({ subject: c.subject }, c.secondsLeft);
      },
    });

    new Gauge({
      name: 'gatehouse_devices',
      help: 'Devices per family (reader, lock, cabinet, module, panel, camera) by announced presence: online, offline, unknown (not heard yet).',
      labelNames: ['family', 'state'],
      registers,
      collect() {
        this.reset();
        const n = new Map<string, { online: number; offline: number; unknown: number }>();
        for (const d of src.presence.tracked()) {
          const c = n.get(d.family) ?? { online: 0, offline: 0, unknown: 0 };
          c[d.announced === null ? 'unknown' : d.announced ? 'online' : 'offline']++;
          n.set(d.family, c);
        }
        for (const [family, c] of n) for (const [state, v] of Object.entries(c)) this.set({ family, state }, v);
      },
    });
    this.pollCycleHist = new Histogram({
      name: 'gatehouse_poll_cycle_seconds',
      help: 'Duration of one poll of a Modbus unit (all its reads), per bus (RTU path or TCP host:port).',
      labelNames: ['bus'],
      buckets: POLL_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'gatehouse_alarms',
      help: 'Open alarms (not closed) by lifecycle state (raised, acknowledged, cleared) and priority.',
      labelNames: ['state', 'priority'],
      registers,
      collect() {
        this.reset();
        for (const state of ['raised', 'acknowledged', 'cleared'])
          for (const priority of ['critical', 'high', 'medium', 'low']) this.set({ state, priority }, 0);
        for (const a of src.alarms.list({ limit: Math.max(1, src.alarms.openCount()) })) this.inc({ state: a.state, priority: a.priority });
      },
    });

    src.outbox.on('recorded', (batch, classes) => this.recorded(batch, classes));
    src.outbox.on('evicted', (r: EvictionReport) => this.evicted.inc({ class: r.class, reason: r.reason }, r.count));
  }

  private recorded(batch: Envelope[], classes: readonly string[]): void {
    for (const c of classes) this.records.inc({ class: c });
    for (const e of batch) {
      if (e.type === 'command.executed') {
        const data = e.data;
        this.commands.inc({ command: commandLabel(data), result: data.ok === true ? 'ok' : String(data.error) });
      } else if (e.type === 'command.refusals_suppressed') {
        // Refusals not audited one by one (a flood) are still counted.
        const byCode = (e.data as { byCode?: Record<string, number> }).byCode ?? {};
        for (const [code, count] of Object.entries(byCode)) this.commands.inc({ command: '(suppressed)', result: code }, count);
      }
    }
  }

  /** The uplink exists from the gateway's start; its PUBACKs feed the latency histogram. */
  attachUplink(uplink: Uplink): void {
    this.uplink = uplink;
    uplink.on('acked', (ms) => {
      this.publishes.inc();
      this.pubackLatency.observe(ms / 1000);
    });
  }

  pollCycle(bus: string, seconds: number): void {
    this.pollCycleHist.observe({ bus }, seconds);
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
