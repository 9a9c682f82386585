/**
 * Live view end to end with real processes: the simulator's RTSP test stream, the hub's
 * ffmpeg, and WebSocket viewers attached through a small HTTP server of the test that
 * checks a token (the console's job, issue 7). The hub itself opens no port.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { Server as NetServer } from 'node:net';
import { createServer as createHttpServer, type Server } from 'node:http';
import { WebSocket } from 'ws';
import { systemClock } from '../../gateway/core/clock.js';
import { createLoggerFactory, silentLogger } from '../../gateway/core/log.js';
import { CLOSE_FFMPEG_MISSING, CLOSE_LIMIT, LiveViewHub, type LiveViewHubOptions } from '../../gateway/cameras/live-view.js';
import { TS_PACKET, TS_SYNC } from '../../gateway/cameras/live-stream.js';
import { startTestStream, type TestStream } from '../../sim/camera/rtsp.js';
import { FFMPEG, FFPROBE, pgrep, requireFfmpeg, uniqueMarker } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';

const MARKER = uniqueMarker('live-view');
const TOKEN = 'test-token-7f3a';

let source: TestStream;
let http: Server;
let port: number;
let hub: LiveViewHub | undefined;

function makeHub(over: Partial<LiveViewHubOptions> = {}, config: LiveViewHubOptions['config'] = {}): LiveViewHub {
  hub = new LiveViewHub({
    config: { ffmpegPath: FFMPEG, lingerMs: 300, width: 320, fps: 15, ...config },
    hasCamera: (id) => id === 'gate' || id === 'yard',
    resolveUrl: async () => source.url,
    clock: systemClock({ forceState: 'synced' }),
    log: process.env.LV_DEBUG
      ? createLoggerFactory({ level: 'debug' }, { pretty: false, destination: process.stderr }).root
      : silentLogger(),
    rtspTransport: 'udp', // the simulator's server has no interleaved TCP
    tag: MARKER,
    backoffMinMs: 200,
    backoffMaxMs: 1000,
    stallMs: 1500,
    startTimeoutMs: 10_000,
    ...over,
  });
  return hub;
}

interface Client {
  ws: WebSocket;
  chunks: Buffer[];
  bytes: () => number;
  closed: Promise<{ code: number; reason: string }>;
  opened: Promise<void>;
}

function connect(camera: string, token: string | undefined): Client {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/live/${camera}${token ? `?token=${token}` : ''}`);
  const chunks: Buffer[] = [];
  ws.on('message', (d: Buffer) => chunks.push(d));
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((r) =>
    ws.on('close', (code, reason) => r({ code, reason: reason.toString() })),
  );
  const opened = new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve());
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  opened.catch(() => undefined);
  return { ws, chunks, closed, opened, bytes: () => chunks.reduce((n, c) => n + c.length, 0) };
}

function run(bin: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

function checkTs(chunks: Buffer[]): void {
  expect(chunks.length).toBeGreaterThan(0);
  for (const c of chunks) {
    expect(c.length % TS_PACKET).toBe(0);
    for (let i = 0; i < c.length; i += TS_PACKET) expect(c[i]).toBe(TS_SYNC);
  }
}

beforeAll(async () => {
  requireFfmpeg();
  source = await startTestStream({ path: '/cam1', size: '320x180', fps: 15, tag: `${MARKER}-source` });
  // The console stand-in: authentication is the caller's job, the hub only gets vetted sockets.
  http = createHttpServer((_req, res) => res.writeHead(404).end());
  http.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/live\/([a-z0-9-]+)$/.exec(url.pathname);
    if (!m || url.searchParams.get('token') !== TOKEN || !hub) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    hub.handleUpgrade(req, socket, head, m[1]!, { id: 'guard-1', role: 'guard' });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  port = (http.address() as { port: number }).port;
});

afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

afterAll(async () => {
  await source?.stop();
  await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
  // Nothing this file started may outlive it.
  await waitFor(
    () => pgrep(MARKER).length === 0,
    'every ffmpeg of this test to be gone',
    5000,
    () => pgrep(MARKER),
  );
});

describe('live view over a real RTSP stream', () => {
  it('the test stream is real RTSP: ffmpeg reads frames from it', async () => {
    // Asynchronous: the RTSP server lives in this process and must keep answering.
    const out = await run(FFPROBE, [
      '-v',
      'error',
      '-analyzeduration',
      '1000000',
      '-rtsp_transport',
      'udp',
      '-select_streams',
      'v',
      '-count_packets',
      '-read_intervals',
      '%+#5',
      '-show_entries',
      'stream=codec_name,width,height',
      '-of',
      'json',
      source.url,
    ]);
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout).streams[0]).toEqual({ codec_name: 'h264', width: 320, height: 180 });
    const frames = await run(FFMPEG, ['-nostdin', '-v', 'error', '-i', source.url, '-frames:v', '5', '-f', 'null', '-']);
    expect(frames.code, frames.stderr).toBe(0);
  });

  it('refuses a viewer without a token, and the hub opens no port of its own', async () => {
    const servers = () =>
      (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().filter((h) => h instanceof NetServer).length;
    const before = servers();
    makeHub();
    const c = connect('gate', undefined);
    await expect(c.opened).rejects.toThrow(/401/);
    expect(hub!.stats().streams).toEqual([]);
    expect(pgrep(MARKER).filter((p) => !pgrep(`${MARKER}-source`).includes(p))).toEqual([]);
    expect(servers()).toBe(before);
  });

  it('delivers MPEG-TS to authenticated viewers from one ffmpeg, and stops it after the linger', async () => {
    makeHub();
    const a = connect('gate', TOKEN);
    await a.opened;
    await waitFor(
      () => a.bytes() > 20 * TS_PACKET,
      'MPEG-TS on the first viewer',
      20_000,
      () => hub!.stats(),
    );
    const pid = hub!.stats().streams[0]!.pid;
    expect(pid).toBeDefined();
    const b = connect('gate', TOKEN);
    await b.opened;
    await waitFor(() => b.bytes() > 20 * TS_PACKET, 'MPEG-TS on the second viewer', 10_000);
    expect(hub!.stats().streams).toHaveLength(1);
    expect(hub!.stats().streams[0]!.pid).toBe(pid);
    expect(hub!.stats().viewers).toBe(2);
    checkTs(a.chunks);
    checkTs(b.chunks);
    // MPEG-1 video inside: a sequence header start code somewhere in the first packets.
    expect(Buffer.concat(a.chunks).includes(Buffer.from([0, 0, 1, 0xb3]))).toBe(true);
    const wrapper = pgrep(`${MARKER}:gate`);
    expect(wrapper.length).toBeGreaterThanOrEqual(2); // the sh wrapper and ffmpeg
    a.ws.close();
    b.ws.close();
    await waitFor(() => hub!.stats().viewers === 0, 'both viewers gone');
    // Still running during the linger: a viewer zapping back gets the picture at once.
    expect(pgrep(`${MARKER}:gate`).length).toBeGreaterThan(0);
    await waitFor(() => pgrep(`${MARKER}:gate`).length === 0, 'ffmpeg gone after the linger', 5000);
    expect(hub!.stats().streams).toEqual([]);
  });

  it('restarts ffmpeg when the camera drops while a viewer remains', async () => {
    makeHub();
    const a = connect('gate', TOKEN);
    await a.opened;
    await waitFor(() => a.bytes() > 10 * TS_PACKET, 'first picture', 20_000);
    const pid = hub!.stats().streams[0]!.pid;
    const drop = source.dropFor(2500);
    await waitFor(
      () => hub!.stats().streams[0]?.restarts,
      'the hub to notice the drop',
      15_000,
      () => hub!.stats(),
    );
    await drop;
    const before = a.bytes();
    await waitFor(
      () => a.bytes() > before + 10 * TS_PACKET,
      'the picture to come back',
      20_000,
      () => hub!.stats(),
    );
    const s = hub!.stats().streams[0]!;
    expect(s.pid).not.toBe(pid);
    expect(s.state).toBe('running');
    checkTs(a.chunks);
    a.ws.close();
  });

  it('caps viewers per camera and streams at once with a clear close code', async () => {
    makeHub({}, { maxViewersPerCamera: 1, maxStreams: 1 });
    const a = connect('gate', TOKEN);
    await a.opened;
    const b = connect('gate', TOKEN);
    expect(await b.closed).toEqual({ code: CLOSE_LIMIT, reason: expect.stringMatching(/^LIVE_VIEW_LIMIT: camera has 1 viewers/) });
    const c = connect('yard', TOKEN);
    expect(await c.closed).toEqual({ code: CLOSE_LIMIT, reason: expect.stringMatching(/^LIVE_VIEW_LIMIT: 1 camera streams/) });
    a.ws.close();
  });

  it('a missing ffmpeg closes viewers with LIVE_VIEW_FFMPEG_MISSING and is logged once', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = silentLogger();
    log.error = ((obj: Record<string, unknown>) => lines.push(obj)) as typeof log.error;
    makeHub({ log }, { ffmpegPath: '/nonexistent/ffmpeg' });
    for (let i = 0; i < 2; i++) {
      const c = connect('gate', TOKEN);
      const closed = await c.closed;
      expect(closed.code).toBe(CLOSE_FFMPEG_MISSING);
      expect(closed.reason).toMatch(/^LIVE_VIEW_FFMPEG_MISSING: .*\/nonexistent\/ffmpeg/);
    }
    expect(lines.filter((l) => l.code === 'LIVE_VIEW_FFMPEG_MISSING')).toHaveLength(1);
    expect(hub!.stats().ffmpegMissing).toBe(true);
  });
});
