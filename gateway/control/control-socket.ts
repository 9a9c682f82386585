/**
 * The daemon's local control socket: `{dataDir}/control.sock`, a unix socket through which
 * commands run on the box itself (`gatehouse user ...`) reach the running daemon, so what
 * they change is done by the one process that owns outbox.db and its event sequence, and is
 * recorded as an event like any other change.
 *
 * Who may connect: the socket file is mode 0600 inside the 0700 data directory, so the
 * kernel lets only the daemon's user (and root) connect. Node offers no SO_PEERCRED, so the
 * peer's uid is not checked again; the file permissions are the check.
 *
 * Protocol: one request per connection, one line of JSON (`{"op": "...", ...}`) answered by
 * one line of JSON (`{"ok": true, "result": ...}` or `{"ok": false, "error": {code, message}}`).
 * `ping` is always there, so a client can tell whether a daemon listens. A long operation
 * (`probe`: the live device check) may send progress lines (`{"progress": "..."}`) before
 * its answer, which is always the last line; once a whole request is in, the idle limit no
 * longer applies (the operation bounds its own time).
 * Bounded: a request is at most MAX_REQUEST_BYTES, at most MAX_CONNECTIONS at once, and a
 * connection that sends nothing complete within IDLE_MS is closed. Bad input answers an
 * error and never throws into the daemon.
 */
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { GatehouseError, toGatehouseError, type ErrorCode } from '../core/errors.js';
import type { Logger } from '../core/log.js';

export const CONTROL_SOCKET = 'control.sock';
export const MAX_REQUEST_BYTES = 16 * 1024;
export const MAX_CONNECTIONS = 4;
export const IDLE_MS = 10_000;

export type ControlRequest = { op: string } & Record<string, unknown>;
/** What a handler may do besides answering: tell the client how it is getting on. */
export interface ControlIo {
  progress(line: string): void;
}
export type ControlHandler = (req: ControlRequest, io: ControlIo) => Promise<unknown> | unknown;
export type ControlAnswer = { ok: true; result: unknown } | { ok: false; error: { code: ErrorCode; message: string } };

export const controlSocketPath = (dataDir: string): string => join(dataDir, CONTROL_SOCKET);

export class ControlServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly o: { dataDir: string; handlers: Record<string, ControlHandler>; log: Logger; idleMs?: number }) {}

  get path(): string {
    return controlSocketPath(this.o.dataDir);
  }

  async start(): Promise<void> {
    await this.removeStale();
    // Half-open: the client ends its side after the request and still reads the answer.
    const server = createServer({ allowHalfOpen: true }, (socket) => this.serve(socket));
    server.maxConnections = MAX_CONNECTIONS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // The daemon's umask is already 077; this holds whatever the umask was.
    chmodSync(this.path, 0o600);
    server.on('error', (err) => this.o.log.error({ err: err.message }, 'control socket error'));
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }

  /** A socket file left by a daemon that was killed is removed; one a live daemon answers on is not. */
  private async removeStale(): Promise<void> {
    if (!existsSync(this.path)) return;
    const alive = await new Promise<boolean>((resolve) => {
      const probe = connect(this.path);
      probe.once('connect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });
    if (alive)
      throw new GatehouseError('DATA_DIR_UNUSABLE', `another gatehouse answers on ${this.path}: two daemons on one data directory`);
    unlinkSync(this.path);
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(this.o.idleMs ?? IDLE_MS, () => socket.destroy());
    let buf = Buffer.alloc(0);
    let answered = false;
    socket.on('data', (chunk: Buffer) => {
      if (answered) return;
      buf = Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(0x0a);
      if (nl < 0 && buf.length <= MAX_REQUEST_BYTES) return;
      answered = true;
      socket.setTimeout(0);
      if (nl < 0 || nl > MAX_REQUEST_BYTES) {
        this.answer(socket, {
          ok: false,
          error: { code: 'CONSOLE_REQUEST_INVALID', message: `control requests are at most ${MAX_REQUEST_BYTES} bytes` },
        });
        return;
      }
      const io: ControlIo = {
        progress: (text) => {
          if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify({ progress: text })}\n`);
        },
      };
      void this.handle(buf.subarray(0, nl).toString('utf8'), io).then((a) => this.answer(socket, a));
    });
    // Ended before a whole line: nothing to answer.
    socket.on('end', () => {
      if (!answered) socket.destroy();
    });
  }

  private async handle(line: string, io: ControlIo): Promise<ControlAnswer> {
    let req: unknown;
    try {
      req = JSON.parse(line);
    } catch {
      return { ok: false, error: { code: 'CONSOLE_REQUEST_INVALID', message: 'a control request is one line of JSON' } };
    }
    const op = (req as { op?: unknown } | null)?.op;
    if (op === 'ping') return { ok: true, result: 'pong' };
    const handler = typeof op === 'string' && Object.hasOwn(this.o.handlers, op) ? this.o.handlers[op] : undefined;
    if (!handler)
      return { ok: false, error: { code: 'CONSOLE_REQUEST_INVALID', message: `unknown control operation ${JSON.stringify(op)}` } };
    try {
      return { ok: true, result: (await handler(req as ControlRequest, io)) ?? null };
    } catch (err) {
      const e = toGatehouseError(err);
      if (e.code === 'INTERNAL') this.o.log.error({ op, err: e.message }, 'control request failed');
      return { ok: false, error: { code: e.code, message: e.message } };
    }
  }

  private answer(socket: Socket, a: ControlAnswer): void {
    if (socket.destroyed) return;
    socket.end(`${JSON.stringify(a)}\n`);
  }
}

/**
 * Sends one request to the daemon. Resolves `undefined` when no daemon listens (no socket
 * file, or a file left by a stopped daemon); rejects on anything else (a permission error:
 * the caller is not the daemon's user).
 */
export function controlRequest(
  dataDir: string,
  req: ControlRequest,
  timeoutMs = 30_000,
  onProgress?: (line: string) => void,
): Promise<ControlAnswer | undefined> {
  return new Promise((resolve, reject) => {
    const socket = connect(controlSocketPath(dataDir));
    const chunks: Buffer[] = [];
    let connected = false;
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`the daemon did not answer on ${controlSocketPath(dataDir)} within ${timeoutMs / 1000} s`)),
    );
    socket.once('connect', () => {
      connected = true;
      socket.end(`${JSON.stringify(req)}\n`);
    });
    let pending = '';
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (!onProgress) return;
      // Progress lines as they come; the answer is the last line, read at close.
      pending += c.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        try {
          const msg = JSON.parse(line) as { progress?: unknown };
          if (typeof msg.progress === 'string') onProgress(msg.progress);
        } catch {
          /* not a progress line: the answer, or garbage reported at close */
        }
      }
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) resolve(undefined);
      else reject(err);
    });
    socket.once('close', (hadError) => {
      if (hadError) return;
      const line = Buffer.concat(chunks).toString('utf8').trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as ControlAnswer);
      } catch {
        reject(new Error(`the daemon closed the control socket without an answer (${JSON.stringify(line.slice(0, 80))})`));
      }
    });
  });
}
