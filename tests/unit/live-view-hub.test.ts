/**
 * LiveViewHub's supervision logic with fake ffmpeg processes and a ManualClock: start on
 * the first viewer, linger, restart with exponential backoff while viewers remain, stall
 * detection, caps, a lingering stream given up for a new camera, TS packet alignment.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { ManualClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import type { FfmpegHandle, FfmpegProcessEvents } from '../../drivers/ffmpeg/ffmpeg-process.js';
import { CLOSE_LIMIT, LiveViewHub } from '../../gateway/cameras/live-view.js';
import { ffmpegArgs, mpeg1Rate, type ViewerSocket } from '../../gateway/cameras/live-stream.js';
import { LiveViewConfig } from '../../config/camera-schema.js';

class FakeFfmpeg extends EventEmitter<FfmpegProcessEvents> implements FfmpegHandle {
  static next = 100;
  readonly pid = FakeFfmpeg.next++;
  stopped = false;
  constructor(readonly args: string[]) {
    super();
  }
  stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.emit('exit', { code: null, signal: 'SIGTERM', requested: true, stderrTail: '' });
    }
    return Promise.resolve();
  }
  crash(): void {
    this.emit('exit', { code: 1, signal: null, requested: false, stderrTail: 'Connection refused' });
  }
}

class FakeSocket implements ViewerSocket {
  bufferedAmount = 0;
  readyState = 1;
  sent: Buffer[] = [];
  closedWith: { code?: number; reason?: string } | undefined;
  private onClose: (() => void) | undefined;
  send(data: Buffer): void {
    this.sent.push(Buffer.from(data));
  }
  close(code?: number, reason?: string): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.closedWith = { code, reason };
    this.onClose?.();
  }
  register = (fn: () => void): void => {
    this.onClose = fn;
  };
}

let clock: ManualClock;
let procs: FakeFfmpeg[];
let hub: LiveViewHub;
const flush = () => new Promise((r) => setImmediate(r));

function makeHub(config: Record<string, unknown> = {}): LiveViewHub {
  procs = [];
  return new LiveViewHub({
    // /bin/sh stands in for ffmpeg: only its existence is checked, the spawner is fake.
    config: { ffmpegPath: '/bin/sh', lingerMs: 10_000, ...config },
    hasCamera: (id) => ['gate', 'yard', 'lobby'].includes(id),
    resolveUrl: async (camera) => `rtsp://cam/${camera}`,
    clock,
    timers: clock,
    log: silentLogger(),
    spawn: (_path, args) => {
      const p = new FakeFfmpeg(args);
      procs.push(p);
      return p;
    },
    backoffMinMs: 500,
    backoffMaxMs: 4000,
    stallMs: 8000,
    startTimeoutMs: 20_000,
  });
}

async function viewer(camera: string): Promise<FakeSocket> {
  const s = new FakeSocket();
  hub.attach(camera, s, { id: 'guard-1' }, s.register);
  await flush(); // resolveUrl is asynchronous
  return s;
}

const ts = (n: number) => {
  const b = Buffer.alloc(188 * n);
  for (let i = 0; i < n; i++) b[i * 188] = 0x47;
  return b;
};

beforeEach(() => {
  clock = new ManualClock();
  hub = makeHub();
});

describe('LiveViewHub supervision', () => {
  it('starts ffmpeg with the first viewer, shares it, and stops it lingerMs after the last', async () => {
    const a = await viewer('gate');
    expect(procs).toHaveLength(1);
    expect(procs[0]!.args).toContain('rtsp://cam/gate');
    const b = await viewer('gate');
    expect(procs).toHaveLength(1);
    const feed = clock.setInterval(() => procs[0]!.emit('data', ts(1)), 1000); // a healthy camera
    a.close();
    b.close();
    clock.advance(9_999);
    expect(procs[0]!.stopped).toBe(false);
    // Zapping back within the linger reuses the running ffmpeg.
    const c = await viewer('gate');
    clock.advance(15_000);
    expect(procs).toHaveLength(1);
    expect(procs[0]!.stopped).toBe(false);
    c.close();
    clock.advance(10_000);
    expect(procs[0]!.stopped).toBe(true);
    feed.cancel();
    expect(hub.stats().streams).toEqual([]);
  });

  it('restarts with exponential backoff while viewers remain, and resets after stable output', async () => {
    await viewer('gate');
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const n = procs.length;
      procs[n - 1]!.crash();
      let waited = 0;
      while (procs.length === n) {
        clock.advance(100);
        await flush();
        waited += 100;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 4000]);
    expect(hub.stats().streams[0]!.restarts).toBe(5);
    // Output for a stretch: the camera is fine again, the next drop starts at the minimum.
    for (let i = 0; i < 3; i++) {
      procs.at(-1)!.emit('data', ts(2));
      clock.advance(4000);
    }
    const n = procs.length;
    procs.at(-1)!.crash();
    clock.advance(500);
    await flush();
    expect(procs.length).toBe(n + 1);
  });

  it('does not restart a dropped camera nobody watches', async () => {
    const a = await viewer('gate');
    a.close();
    procs[0]!.crash();
    clock.advance(60_000);
    await flush();
    expect(procs).toHaveLength(1);
    expect(hub.stats().streams).toEqual([]);
  });

  it('restarts a stalled ffmpeg (no output for stallMs), and allows startTimeoutMs for the first output', async () => {
    await viewer('gate');
    clock.advance(19_000);
    expect(procs[0]!.stopped).toBe(false);
    procs[0]!.emit('data', ts(1));
    clock.advance(7_000);
    expect(procs[0]!.stopped).toBe(false);
    clock.advance(2_000);
    expect(procs[0]!.stopped).toBe(true);
    clock.advance(500);
    await flush();
    expect(procs).toHaveLength(2);
  });

  it('sends whole 188-byte packets only, whatever ffmpeg chunk sizes are', async () => {
    const a = await viewer('gate');
    const stream = ts(10);
    procs[0]!.emit('data', stream.subarray(0, 100));
    procs[0]!.emit('data', stream.subarray(100, 1000));
    procs[0]!.emit('data', stream.subarray(1000));
    expect(Buffer.concat(a.sent).equals(stream)).toBe(true);
    for (const c of a.sent) {
      expect(c.length % 188).toBe(0);
      expect(c[0]).toBe(0x47);
    }
  });

  it('caps viewers per camera and streams, giving up a lingering stream first', async () => {
    hub = makeHub({ maxViewersPerCamera: 2, maxStreams: 2 });
    await viewer('gate');
    await viewer('gate');
    const third = await viewer('gate');
    expect(third.closedWith).toEqual({ code: CLOSE_LIMIT, reason: expect.stringMatching(/^LIVE_VIEW_LIMIT/) });
    const y = await viewer('yard');
    y.close(); // yard lingers
    const l = await viewer('lobby');
    expect(l.closedWith).toBeUndefined();
    expect(procs.find((p) => p.args.includes('rtsp://cam/yard'))!.stopped).toBe(true);
    const again = await viewer('yard');
    expect(again.closedWith?.code).toBe(CLOSE_LIMIT);
    const unknown = await viewer('nope');
    expect(unknown.closedWith?.code).toBe(4404);
  });

  it('closes a viewer that cannot keep up instead of corrupting its picture', async () => {
    const slow = await viewer('gate');
    const fine = await viewer('gate');
    slow.bufferedAmount = 10 * 1024 * 1024;
    procs[0]!.emit('data', ts(4));
    expect(slow.closedWith?.reason).toMatch(/^LIVE_VIEW_SLOW/);
    expect(fine.sent).toHaveLength(1);
  });

  it('builds the ffmpeg command line of node-rtsp-stream with a legal MPEG-1 rate', () => {
    const cfg = LiveViewConfig.parse({ width: 640, fps: 15, bitrateKbps: 800 });
    const args = ffmpegArgs('rtsp://u:p@cam/1', cfg, 'tcp', 'gatehouse-live-view:gate');
    expect(args.join(' ')).toMatch(
      /-rtsp_transport tcp .*-i rtsp:\/\/u:p@cam\/1 .*-f mpegts -codec:v mpeg1video -vf fps=15,scale=640:-2 -r 24 -b:v 800k -bf 0 .*-$/,
    );
    expect([mpeg1Rate(10), mpeg1Rate(25), mpeg1Rate(26), mpeg1Rate(30)]).toEqual([24, 25, 30, 30]);
  });
});
