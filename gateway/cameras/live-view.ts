/**
 * Live view: camera RTSP → ffmpeg → MPEG-1 in MPEG-TS → WebSocket → JSMpeg in the console.
 *
 * The approach is node-rtsp-stream's (ffmpeg `-f mpegts -codec:v mpeg1video` to stdout,
 * bytes fanned out to WebSocket clients), but that package opens its own WebSocket server
 * on a port for anyone who can reach it. The hub has NO listener of its own: the console's
 * HTTP server (issue 7) hands it upgrade requests it has already authenticated.
 *
 *   SECURITY: `handleUpgrade` performs no authentication and no authorisation. The caller
 *   must have checked the session/token and that `principal` may watch `cameraId` before
 *   calling it. Never route an HTTP upgrade to it without that check: a live picture of a
 *   residential compound is exactly what a burglar wants.
 *
 * Resource rules (the Pi's CPU is the limit; one stream costs an ffmpeg decode + encode):
 * - ffmpeg starts with a camera's first viewer and stops `lingerMs` after its last;
 * - at most `maxViewersPerCamera` viewers per camera and `maxStreams` streams at once; a
 *   lingering stream (no viewers) is given up to make room; otherwise the newcomer's
 *   socket is closed with 1013 (try again later) and a reason starting LIVE_VIEW_LIMIT;
 * - a missing ffmpeg closes the viewer with 1011 and reason LIVE_VIEW_FFMPEG_MISSING, and is
 *   logged once (not per viewer), never a crash;
 * - an unknown camera closes with 4404.
 * Every ffmpeg runs in its own process group and dies with the daemon (ffmpeg-process.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { LiveViewConfig } from '../../config/camera-schema.js';
import { LiveViewConfig as LiveViewConfigSchema } from '../../config/camera-schema.js';
import { realTimers, type Clock, type Timers } from '../core/clock.js';
import { GatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { spawnFfmpeg, type FfmpegSpawner } from '../../drivers/ffmpeg/ffmpeg-process.js';
import { fatalReason, LiveStream, type StreamState, type Viewer, type ViewerSocket } from './live-stream.js';

export const CLOSE_LIMIT = 1013;
export const CLOSE_FFMPEG_MISSING = 1011;
export const CLOSE_UNKNOWN_CAMERA = 4404;
export const CLOSE_SHUTDOWN = 1001;

export interface LiveViewPrincipal {
  /** Who is watching (user id), for the log. */
  id: string;
  role?: string;
}

export interface LiveViewHubOptions {
  config?: Partial<LiveViewConfig>;
  /** Whether a camera id exists (the compound file's cameras). */
  hasCamera(camera: string): boolean;
  /** The camera's RTSP URL with credentials; asked at every (re)start, so a changed URL is picked up. */
  resolveUrl(camera: string): Promise<string>;
  clock: Clock;
  timers?: Timers;
  log: Logger;
  /** Default spawns ffmpeg through the parent-death wrapper; unit tests inject fakes. */
  spawn?: FfmpegSpawner;
  /**
   * RTSP transport to the camera. Default tcp: interleaved RTP survives NAT, firewalls and
   * Wi-Fi loss without grey smears. The simulator's RTSP server only speaks UDP.
   */
  rtspTransport?: 'tcp' | 'udp';
  /** Marker in every ffmpeg command line of this hub, default `gatehouse-live-view`. */
  tag?: string;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  stallMs?: number;
  /** Default 20 s: RTSP setup, stream analysis and the first key frame. */
  startTimeoutMs?: number;
  maxBufferedBytes?: number;
}

export interface LiveViewStats {
  streams: { camera: string; state: StreamState; pid: number | undefined; viewers: number; restarts: number; bytesOut: number }[];
  viewers: number;
  ffmpegMissing: boolean;
}

export class LiveViewHub {
  readonly config: LiveViewConfig;
  private readonly wss: WebSocketServer;
  private readonly streams = new Map<string, LiveStream>();
  private readonly timers: Timers;
  private readonly spawn: FfmpegSpawner;
  private missingReported = false;
  private closed = false;

  constructor(private readonly o: LiveViewHubOptions) {
    this.config = LiveViewConfigSchema.parse(o.config ?? {});
    this.timers = o.timers ?? realTimers;
    this.spawn = o.spawn ?? spawnFfmpeg;
    // noServer: the hub never listens; viewers only ever send a close frame, hence the tiny payload cap.
    this.wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: 1024 });
  }

  /**
   * Completes an HTTP upgrade the caller has ALREADY AUTHENTICATED AND AUTHORISED (see the
   * header) and attaches the socket as a viewer of `cameraId`.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, cameraId: string, principal: LiveViewPrincipal): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      ws.on('message', () => undefined); // nothing a viewer says matters
      ws.on('error', () => undefined); // a reset by the browser is normal life
      this.attach(cameraId, ws, principal, (fn) => ws.once('close', fn));
    });
  }

  /**
   * Attaches an open socket as a viewer. `onClose` registers the callback for the socket's
   * close. Public for callers that already hold a WebSocket, and for unit tests.
   */
  attach(cameraId: string, socket: ViewerSocket, principal: LiveViewPrincipal, onClose: (fn: () => void) => void): void {
    const log = this.o.log;
    if (this.closed) return socket.close(CLOSE_SHUTDOWN, 'gateway stopping');
    if (!this.o.hasCamera(cameraId)) return socket.close(CLOSE_UNKNOWN_CAMERA, `DEVICE_UNKNOWN: no camera "${cameraId.slice(0, 60)}"`);
    let stream = this.streams.get(cameraId);
    if (stream && stream.viewers.size >= this.config.maxViewersPerCamera) {
      log.warn(
        { camera: cameraId, user: principal.id, viewers: stream.viewers.size },
        'live view refused: viewer cap of the camera reached',
      );
      return socket.close(CLOSE_LIMIT, `LIVE_VIEW_LIMIT: camera has ${this.config.maxViewersPerCamera} viewers already`);
    }
    if (!stream) {
      if (this.streams.size >= this.config.maxStreams && !this.evictLingering()) {
        log.warn({ camera: cameraId, user: principal.id, streams: this.streams.size }, 'live view refused: stream cap reached');
        return socket.close(CLOSE_LIMIT, `LIVE_VIEW_LIMIT: ${this.config.maxStreams} camera streams already running`);
      }
      stream = this.createStream(cameraId);
      this.streams.set(cameraId, stream);
    }
    const viewer: Viewer = { socket, principal, since: this.o.clock.now() };
    const s = stream;
    onClose(() => {
      s.remove(viewer);
      log.info({ camera: cameraId, user: principal.id, viewers: s.viewers.size }, 'live viewer left');
    });
    log.info({ camera: cameraId, user: principal.id, role: principal.role, viewers: stream.viewers.size + 1 }, 'live viewer joined');
    stream.add(viewer);
  }

  /** Gives up the longest-idle lingering stream (no viewers) to make room; false if none. */
  private evictLingering(): boolean {
    for (const s of this.streams.values()) {
      if (s.viewers.size === 0) {
        void s.stop();
        return true;
      }
    }
    return false;
  }

  private createStream(camera: string): LiveStream {
    const stream: LiveStream = new LiveStream({
      camera,
      config: this.config,
      resolveUrl: this.o.resolveUrl,
      spawn: this.spawn,
      clock: this.o.clock,
      timers: this.timers,
      log: this.o.log,
      rtspTransport: this.o.rtspTransport ?? 'tcp',
      tag: `${this.o.tag ?? 'gatehouse-live-view'}:${camera}`,
      backoffMinMs: this.o.backoffMinMs ?? 500,
      backoffMaxMs: this.o.backoffMaxMs ?? 30_000,
      stallMs: this.o.stallMs ?? 10_000,
      startTimeoutMs: this.o.startTimeoutMs ?? 20_000,
      maxBufferedBytes: this.o.maxBufferedBytes ?? 4 * 1024 * 1024,
      onFatal: (err) => this.onFatal(stream, err),
      onStopped: () => {
        if (this.streams.get(camera) === stream) this.streams.delete(camera);
      },
    });
    return stream;
  }

  private onFatal(stream: LiveStream, err: GatehouseError): void {
    if (err.code === 'LIVE_VIEW_FFMPEG_MISSING') {
      // Once, not per viewer: a guard zapping through cameras would flood the journal.
      if (!this.missingReported)
        this.o.log.error({ code: err.code, ffmpegPath: this.config.ffmpegPath, err: err.message }, 'live view unavailable');
      this.missingReported = true;
    } else this.o.log.error({ code: err.code, camera: stream.camera, err: err.message }, 'live view stream failed');
    for (const v of stream.viewers) v.socket.close(CLOSE_FFMPEG_MISSING, fatalReason(err));
    stream.viewers.clear();
  }

  stats(): LiveViewStats {
    const streams = [...this.streams.values()].map((s) => ({
      camera: s.camera,
      state: s.state,
      pid: s.pid,
      viewers: s.viewers.size,
      restarts: s.restarts,
      bytesOut: s.bytesOut,
    }));
    return { streams, viewers: streams.reduce((n, s) => n + s.viewers, 0), ffmpegMissing: this.missingReported };
  }

  /** Closes every viewer and stops every ffmpeg (each SIGTERM, SIGKILL after 2 s). */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.streams.values()];
    for (const s of all) for (const v of s.viewers) v.socket.close(CLOSE_SHUTDOWN, 'gateway stopping');
    await Promise.all(all.map((s) => s.stop()));
    this.wss.close();
  }
}
