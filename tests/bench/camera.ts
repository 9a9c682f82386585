/**
 * Camera benchmarks (issue 6), each against a baseline measured in the same run:
 *
 * (a) alarm → snapshot stored and published: fetch the JPEG from the simulated ONVIF camera
 *     (sim/camera, HTTP Digest), MediaStore.put (atomic file + index + event), MediaPublisher
 *     → Uplink → a real Mosquitto → a platform subscriber holding the bytes on media/{id};
 *     baseline: the bare Digest fetch of the same JPEG.
 * (b) live view cost: CPU (utime+stime from /proc/PID/stat of the wrapper and ffmpeg) and
 *     RSS of one stream transcoding the simulator's 640x360@15 H.264 RTSP to MPEG-1;
 *     baseline: a bare ffmpeg with the same arguments (node-rtsp-stream's way, no wrapper,
 *     no hub). Per additional viewer: the gateway process's own CPU (process.cpuUsage) and
 *     RSS with 1 viewer and with 1+N, the viewers being in-process sinks (the cost of the
 *     hub's fan-out; a WebSocket's framing and syscalls come on top).
 *
 * Not wired into run.ts (its owner adds the section): `benchCamera({ quick })` returns the
 * figures as a flat record.
 */
import { spawn } from 'node:child_process';
import mqtt from 'mqtt';
import { silentLogger } from '../../gateway/core/log.js';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import { MediaStore } from '../../gateway/cameras/media-store.js';
import { MediaPublisher } from '../../gateway/cameras/media-publisher.js';
import { LiveViewHub } from '../../gateway/cameras/live-view.js';
import { ffmpegArgs } from '../../gateway/cameras/live-stream.js';
import { procUsage } from '../../drivers/ffmpeg/ffmpeg-process.js';
import { fetchSnapshot } from '../../drivers/onvif/snapshot.js';
import { SimulatedCamera } from '../../sim/camera/sim-camera.js';
import { startTestStream } from '../../sim/camera/rtsp.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { makeRig } from '../helpers/uplink-rig.js';
import { waitFor } from '../helpers/wait.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

export async function benchCamera(opts: { quick: boolean }): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {};
  Object.assign(out, await benchSnapshotPath(opts.quick ? 40 : 200));
  Object.assign(out, await benchLiveView(opts.quick ? 3000 : 10_000, opts.quick ? 4 : 8));
  return out;
}

async function benchSnapshotPath(trials: number): Promise<Record<string, number | string>> {
  const broker = await startMosquitto({ persistence: false });
  const cam = new SimulatedCamera({ id: 'cam-bench', username: 'admin', password: 'bench-pass' });
  await cam.start();
  const url = `http://${cam.host}:${new URL(cam.xaddr).port}/onvif/snapshot/profile_1.jpg`;
  const snap = () =>
    fetchSnapshot(url, { username: 'admin', password: 'bench-pass', maxBytes: 5 * 1024 * 1024, timeoutMs: 3000, timers: realTimers });
  const rig = makeRig({ url: broker.url });
  const store = new MediaStore({
    dataDir: rig.dir,
    outbox: rig.outbox,
    clock: systemClock({ forceState: 'synced' }),
    log: silentLogger(),
    config: { maxBytes: 64 * 1024 * 1024 },
  });
  const publisher = new MediaPublisher({ store, root: rig.root, log: silentLogger() });
  rig.uplink.on('connected', () => publisher.attach({ publish: (t, p) => rig.uplink.publishRaw(t, p) }));
  rig.uplink.on('disconnected', () => publisher.detach());
  const platform = await mqtt.connectAsync(broker.url, { clientId: 'bench-platform', reconnectPeriod: 0 });
  const arrived = new Map<string, number>();
  platform.on('message', (topic) => arrived.set(topic.slice(topic.lastIndexOf('/') + 1), performance.now()));
  await platform.subscribeAsync(`${rig.root}/media/+`, { qos: 1 });
  rig.uplink.start();
  await waitFor(() => rig.uplink.status().connected, 'uplink connected');
  try {
    let bytes = 0;
    const base: number[] = [];
    for (let i = 0; i < trials + 5; i++) {
      const t0 = performance.now();
      bytes = (await snap()).length;
      if (i >= 5) base.push(performance.now() - t0);
    }
    const full: number[] = [];
    const alarm = '01JD3M6R9Q8Z4X7V2N5T0B1A1A';
    for (let i = 0; i < trials + 5; i++) {
      const t0 = performance.now();
      const id = await store.put('cam-bench', alarm, await snap());
      await waitFor(() => arrived.has(id), 'the JPEG at the platform', 10_000);
      if (i >= 5) full.push(arrived.get(id)! - t0);
    }
    return {
      'snapshot.jpegBytes': bytes,
      'snapshot.trials': trials,
      'snapshot.baseline.fetch.p50Ms': pct(base, 50),
      'snapshot.baseline.fetch.p99Ms': pct(base, 99),
      'snapshot.storedAndPublished.p50Ms': pct(full, 50),
      'snapshot.storedAndPublished.p99Ms': pct(full, 99),
      'snapshot.ratio.p50': pct(full, 50) / pct(base, 50),
      'snapshot.source': 'sim/camera SimulatedCamera, HTTP Digest',
    };
  } finally {
    publisher.close();
    await platform.endAsync();
    await rig.dispose();
    await cam.stop();
    await broker.dispose();
  }
}

/** CPU seconds and RSS of a process tree over `ms`, averaged as CPU fraction (1.0 = one core). */
async function sampleTree(pid: number, ms: number): Promise<{ cpu: number; rssMb: number }> {
  const a = procUsage(pid);
  const t0 = performance.now();
  let rss = 0;
  let n = 0;
  while (performance.now() - t0 < ms) {
    await sleep(250);
    const u = procUsage(pid);
    if (u) {
      rss += u.rssBytes;
      n++;
    }
  }
  const b = procUsage(pid);
  const secs = (performance.now() - t0) / 1000;
  return { cpu: a && b ? (b.cpuSeconds - a.cpuSeconds) / secs : Number.NaN, rssMb: n ? rss / n / 1024 / 1024 : Number.NaN };
}

async function benchLiveView(windowMs: number, extraViewers: number): Promise<Record<string, number | string>> {
  const source = await startTestStream({ size: '640x360', fps: 15, tag: 'gh-bench-camera-source' });
  const cfg = { ffmpegPath: '/usr/bin/ffmpeg', width: 640, fps: 15, bitrateKbps: 800, lingerMs: 0 };
  try {
    // Baseline: the bare ffmpeg, as node-rtsp-stream spawns it.
    const { LiveViewConfig } = await import('../../config/camera-schema.js');
    const bare = spawn(cfg.ffmpegPath, ffmpegArgs(source.url, LiveViewConfig.parse(cfg), 'udp', 'gh-bench-bare'), {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let bareBytes = 0;
    bare.stdout.on('data', (d: Buffer) => (bareBytes += d.length));
    await waitFor(() => bareBytes > 50_000, 'bare ffmpeg output', 20_000);
    const baseline = await sampleTree(bare.pid!, windowMs);
    bare.kill('SIGKILL');

    const hub = new LiveViewHub({
      config: cfg,
      hasCamera: () => true,
      resolveUrl: async () => source.url,
      clock: systemClock({ forceState: 'synced' }),
      log: silentLogger(),
      rtspTransport: 'udp',
      tag: 'gh-bench-live',
    });
    let received = 0;
    const sink = () => ({ bufferedAmount: 0, readyState: 1, send: (d: Buffer) => void (received += d.length), close() {} });
    hub.attach('gate', sink(), { id: 'bench-0' }, () => undefined);
    await waitFor(() => received > 50_000, 'live view output', 20_000);
    const pid = hub.stats().streams[0]!.pid!;
    const self0 = process.cpuUsage();
    const one = await sampleTree(pid, windowMs);
    const selfOne = process.cpuUsage(self0);
    const rssOne = process.memoryUsage().rss;
    for (let i = 1; i <= extraViewers; i++) hub.attach('gate', sink(), { id: `bench-${i}` }, () => undefined);
    const self1 = process.cpuUsage();
    const many = await sampleTree(pid, windowMs);
    const selfMany = process.cpuUsage(self1);
    const rssMany = process.memoryUsage().rss;
    await hub.close();
    const secs = windowMs / 1000;
    const gwOne = (selfOne.user + selfOne.system) / 1e6 / secs;
    const gwMany = (selfMany.user + selfMany.system) / 1e6 / secs;
    return {
      'liveView.windowMs': windowMs,
      'liveView.baseline.bareFfmpeg.cpuCores': baseline.cpu,
      'liveView.baseline.bareFfmpeg.rssMb': baseline.rssMb,
      'liveView.stream.cpuCores': one.cpu,
      'liveView.stream.rssMb': one.rssMb,
      'liveView.stream.ratio.cpu': one.cpu / baseline.cpu,
      'liveView.stream.withExtraViewers.cpuCores': many.cpu,
      'liveView.extraViewers': extraViewers,
      'liveView.gateway.cpuCores.1viewer': gwOne,
      'liveView.gateway.cpuCores.perExtraViewer': (gwMany - gwOne) / extraViewers,
      'liveView.gateway.rssMb.perExtraViewer': (rssMany - rssOne) / 1024 / 1024 / extraViewers,
      'liveView.note':
        'gateway CPU includes the RTSP test server and its publisher bookkeeping in this process; viewers are in-process sinks',
    };
  } finally {
    await source.stop();
  }
}
