/**
 * Perimeter detection latency: an IR beam broken at the simulated input module (Modbus TCP,
 * loopback) until the alarm is raised, with the module polled every 100 ms, at a debounce
 * of 0 ms and of 200 ms (the default).
 *
 * The whole chain is real: PerimeterService → AlarmManager (the real lifecycle, on the
 * outbox database) → Outbox (SQLite, fsync per commit) → Uplink → a real Mosquitto → an MQTT
 * subscriber on `evt/alarm`. Three times per trial, all from the moment the sim's input
 * changed (performance.now() just before the change):
 *
 * - floor (baseline): the gateway's next completed poll read of the module: it cannot know
 *   before it reads;
 * - sink: the zone's raise reaching the AlarmManager (AlarmSink.raise called);
 * - mqtt: the `alarm.raised` event arriving at the subscriber.
 *
 * The beam is broken at a random phase of the poll cycle. Between trials the beam is
 * restored, the alarm cleared and closed (so the next trial raises a new alarm, not a
 * re-trigger of the open one).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { AlarmsConfig } from '../../config/perimeter-schema.js';
import { CompoundConfig } from '../../config/schema.js';
import { AlarmManager } from '../../gateway/alarms/alarm-manager.js';
import type { AlarmSink } from '../../gateway/alarms/types.js';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import { createLoggerFactory, silentLogger } from '../../gateway/core/log.js';
import { createPerimeter, type PerimeterComponent } from '../../gateway/perimeter/create-perimeter.js';
import { evtTopic } from '../../gateway/core/topics.js';
import { startSimulatedInputModules, type SimulatedInputModules } from '../../sim/perimeter/index.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { makeRig, type Rig } from '../helpers/uplink-rig.js';

const POLL_MS = 100;
const ZONE = 'bench-beam';
const MODULE = 'bench-mod';

interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

const pct = (xs: number[]): Percentiles => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1] ?? NaN };
};
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round = (x: number) => Math.round(x * 10) / 10;

async function until<T>(probe: () => T | undefined | null | false, what: string, timeoutMs = 10_000): Promise<T> {
  const start = performance.now();
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== null && v !== false) return v;
    if (performance.now() - start > timeoutMs) throw new Error(`perimeter bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
}

interface RunResult {
  floor: Percentiles;
  sink: Percentiles;
  mqtt: Percentiles;
  /** Per trial: sink − floor, the gateway's own share after the read (debounce included). */
  afterRead: Percentiles;
}

async function runDebounce(debounceMs: number, trials: number, broker: Mosquitto): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-perimeter-'));
  const clock = systemClock({ forceState: 'synced' });
  let sims: SimulatedInputModules | undefined;
  let rig: Rig | undefined;
  let perimeter: PerimeterComponent | undefined;
  let manager: AlarmManager | undefined;
  let sub: mqtt.MqttClient | undefined;
  try {
    sims = await startSimulatedInputModules({
      tcp: [{ id: MODULE, channels: 16, port: 0, host: '127.0.0.1' }],
      zones: [{ id: ZONE, module: MODULE, channel: 0, contact: 'NC' }],
    });
    const s = sims;
    rig = makeRig({ url: broker.url, dir });
    const outbox = rig.outbox;
    manager = new AlarmManager({
      db: outbox.scope('alarms'),
      outbox,
      config: AlarmsConfig.parse({}),
      clock,
      timers: realTimers,
      log: silentLogger(),
    });
    const mgr = manager;
    mgr.start();
    let sinkAt: number | undefined;
    const sink: AlarmSink = {
      raise: (c) => {
        if (c.source.device === ZONE) sinkAt ??= performance.now();
        return mgr.raise(c);
      },
      clear: (kind, source, data) => mgr.clear(kind, source, data),
    };
    let mqttAt: number | undefined;
    sub = await mqtt.connectAsync(broker.url, {
      clientId: `bench-perimeter-${debounceMs}-${Math.random().toString(36).slice(2)}`,
      reconnectPeriod: 0,
    });
    sub.on('message', (_topic, payload) => {
      const e = JSON.parse(payload.toString()) as { type: string; source: { device: string } };
      if (e.type === 'alarm.raised' && e.source.device === ZONE) mqttAt ??= performance.now();
    });
    await sub.subscribeAsync(evtTopic(rig.root, 'alarm'), { qos: 1 });
    rig.uplink.start();
    await until(() => rig!.uplink.status().connected, 'the uplink connected');

    const config = CompoundConfig.parse({
      compound: { id: 'bench' },
      gateway: { id: 'gw-1' },
      inputModules: [{ id: MODULE, bus: { tcp: { host: '127.0.0.1', port: s.tcpPort(MODULE) } }, channels: 16, pollMs: POLL_MS }],
      zones: [{ id: ZONE, module: MODULE, channel: 0, type: 'perimeter', contact: 'NC', partition: 'wall', debounceMs }],
      partitions: [{ id: 'wall' }],
    });
    perimeter = createPerimeter({
      config,
      outbox,
      sink,
      clock,
      timers: realTimers,
      logs: createLoggerFactory({ level: 'silent' }),
      busOptions: { timeoutMs: 300, retries: 1 },
    });
    const unit = perimeter.service.module(MODULE)!;
    // Timestamp every completed poll read, before the samples reach the zones.
    let readAt: number | undefined;
    let waiter: (() => void) | undefined;
    const read = unit.read.bind(unit);
    unit.read = async () => {
      const r = await read();
      readAt = performance.now();
      waiter?.();
      return r;
    };
    const nextRead = () => new Promise<void>((resolve) => (waiter = () => ((waiter = undefined), resolve())));
    perimeter.start();
    await until(() => unit.online === true, 'the module online');
    perimeter.service.arm('wall', true, 'bench');

    const floor: number[] = [];
    const sinkMs: number[] = [];
    const mqttMs: number[] = [];
    const afterRead: number[] = [];
    for (let i = 0; i < trials; i++) {
      await nextRead(); // phase reference: a poll just completed
      await sleep(Math.random() * POLL_MS);
      sinkAt = undefined;
      mqttAt = undefined;
      readAt = undefined;
      const t0 = performance.now();
      s.scenario.beam(ZONE).block();
      const firstRead = await until(() => readAt, 'the next poll read', 5000);
      await until(() => sinkAt !== undefined && mqttAt !== undefined, 'alarm.raised at the subscriber', 5000);
      floor.push(firstRead - t0);
      sinkMs.push(sinkAt! - t0);
      mqttMs.push(mqttAt! - t0);
      afterRead.push(sinkAt! - firstRead);
      // Reset: beam whole, the alarm cleared, then closed so the next trial raises a new one.
      s.scenario.beam(ZONE).restore();
      const alarm = await until(() => mgr.list().find((a) => a.source.device === ZONE && a.state === 'cleared'), 'the alarm cleared', 5000);
      mgr.close(alarm.id, { by: 'bench' });
    }
    return { floor: pct(floor), sink: pct(sinkMs), mqtt: pct(mqttMs), afterRead: pct(afterRead) };
  } finally {
    await perimeter?.stop();
    await manager?.stop().catch(() => undefined);
    await sub?.endAsync().catch(() => undefined);
    await rig?.close();
    await sims?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchPerimeter(opts: { quick: boolean }): Promise<Record<string, number | string>> {
  const trials = opts.quick ? 15 : 60;
  const broker = await startMosquitto({ persistence: false });
  try {
    const out: Record<string, number | string> = {
      pollMs: POLL_MS,
      trials,
      chain: 'sim input → Modbus TCP poll → zone → AlarmManager → outbox → uplink → Mosquitto → subscriber',
    };
    for (const debounceMs of [0, 200]) {
      const r = await runDebounce(debounceMs, trials, broker);
      const k = `debounce${debounceMs}`;
      out[`${k}.floor.p50`] = round(r.floor.p50);
      out[`${k}.floor.p99`] = round(r.floor.p99);
      out[`${k}.sink.p50`] = round(r.sink.p50);
      out[`${k}.sink.p99`] = round(r.sink.p99);
      out[`${k}.mqtt.p50`] = round(r.mqtt.p50);
      out[`${k}.mqtt.p99`] = round(r.mqtt.p99);
      out[`${k}.afterRead.p50`] = round(r.afterRead.p50);
      out[`${k}.afterRead.p99`] = round(r.afterRead.p99);
      // Against the floor: 1.0 would be "raised the instant it could be read".
      out[`${k}.sink/floor.p99`] = round(r.sink.p99 / r.floor.p99);
    }
    return out;
  } finally {
    await broker.dispose();
  }
}
