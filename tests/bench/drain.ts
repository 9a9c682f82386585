/**
 * Drain and latency benchmarks against a real Mosquitto on loopback.
 * - drain: a pre-recorded backlog drained by the Uplink, against MQTT.js publishing the
 *   same number of QoS 1 messages with the same in-flight window and no outbox.
 * - latency: events recorded at a fixed rate, timed from record() to a subscriber,
 *   against MQTT.js publishing straight to the broker at the same rate.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import mqtt from 'mqtt';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { Uplink } from '../../gateway/uplink/uplink.js';
import { systemClock } from '../../gateway/core/clock.js';
import { secretsFrom } from '../../config/load.js';
import { UplinkConfig } from '../../config/schema.js';
import { silentLogger } from '../../gateway/core/log.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { sampleEvent } from './record-rate.js';

const WINDOW = 500;
const ROOT = 'gatehouse/v1/bench/gw';
/** Nagle off, as a platform broker tuned for telemetry runs; otherwise delayed ACKs add 40 ms. */
const BROKER = { persistence: false, extraConfig: ['set_tcp_nodelay true'] };

export interface DrainResult {
  events: number;
  baselinePerSec: number;
  uplinkPerSec: number;
  ratio: number;
  rssStartMb: number;
  rssMaxMb: number;
  rssEndMb: number;
}

async function countingSubscriber(url: string, topic: string, onMessage?: (payload: Buffer) => void) {
  const sub = await mqtt.connectAsync(url, { clientId: `bench-sub-${Math.random().toString(36).slice(2)}`, reconnectPeriod: 0 });
  let count = 0;
  sub.on('message', (_t, p) => {
    count++;
    onMessage?.(p);
  });
  await sub.subscribeAsync(topic, { qos: 0 });
  return { sub, count: () => count };
}

async function baselinePublish(url: string, n: number): Promise<number> {
  const client = await mqtt.connectAsync(url, { clientId: 'bench-baseline', reconnectPeriod: 0, clean: true });
  const body = JSON.stringify({
    v: 1,
    id: '01JD3M6R9Q8ZABCDEFGHJKMNPQ',
    seq: 1,
    ts: new Date().toISOString(),
    clock: 'synced',
    ...sampleEvent(1),
  });
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    let sent = 0;
    let acked = 0;
    const pump = () => {
      while (sent < n && sent - acked < WINDOW) {
        sent++;
        client.publish(`${ROOT}/evt/charging`, body, { qos: 1 }, (err) => {
          if (err) return reject(err);
          acked++;
          if (acked === n) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  const ms = performance.now() - t0;
  await client.endAsync();
  return (n / ms) * 1000;
}

export async function benchDrain(events: number): Promise<DrainResult> {
  const broker = await startMosquitto(BROKER);
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-drain-'));
  try {
    const baselinePerSec = await baselinePublish(broker.url, events);
    const clock = systemClock({ forceState: 'synced' });
    const file = join(dir, 'outbox.db');
    const outbox = new Outbox({ file, clock, config: { checkpointIntervalMs: 0, maxBytes: 4 * 1024 ** 3 } });
    for (let i = 0; i < events; i += 5000) {
      const batch: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(events, i + 5000); j++) batch.push(outbox.record(sampleEvent(j)));
      await Promise.all(batch);
    }
    outbox.close();
    // Drain in a fresh process, as after a restart: the backlog is on disk only.
    const child = spawnSync(
      process.execPath,
      [...productionNodeFlags(), join(import.meta.dirname, 'drain-child.js'), file, broker.url, String(WINDOW)],
      { encoding: 'utf8', timeout: 600_000 },
    );
    if (child.status !== 0) throw new Error(`drain child failed (${child.status}): ${child.stderr}`);
    const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as {
      events: number;
      ms: number;
      rssStartMb: number;
      rssMaxMb: number;
      rssEndMb: number;
    };
    if (r.events !== events) throw new Error(`drain child saw ${r.events} events, expected ${events}`);
    const { ms, rssStartMb, rssMaxMb, rssEndMb } = r;
    const uplinkPerSec = (events / ms) * 1000;
    return { events, baselinePerSec, uplinkPerSec, ratio: uplinkPerSec / baselinePerSec, rssStartMb, rssMaxMb, rssEndMb };
  } finally {
    await broker.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The node flags of the systemd unit, so the benchmark measures what is deployed: every
 * option between the node binary and the script in ExecStart (heap caps, worker pool size).
 */
export function productionNodeFlags(): string[] {
  const unit = readFileSync(join(import.meta.dirname, '../../../systemd/gatehouse.service'), 'utf8');
  const exec = /^ExecStart=\S+ (.*)$/m.exec(unit)?.[1] ?? '';
  const words = exec.split(/\s+/);
  const script = words.findIndex((w) => !w.startsWith('--'));
  return words.slice(0, script);
}

export interface Percentiles {
  p50: number;
  p99: number;
}

function percentiles(samples: number[]): Percentiles {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

/** Runs `fn(i)` at `rate` per second for `seconds`, in 1 ms ticks. */
async function atRate(rate: number, seconds: number, fn: (i: number) => void): Promise<void> {
  const total = rate * seconds;
  const t0 = performance.now();
  let i = 0;
  while (i < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
    while (i < due) fn(i++);
    await new Promise((r) => setTimeout(r, 1));
  }
}

export async function benchLatency(
  rate: number,
  seconds: number,
): Promise<{ rate: number; seconds: number; baseline: Percentiles; gateway: Percentiles }> {
  const broker = await startMosquitto(BROKER);
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-lat-'));
  try {
    // Baseline: publish straight to the broker, stamp the send time in the payload.
    const baseSamples: number[] = [];
    const { sub: baseSub } = await countingSubscriber(broker.url, 'bench/base', (p) =>
      baseSamples.push(performance.now() - Number(p.toString())),
    );
    const pub = await mqtt.connectAsync(broker.url, { clientId: 'bench-lat-pub', reconnectPeriod: 0 });
    await atRate(rate, seconds, () => pub.publish('bench/base', String(performance.now()), { qos: 1 }));
    await waitUntil(() => baseSamples.length >= rate * seconds * 0.999, 10_000);
    await pub.endAsync();
    await baseSub.endAsync();

    const clock = systemClock({ forceState: 'synced' });
    const outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 5000 } });
    const sentAt = new Map<number, number>();
    const samples: number[] = [];
    const { sub } = await countingSubscriber(broker.url, `${ROOT}/evt/#`, (p) => {
      const seq = (JSON.parse(p.toString()) as { seq: number }).seq;
      const t = sentAt.get(seq);
      if (t !== undefined) {
        samples.push(performance.now() - t);
        sentAt.delete(seq);
      }
    });
    const uplink = new Uplink({
      config: UplinkConfig.parse({ url: broker.url, inflightWindow: WINDOW }),
      secrets: secretsFrom({}),
      outbox,
      clock,
      log: silentLogger(),
      topicRoot: ROOT,
      onCommand: () => undefined,
    });
    uplink.start();
    await waitUntil(() => uplink.status().connected === true, 5000);
    let seqGuess = outbox.stats().nextSeq;
    await atRate(rate, seconds, (i) => {
      // seq is assigned in order of record() calls, so the caller can know it up front.
      sentAt.set(seqGuess++, performance.now());
      void outbox.record(sampleEvent(i));
    });
    await waitUntil(() => samples.length >= rate * seconds * 0.999, 10_000);
    await uplink.stop();
    await sub.endAsync();
    outbox.close();
    return { rate, seconds, baseline: percentiles(baseSamples), gateway: percentiles(samples) };
  } finally {
    await broker.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`benchmark condition not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
