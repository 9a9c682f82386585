/**
 * A long uplink outage on simulated time: a real outbox (SQLite file) and a real uplink
 * whose timers run on a ManualClock, behind a proxy that refuses every connection. Each
 * simulated minute records a compound's traffic (cabinet meter readings, access decisions,
 * lock/device changes, and an alarm every 15 minutes); each simulated hour samples memory,
 * the outbox's bytes and the database file size. Then the link returns and everything left
 * is drained to a real Mosquitto and checked by the platform-side verifier.
 * Used by the soak (24 h) and by the default test run (1 h).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../gateway/core/clock.js';
import type { EventClass, EventInput, Envelope } from '../../gateway/core/events.js';
import { untyped } from './untyped-event.js';
import { topicRoot } from '../../gateway/core/topics.js';
import { Verifier, type VerifierReport } from '../../sim/verifier.js';
import type { Mosquitto } from './mosquitto.js';
import { TcpProxy } from './tcp-proxy.js';
import { makeRig, outboxBacklog } from './uplink-rig.js';
import { waitFor } from './wait.js';

export interface HourSample {
  hour: number;
  rssMb: number;
  heapMb: number;
  outboxBytes: number;
  fileBytes: number;
  events: number;
}

export interface OutageResult {
  recorded: number;
  alarms: Envelope[];
  samples: HourSample[];
  maxBytes: number;
  report: VerifierReport;
  alarmsDelivered: number;
  drainMs: number;
}

const PORTS = 12;

/** One simulated minute of a compound's traffic (15 events, an alarm every 15 minutes). */
export function minuteTraffic(minute: number): EventInput[] {
  const out: EventInput[] = [];
  for (let p = 1; p <= PORTS; p++) {
    out.push(
      untyped({
        class: 'charging',
        type: 'charging.meter',
        source: { device: 'cab-1', point: `port-${p}` },
        data: { powerW: 150 + ((minute * p) % 40), energyWh: minute * p },
      }),
    );
  }
  const cls: EventClass = 'access';
  out.push(
    untyped({
      class: cls,
      type: 'access.granted',
      source: { device: `reader-${minute % 4}` },
      data: { credential: `card-${minute % 97}`, door: `door-${minute % 4}` },
    }),
  );
  out.push(
    untyped({
      class: 'device',
      type: 'lock.state',
      source: { device: `lock-${minute % 8}` },
      data: { locked: minute % 2 === 0, battery: 80 },
    }),
  );
  if (minute % 15 === 0)
    out.push(
      untyped({
        class: 'alarm',
        type: 'alarm.raised',
        source: { device: 'panel-1', point: `zone-${minute % 9}` },
        data: { code: 'BA', minute },
      }),
    );
  return out;
}

const mb = (n: number): number => Math.round((n / 2 ** 20) * 10) / 10;

/** What outbox.maxBytes caps: outbox.db, its WAL and its shared-memory index, as `ls -l` shows them. */
export function outboxFileBytes(dir: string): number {
  let n = 0;
  for (const f of ['outbox.db', 'outbox.db-wal', 'outbox.db-shm']) {
    try {
      n += statSync(join(dir, f)).size;
    } catch {
      // no WAL right after a checkpoint
    }
  }
  return n;
}

export async function runSimulatedOutage(
  broker: Mosquitto,
  opts: { hours: number; maxBytes: number; name: string },
): Promise<OutageResult> {
  const root = topicRoot('soak-court', opts.name);
  const clock = new ManualClock();
  const proxy = await TcpProxy.start({ port: broker.port });
  proxy.refuse();
  const verifier = await Verifier.connect({ url: broker.url, root, persistentSession: false });
  const rig = makeRig({
    url: proxy.url,
    root,
    clock,
    outbox: { maxBytes: opts.maxBytes, checkpointIntervalMs: 60_000 },
    extra: { timers: clock },
  });
  const gc = (globalThis as { gc?: () => void }).gc;
  const samples: HourSample[] = [];
  const alarms: Envelope[] = [];
  let recorded = 0;
  try {
    rig.uplink.start();
    for (let minute = 0; minute < opts.hours * 60; minute++) {
      const envelopes = await Promise.all(minuteTraffic(minute).map((e) => rig.outbox.record(e)));
      recorded += envelopes.length;
      for (const e of envelopes) if (e.type === 'alarm.raised') alarms.push(e);
      clock.advance(60_000);
      if ((minute + 1) % 60 === 0) {
        gc?.();
        const m = process.memoryUsage();
        const s = rig.outbox.stats();
        samples.push({
          hour: (minute + 1) / 60,
          rssMb: mb(m.rss),
          heapMb: mb(m.heapUsed),
          outboxBytes: s.bytes,
          fileBytes: outboxFileBytes(rig.dir),
          events: s.events,
        });
      }
    }
    // The link returns. Simulated time keeps moving (reconnect backoff, ack watchdog) while real I/O drains.
    proxy.pass();
    const t0 = Date.now();
    const ticker = setInterval(() => clock.advance(200), 10);
    try {
      await waitFor(() => rig.uplink.status().connected, 'the uplink to reconnect when the link returns', 30_000);
      await waitFor(
        () => outboxBacklog(rig.outbox) === 0,
        'the backlog to drain',
        120_000,
        () => rig.outbox.stats(),
      );
      await waitFor(() => alarms.every((a) => verifier.has(a.seq)), 'every alarm at the platform', 30_000);
    } finally {
      clearInterval(ticker);
    }
    const drainMs = Date.now() - t0;
    const report = verifier.report();
    return {
      recorded,
      alarms,
      samples,
      maxBytes: opts.maxBytes,
      report,
      alarmsDelivered: alarms.filter((a) => verifier.has(a.seq)).length,
      drainMs,
    };
  } finally {
    await rig.dispose();
    await verifier.close();
    await proxy.close();
  }
}
