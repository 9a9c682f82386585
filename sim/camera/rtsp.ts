/**
 * A real RTSP test stream for the simulator, the demo and the tests: ffmpeg renders a
 * test picture (lavfi `testsrc`), encodes it as a camera would (H.264, a key frame every
 * second) and publishes it with ANNOUNCE/RECORD to an in-process RTSP server
 * (rtsp-streaming-server), from which any number of clients PLAY it.
 *
 * Why not ffmpeg's own `-rtsp_flags listen`: it serves exactly one client, and the gateway
 * has two (snapshots aside: live view, and a person with VLC checking the camera).
 *
 * Limits of the server: RTP over UDP only (no interleaved TCP), so a consumer must use
 * `-rtsp_transport udp` (LiveViewHub option `rtspTransport: 'udp'`) or ffmpeg's default.
 *
 * The publishing ffmpeg runs through the same parent-death wrapper as live view, so a
 * killed simulator leaves no ffmpeg behind; `stop()` and process exit kill it too.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import RtspServerModule from 'rtsp-streaming-server';
import { FfmpegProcess } from '../../drivers/ffmpeg/ffmpeg-process.js';

// CommonJS with a `default` export: under NodeNext the default import is the module object.
const RtspServer = ((RtspServerModule as unknown as { default?: unknown }).default ?? RtspServerModule) as typeof RtspServerModule.default;
type Server = InstanceType<typeof RtspServer>;

export interface TestStreamOptions {
  /** Port clients PLAY from; default a free one. */
  port?: number;
  /** Mount path, default `/cam1`. */
  path?: string;
  /** Picture size, default `640x360`. */
  size?: string;
  fps?: number;
  ffmpegPath?: string;
  /** Put in the publisher's command line so tests can pgrep for it. */
  tag?: string;
  /** Where the log of the publishing ffmpeg goes; default nowhere. */
  onLog?: (line: string) => void;
}

export interface TestStream {
  /** `rtsp://127.0.0.1:{port}{path}` for clients. */
  readonly url: string;
  readonly port: number;
  /** The publishing ffmpeg is running and announced. */
  readonly publishing: boolean;
  /** Simulates a camera drop: the picture stops for `ms`, then comes back. Resolves when it is back. */
  dropFor(ms: number): Promise<void>;
  /** Stops the publisher (if running) and starts it again. */
  restart(): Promise<void>;
  /** Stops ffmpeg and closes the server's sockets. */
  stop(): Promise<void>;
}

const live = new Set<FfmpegProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous on purpose: 'exit' handlers cannot wait. The wrapper's pipe closes with us
  // anyway; this also covers a process.exit() while a child is mid-start.
  process.on('exit', () => {
    for (const p of live)
      if (p.pid)
        try {
          process.kill(-p.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
  });
}

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function startTestStream(opts: TestStreamOptions = {}): Promise<TestStream> {
  installExitHook();
  const path = opts.path ?? '/cam1';
  const size = opts.size ?? '640x360';
  const fps = opts.fps ?? 15;
  const ffmpegPath = opts.ffmpegPath ?? '/usr/bin/ffmpeg';
  const clientPort = opts.port ?? (await freeTcpPort());
  const publishPort = await freeTcpPort();
  // An even start in the dynamic range; the server moves on when a UDP pair is taken.
  const rtpPortStart = 20_000 + 2 * Math.floor(Math.random() * 15_000);
  const server: Server = new RtspServer({ serverPort: publishPort, clientPort, rtpPortStart, rtpPortCount: 200 });
  await server.start();
  // server.close() waits for open connections; a stop must not wait for clients to leave.
  const sockets = new Set<Socket>();
  for (const srv of [server.ClientServer.server, server.PublishServer.server] as unknown as NetServer[]) {
    srv.on('connection', (sock: Socket) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
    });
  }

  let publisher: FfmpegProcess | undefined;
  let stopped = false;
  let restartTimer: NodeJS.Timeout | undefined;

  const mounted = (): boolean => server.Mounts.mounts[path] !== undefined;

  const startPublisher = async (): Promise<void> => {
    const args = [
      '-nostdin',
      '-hide_banner',
      '-loglevel',
      'error',
      '-re',
      '-f',
      'lavfi',
      '-i',
      `testsrc=size=${size}:rate=${fps}`,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-pix_fmt',
      'yuv420p',
      '-g',
      String(fps),
      '-metadata',
      `title=${opts.tag ?? 'gatehouse-sim-rtsp'}`,
      '-f',
      'rtsp',
      `rtsp://127.0.0.1:${publishPort}${path}`,
    ];
    const p = new FfmpegProcess(ffmpegPath, args);
    publisher = p;
    live.add(p);
    p.on('exit', (exit) => {
      live.delete(p);
      if (publisher === p) publisher = undefined;
      if (exit.stderrTail) opts.onLog?.(exit.stderrTail);
      // A camera that crashed by itself comes back, as a real one reboots.
      if (!exit.requested && !stopped) restartTimer = setTimeout(() => void startPublisher().catch(() => undefined), 500);
    });
    const started = Date.now();
    while (!mounted()) {
      if (publisher !== p) throw new Error(`the test stream's ffmpeg exited before publishing (${ffmpegPath})`);
      if (Date.now() - started > 10_000) throw new Error('the test stream was not announced within 10 s');
      await sleep(20);
    }
  };

  const stopPublisher = async (): Promise<void> => {
    if (restartTimer) clearTimeout(restartTimer);
    const p = publisher;
    publisher = undefined;
    if (p) await p.stop();
    // ffmpeg's TEARDOWN removes the mount; a killed one does not, and a dead mount would
    // keep answering DESCRIBE with a picture that never comes.
    if (mounted()) server.Mounts.deleteMount(`rtsp://127.0.0.1:${publishPort}${path}`);
  };

  await startPublisher();

  return {
    url: `rtsp://127.0.0.1:${clientPort}${path}`,
    port: clientPort,
    get publishing() {
      return publisher !== undefined && mounted();
    },
    async dropFor(ms: number) {
      await stopPublisher();
      await sleep(ms);
      if (!stopped) await startPublisher();
    },
    async restart() {
      await stopPublisher();
      await startPublisher();
    },
    async stop() {
      stopped = true;
      await stopPublisher();
      for (const m of Object.keys(server.Mounts.mounts)) server.Mounts.deleteMount(`rtsp://127.0.0.1:${publishPort}${m}`);
      const closing = ([server.ClientServer.server, server.PublishServer.server] as unknown as NetServer[]).map(
        (srv) => new Promise<void>((r) => srv.close(() => r())),
      );
      for (const sock of sockets) sock.destroy();
      await Promise.all(closing);
    },
  };
}
