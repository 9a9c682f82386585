/**
 * One camera's live stream: the ffmpeg that turns its RTSP into MPEG-1 in MPEG-TS (what
 * JSMpeg decodes in the browser), supervised, and the viewers it feeds.
 *
 *   idle ──first viewer──> starting ──ffmpeg spawned──> running
 *   running ──ffmpeg exits / stalls, viewers remain──> backoff ──delay──> starting
 *   running|backoff ──last viewer leaves──> lingering ──lingerMs──> stopped (idle)
 *   lingering ──a viewer comes back──> running (no restart: zapping back is instant)
 *
 * Viewers stay connected across restarts: JSMpeg resumes with the next picture once the
 * camera is back, which is nicer for a guard than a dead player to reload.
 *
 * What a viewer receives is whole 188-byte TS packets only, so a viewer that joins in the
 * middle of ffmpeg's output starts on a sync byte (JSMpeg then waits for the next MPEG-1
 * sequence header, which the encoder repeats at every intra frame).
 */
import type { LiveViewConfig } from '../../config/camera-schema.js';
import type { Clock, TimerHandle, Timers } from '../core/clock.js';
import { GatehouseError, toGatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { assertFfmpeg, type FfmpegExit, type FfmpegHandle, type FfmpegSpawner } from '../../drivers/ffmpeg/ffmpeg-process.js';

export const TS_PACKET = 188;
export const TS_SYNC = 0x47;

/** The part of a `ws` WebSocket a stream uses; a fake in unit tests. */
export interface ViewerSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: Buffer): void;
  close(code?: number, reason?: string): void;
}

export interface Viewer {
  socket: ViewerSocket;
  principal: { id: string; role?: string };
  since: number;
}

export type StreamState = 'idle' | 'starting' | 'running' | 'backoff' | 'lingering' | 'stopped';

export interface LiveStreamOptions {
  camera: string;
  config: LiveViewConfig;
  /** The camera's RTSP URL with credentials (the camera service asks ONVIF GetStreamUri). */
  resolveUrl(camera: string): Promise<string>;
  spawn: FfmpegSpawner;
  clock: Clock;
  timers: Timers;
  log: Logger;
  rtspTransport: 'tcp' | 'udp';
  /** Put in ffmpeg's command line so `ps`/pgrep can tell our streams apart. */
  tag: string;
  backoffMinMs: number;
  backoffMaxMs: number;
  /** No output for this long while running: ffmpeg is stuck on a dead camera; restart it. */
  stallMs: number;
  /** The first output may take this long (RTSP setup, stream analysis, first key frame). */
  startTimeoutMs: number;
  /** A viewer whose socket has more than this queued is too slow and is closed. */
  maxBufferedBytes: number;
  /** A fatal condition (ffmpeg missing): the hub reports it and closes the viewers. */
  onFatal(err: GatehouseError): void;
  /** Stopped with no viewers: the hub forgets the stream. */
  onStopped(): void;
}

/** ffmpeg's arguments, the way node-rtsp-stream's Mpeg1Muxer builds them, plus what a supervisor needs. */
export function ffmpegArgs(url: string, cfg: LiveViewConfig, transport: 'tcp' | 'udp', tag: string): string[] {
  return [
    '-nostdin',
    '-hide_banner',
    '-loglevel',
    'error',
    '-rtsp_transport',
    transport,
    // Socket I/O timeout (µs): a camera that stops sending makes ffmpeg exit instead of hang.
    '-timeout',
    '5000000',
    // Analyse 1 s, not ffmpeg's default 5 s: a guard waits for the first picture.
    '-analyzeduration',
    '1000000',
    '-i',
    url,
    '-an',
    '-f',
    'mpegts',
    '-codec:v',
    'mpeg1video',
    // At most `fps` distinct pictures; width from the config, height from the camera's own
    // aspect (4:3 and 16:9 both exist).
    '-vf',
    `fps=${cfg.fps},scale=${cfg.width}:-2`,
    // MPEG-1 only knows 23.976…60 fps (15 is refused; JSMpeg's table has no other codes):
    // frame at the nearest legal rate, repeated pictures cost a few bits each.
    '-r',
    String(mpeg1Rate(cfg.fps)),
    '-b:v',
    `${cfg.bitrateKbps}k`,
    '-bf',
    '0',
    '-metadata',
    `title=${tag}`,
    '-',
  ];
}

/** The smallest frame rate MPEG-1 allows that is at least `fps`. */
export function mpeg1Rate(fps: number): number {
  return [24, 25, 30, 50, 60].find((r) => r >= fps) ?? 60;
}

export class LiveStream {
  readonly camera: string;
  readonly viewers = new Set<Viewer>();
  state: StreamState = 'idle';
  restarts = 0;
  bytesOut = 0;
  private proc: FfmpegHandle | undefined;
  private attempt = 0;
  private timer: TimerHandle | undefined;
  private stallTimer: TimerHandle | undefined;
  private stableTimer: TimerHandle | undefined;
  private lastDataAt = 0;
  private remainder: Buffer = Buffer.alloc(0);
  private stopping: Promise<void> | undefined;
  private resolving = false;
  private gotData = false;

  constructor(private readonly o: LiveStreamOptions) {
    this.camera = o.camera;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  add(viewer: Viewer): void {
    this.viewers.add(viewer);
    if (this.state === 'lingering') {
      this.cancelTimer();
      if (this.proc) this.state = 'running';
      else if (this.resolving) this.state = 'starting';
      else this.start();
    } else if (this.state === 'idle') {
      this.start();
    }
  }

  remove(viewer: Viewer): void {
    if (!this.viewers.delete(viewer) || this.viewers.size > 0) return;
    if (this.state === 'stopped' || this.state === 'idle') return;
    this.state = 'lingering';
    this.cancelTimer();
    this.timer = this.o.timers.setTimeout(() => void this.stop(), this.o.config.lingerMs);
  }

  private start(): void {
    this.cancelTimer();
    this.state = 'starting';
    try {
      assertFfmpeg(this.o.config.ffmpegPath);
    } catch (err) {
      this.state = 'stopped';
      this.o.onFatal(toGatehouseError(err));
      this.o.onStopped();
      return;
    }
    this.resolving = true;
    this.o
      .resolveUrl(this.camera)
      .then((url) => {
        this.resolving = false;
        if (this.state === 'stopped') return; // stopped while the URL was being asked for
        this.spawn(url);
      })
      .catch((err: unknown) => {
        this.resolving = false;
        if (this.state === 'stopped') return;
        this.o.log.warn({ camera: this.camera, err: (err as Error).message }, 'live view could not get the camera stream URL; retrying');
        this.scheduleRestart();
      });
  }

  private spawn(url: string): void {
    const proc = this.o.spawn(this.o.config.ffmpegPath, ffmpegArgs(url, this.o.config, this.o.rtspTransport, this.o.tag));
    this.proc = proc;
    this.remainder = Buffer.alloc(0);
    this.lastDataAt = this.o.clock.monotonic();
    this.gotData = false;
    this.state = this.viewers.size > 0 ? 'running' : 'lingering';
    proc.on('data', (chunk) => this.onData(proc, chunk));
    proc.on('exit', (exit) => this.onExit(proc, exit));
    this.stallTimer = this.o.timers.setInterval(() => this.checkStall(proc), Math.max(250, Math.floor(this.o.stallMs / 4)));
    this.o.log.info({ camera: this.camera, pid: proc.pid, viewers: this.viewers.size }, 'live view stream started');
  }

  private onData(proc: FfmpegHandle, chunk: Buffer): void {
    if (proc !== this.proc) return;
    if (!this.stableTimer) {
      // Output for a while means the camera works again: the next drop starts the backoff afresh.
      this.stableTimer = this.o.timers.setTimeout(
        () => {
          this.attempt = 0;
        },
        Math.max(1000, this.o.stallMs),
      );
    }
    this.lastDataAt = this.o.clock.monotonic();
    this.gotData = true;
    let buf = this.remainder.length ? Buffer.concat([this.remainder, chunk]) : chunk;
    if (buf[0] !== TS_SYNC) {
      // Never seen from ffmpeg's muxer, but a viewer must never get a misaligned packet.
      const at = buf.indexOf(TS_SYNC);
      buf = at < 0 ? Buffer.alloc(0) : buf.subarray(at);
    }
    const whole = buf.length - (buf.length % TS_PACKET);
    this.remainder = Buffer.from(buf.subarray(whole));
    if (whole === 0) return;
    this.broadcast(buf.subarray(0, whole));
  }

  private broadcast(packets: Buffer): void {
    for (const v of this.viewers) {
      if (v.socket.readyState !== 1) continue;
      if (v.socket.bufferedAmount > this.o.maxBufferedBytes) {
        // Dropping packets would corrupt its picture for good; closing lets it reconnect.
        v.socket.close(4008, 'LIVE_VIEW_SLOW: the viewer could not keep up with the stream');
        continue;
      }
      v.socket.send(packets);
      this.bytesOut += packets.length;
    }
  }

  private checkStall(proc: FfmpegHandle): void {
    if (proc !== this.proc) return;
    const idle = this.o.clock.monotonic() - this.lastDataAt;
    if (idle < (this.gotData ? this.o.stallMs : this.o.startTimeoutMs)) return;
    this.o.log.warn({ camera: this.camera, pid: proc.pid, idleMs: Math.round(idle) }, 'live view stream stalled; restarting ffmpeg');
    void proc.stop();
    // Handled as an unrequested exit: the supervisor restarts it while viewers remain.
    this.detach(proc);
    this.afterExit('stalled');
  }

  private onExit(proc: FfmpegHandle, exit: FfmpegExit): void {
    if (proc !== this.proc) return;
    this.detach(proc);
    if (exit.requested) return;
    this.o.log.warn(
      { camera: this.camera, code: exit.code, signal: exit.signal, stderr: exit.stderrTail },
      'live view ffmpeg exited (camera dropped?)',
    );
    this.afterExit('exited');
  }

  private detach(proc: FfmpegHandle): void {
    if (proc !== this.proc) return;
    this.proc = undefined;
    this.stallTimer?.cancel();
    this.stallTimer = undefined;
    this.stableTimer?.cancel();
    this.stableTimer = undefined;
  }

  private afterExit(_why: string): void {
    if (this.state === 'stopped') return;
    if (this.viewers.size === 0) {
      // Nobody is watching: no point reconnecting to a camera that just dropped.
      this.cancelTimer();
      this.state = 'stopped';
      this.o.onStopped();
      return;
    }
    this.scheduleRestart();
  }

  /** Exponential backoff: min, 2×min, 4×min … up to max; reset after a stable stretch. */
  nextDelay(): number {
    return Math.min(this.o.backoffMaxMs, this.o.backoffMinMs * 2 ** Math.min(this.attempt, 20));
  }

  private scheduleRestart(): void {
    const delay = this.nextDelay();
    this.attempt++;
    this.restarts++;
    this.state = 'backoff';
    this.cancelTimer();
    this.timer = this.o.timers.setTimeout(() => {
      this.timer = undefined;
      if (this.viewers.size === 0) {
        this.state = 'stopped';
        this.o.onStopped();
      } else this.start();
    }, delay);
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Stops ffmpeg (SIGTERM, SIGKILL after 2 s) and forgets the stream; viewers are the hub's business. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.cancelTimer();
      this.state = 'stopped';
      const proc = this.proc;
      if (proc) this.detach(proc);
      this.o.onStopped();
      if (proc) {
        this.o.log.info({ camera: this.camera, pid: proc.pid }, 'live view stream stopped');
        await proc.stop();
      }
    })();
    return this.stopping;
  }
}

export function fatalReason(err: GatehouseError): string {
  // A WebSocket close reason is at most 123 bytes.
  return `${err.code}: ${err.message}`.slice(0, 120);
}
