/**
 * One ffmpeg child that can never outlive the gateway.
 *
 * Node has no prctl(PR_SET_PDEATHSIG), so a SIGKILLed daemon would leave its ffmpeg
 * children running (a camera stream pulled forever, a CPU core burnt on a Pi). ffmpeg is
 * therefore started through a small POSIX sh wrapper whose stdin is a pipe from us:
 *
 *   - ffmpeg itself runs with `-nostdin` and stdin from /dev/null, its stdout (the
 *     MPEG-TS) straight to our pipe;
 *   - a watcher in the wrapper blocks on `read` from that stdin pipe. We never write to
 *     it, so `read` returns only at EOF, and EOF comes exactly when the last holder of the
 *     write end is gone: our process, however it died (SIGKILL, OOM killer, crash). The
 *     watcher then sends ffmpeg SIGTERM, and SIGKILL 2 s later;
 *   - the wrapper waits for ffmpeg and exits with its status, so an ffmpeg that ends by
 *     itself (camera gone) is seen by us as the child's exit, as with a bare spawn.
 *
 * Why a pipe and not a `kill -0 $PPID` poll: EOF is immediate and cannot be fooled by PID
 * reuse, and it costs no wake-up per second per stream.
 *
 * The wrapper is spawned `detached` (its own process group, with ffmpeg and the watcher in
 * it), so a stop signals the whole group: SIGTERM, then SIGKILL after `killAfterMs` (2 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { accessSync, constants, readFileSync } from 'node:fs';
import { GatehouseError } from '../../gateway/core/errors.js';

/** The wrapper script; `$0` is the ffmpeg path and `$@` its arguments. */
export const WRAPPER_SCRIPT = [
  'exec 3<&0', // keep the pipe from the parent: asynchronous lists get /dev/null as stdin
  '"$0" "$@" </dev/null &',
  'ff=$!',
  '( read _ <&3; kill -TERM "$ff" 2>/dev/null; sleep 2; kill -KILL "$ff" 2>/dev/null ) &',
  'w=$!',
  'exec 3<&-',
  'wait "$ff"; rc=$?',
  'kill "$w" 2>/dev/null',
  'exit "$rc"',
].join('\n');

export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The stop came from us (stop()), not from ffmpeg ending by itself. */
  requested: boolean;
  /** The last lines ffmpeg wrote on stderr, for the log. */
  stderrTail: string;
}

export interface FfmpegProcessEvents {
  data: [Buffer];
  exit: [FfmpegExit];
}

/** What the live-view supervisor needs from a running ffmpeg; faked in unit tests. */
export interface FfmpegHandle extends EventEmitter<FfmpegProcessEvents> {
  readonly pid: number | undefined;
  /** SIGTERM to the process group, SIGKILL after killAfterMs; resolves once it has exited. */
  stop(): Promise<void>;
}

export type FfmpegSpawner = (ffmpegPath: string, args: string[]) => FfmpegHandle;

/** Throws LIVE_VIEW_FFMPEG_MISSING when `path` is not an executable file. */
export function assertFfmpeg(path: string): void {
  try {
    accessSync(path, constants.X_OK);
  } catch (err) {
    throw new GatehouseError(
      'LIVE_VIEW_FFMPEG_MISSING',
      `ffmpeg not found or not executable at ${path} (liveView.ffmpegPath): install it with \`apt-get install ffmpeg\` or point liveView.ffmpegPath at it`,
      { ffmpegPath: path, errno: (err as NodeJS.ErrnoException).code },
      { cause: err },
    );
  }
}

export class FfmpegProcess extends EventEmitter<FfmpegProcessEvents> implements FfmpegHandle {
  private readonly child: ChildProcess;
  private exited: FfmpegExit | undefined;
  private requested = false;
  private stderrTail = '';
  private stopping: Promise<void> | undefined;

  constructor(
    ffmpegPath: string,
    args: string[],
    private readonly killAfterMs = 2000,
  ) {
    super();
    this.child = spawn('/bin/sh', ['-c', WRAPPER_SCRIPT, ffmpegPath, ...args], {
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // The stdin pipe is the parent-death signal: never written, never ended by us while
    // the stream runs. An EPIPE on it (wrapper gone) is not an error worth a crash.
    this.child.stdin?.on('error', () => undefined);
    this.child.stdout?.on('data', (b: Buffer) => this.emit('data', b));
    this.child.stderr?.on('data', (b: Buffer) => {
      this.stderrTail = (this.stderrTail + b.toString('utf8')).slice(-2000);
    });
    this.child.on('error', (err) => this.finish(null, null, err.message));
    this.child.on('exit', (code, signal) => this.finish(code, signal));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private finish(code: number | null, signal: NodeJS.Signals | null, extra?: string): void {
    if (this.exited) return;
    this.exited = { code, signal, requested: this.requested, stderrTail: (extra ? `${extra}\n` : '') + lastLines(this.stderrTail, 5) };
    this.child.stdin?.destroy();
    this.emit('exit', this.exited);
  }

  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      this.requested = true;
      const pid = this.child.pid;
      if (pid === undefined || (this.exited && !groupAlive(pid))) return resolve();
      signalGroup(pid, 'SIGTERM');
      // The wrapper dies at once on SIGTERM; ffmpeg takes a moment to close its output. Wait
      // for the whole group (ffmpeg, watcher) to be gone, with SIGKILL after killAfterMs.
      // These timers are real on purpose: they bound a real process's shutdown.
      const started = Date.now();
      let killed = false;
      const poll = setInterval(() => {
        // The cap: an orphaned zombie in a container whose PID 1 never reaps stays "alive".
        if ((!groupAlive(pid) && this.exited) || Date.now() - started > this.killAfterMs + 1000) {
          clearInterval(poll);
          return resolve();
        }
        if (!killed && Date.now() - started >= this.killAfterMs) {
          killed = true;
          signalGroup(pid, 'SIGKILL');
        }
      }, 20);
    });
    return this.stopping;
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    // EPERM would mean a foreign group took the id: not ours any more.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH' && (err as NodeJS.ErrnoException).code !== 'EPERM';
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function lastLines(s: string, n: number): string {
  return s.trim().split('\n').slice(-n).join('\n');
}

export const spawnFfmpeg: FfmpegSpawner = (path, args) => new FfmpegProcess(path, args);

/**
 * CPU seconds (user + system) and RSS bytes of a process and its descendants, from
 * /proc (Linux). Used by the benchmark and the stream stats; undefined off Linux.
 */
export function procUsage(rootPid: number): { cpuSeconds: number; rssBytes: number } | undefined {
  const tick = 100; // USER_HZ is 100 on every Linux ABI Node runs on
  const page = 4096;
  const pids = [rootPid, ...descendants(rootPid)];
  let cpu = 0;
  let rss = 0;
  let any = false;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name, which may itself contain spaces and parentheses.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpu += (Number(f[11]) + Number(f[12])) / tick; // utime, stime (fields 14, 15)
      rss += Number(f[21]) * page; // rss in pages (field 24)
      any = true;
    } catch {
      // The process ended between listing and reading.
    }
  }
  return any ? { cpuSeconds: cpu, rssBytes: rss } : undefined;
}

function descendants(pid: number): number[] {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return kids.flatMap((k) => [k, ...descendants(k)]);
  } catch {
    return [];
  }
}
