/**
 * The local console (issue 7): an HTTPS server inside the daemon for the guard's tablet and
 * the installer's laptop. It serves the static pages, the JSON API (api.ts), the live feed
 * (live.ts) and hands authenticated live-view upgrades to the camera hub.
 *
 * Secure by default: TLS (self-signed unless the installer gives files), loopback unless
 * configured otherwise, no default password (a one-time setup token is printed when there is
 * no administrator), strict security headers on every answer.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createReadStream, readFileSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type { CompoundConfig } from '../../config/schema.js';
import type { AlarmManager } from '../alarms/alarm-manager.js';
import type { LiveViewHub } from '../cameras/live-view.js';
import type { Clock, TimerHandle, Timers } from '../core/clock.js';
import type { CommandRouter } from '../commands/router.js';
import type { LoggerFactory } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import { Accounts } from './accounts.js';
import { consoleCatalogue, servedViewModules, type ConsoleCatalogue } from './catalogue.js';
import { ConsoleApi } from './api.js';
import { SECURITY_HEADERS, sameOrigin, sendJson } from './http-util.js';
import { LiveFeed, type LiveFeedOptions } from './live.js';
import { guardConnections, type ConnectionGuard } from './connection-guard.js';
import { HashGate, LoginLimiter } from './login-limiter.js';
import { Sessions } from './sessions.js';
import { loadTls, tlsServerOptions } from './tls.js';
import { writeFileDurable } from '../durable-file.js';
import { isStorageError, tolerateStorageError } from '../outbox/disk-space.js';

export interface ConsoleOptions {
  config: Pick<CompoundConfig, 'console'>;
  dataDir: string;
  outbox: Outbox;
  router: Pick<CommandRouter, 'execute'>;
  alarms: Pick<AlarmManager, 'list' | 'on' | 'off'>;
  status: () => Record<string, unknown>;
  liveView?: Pick<LiveViewHub, 'handleUpgrade'>;
  media?: { read(id: string): Buffer };
  /** The linkage engine, for `notify: console` actions on the live feed. */
  linkage?: LiveFeedOptions['linkage'];
  clock: Clock;
  timers: Timers;
  logs: LoggerFactory;
  /** Where the line naming the setup-link file goes; stdout by default (the journal, for a systemd unit). */
  print?: (line: string) => void;
  /** The static pages; default gateway/console/public of the package. */
  publicDir?: string;
  /** The families' pages and devices (consoleCatalogue); without it, the core pages only. */
  catalogue?: ConsoleCatalogue;
  /** openssl binary for the self-signed certificate (tests point it at a missing one). */
  openssl?: string;
}

export interface ConsoleServer {
  start(): Promise<{ url: string; port: number }>;
  stop(): Promise<void>;
  /** For the tests and the CLI: the API's pieces. */
  readonly accounts: Accounts;
  /** Listener counters: open connections, refused by the caps, closed by the handshake deadline. */
  connections(): { open: number; addresses: number; refused: number; timedOut: number };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** The one-time setup link, in the data dir (0600) while there is no administrator. */
export const SETUP_LINK_FILE = 'console-setup-link.txt';

/** Where the pages load the JSMpeg player from (served from node_modules, see serveVendor). */
export const VENDOR_JSMPEG = '/vendor/jsmpeg-player.js';

/** The browser build of @cycjimmy/jsmpeg-player next to the package's entry point. */
function jsmpegFile(): string {
  const entry = createRequire(import.meta.url).resolve('@cycjimmy/jsmpeg-player');
  const file = join(dirname(entry), 'jsmpeg-player.umd.min.js');
  if (!statSync(file).isFile()) throw new Error(`${file} is not a file`);
  return file;
}

/** gateway/console/public of the package, whether running from the sources or from dist/. */
export function defaultPublicDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      readFileSync(join(dir, 'package.json'));
      return join(dir, 'gateway', 'console', 'public');
    } catch {
      dir = dirname(dir);
    }
  }
  throw new Error('gatehouse package root not found (no package.json above the console module)');
}

export function createConsole(opts: ConsoleOptions): ConsoleServer {
  const cfg = opts.config.console;
  const log = opts.logs.child('console');
  const now = () => opts.clock.now();
  const accounts = new Accounts(opts.outbox.scope('console'), now);
  const sessions = new Sessions(opts.outbox.scope('console'), now, {
    idleMs: cfg.sessionIdleMin * 60_000,
    maxMs: cfg.sessionMaxHours * 3600_000,
  });
  const limiter = new LoginLimiter(now, {
    maxFailures: cfg.loginMaxFailures,
    lockoutMs: cfg.loginLockoutMin * 60_000,
    accountDelayMaxMs: cfg.loginAccountDelayMaxS * 1000,
  });
  const hashGate = new HashGate(cfg.loginConcurrentHashes, cfg.loginHashQueue);
  const catalogue: ConsoleCatalogue = opts.catalogue ?? consoleCatalogue([], {});
  // A family's page is served only when the compound configures the family.
  const viewModules = servedViewModules(catalogue);
  const feed = new LiveFeed({ outbox: opts.outbox, alarms: opts.alarms, linkage: opts.linkage, timers: opts.timers, log });
  const tlsOn = cfg.tls.enabled;
  const api = new ConsoleApi({
    accounts,
    sessions,
    limiter,
    hashGate,
    now,
    onSetupDone: () => rmSync(join(opts.dataDir, SETUP_LINK_FILE), { force: true }),
    router: opts.router,
    alarms: opts.alarms,
    outbox: opts.outbox,
    status: opts.status,
    media: opts.media,
    ring: feed.ring,
    catalogue,
    tls: tlsOn,
    log,
  });
  const publicDir = resolve(opts.publicDir ?? defaultPublicDir());
  const viewsDir = join(publicDir, 'views');
  const print = opts.print ?? ((line: string) => void process.stdout.write(`${line}\n`));
  let server: Server | undefined;
  let guard: ConnectionGuard | undefined;
  let sweep: TimerHandle | undefined;

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    if (tlsOn) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://console.invalid');
    } catch {
      return sendJson(res, 400, { ok: false, error: { code: 'CONSOLE_REQUEST_INVALID', message: 'bad URL' } });
    }
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
      void api.handle(req, res, url);
      return;
    }
    if (url.pathname === VENDOR_JSMPEG) return serveVendor(req, res);
    serveStatic(req, res, url.pathname);
  };

  /** The one vendor file the pages use (JSMpeg for the video wall), from node_modules: the public dir has no build step. */
  const serveVendor = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return sendJson(res, 405, { ok: false, error: { code: 'CONSOLE_REQUEST_INVALID', message: 'method not allowed' } });
    let file: string;
    try {
      file = jsmpegFile();
    } catch {
      return sendJson(res, 404, { ok: false, error: { code: 'CONSOLE_NOT_FOUND', message: 'not found' } });
    }
    res.writeHead(200, { 'Content-Type': TYPES['.js']!, 'Content-Length': statSync(file).size, 'Cache-Control': 'max-age=86400' });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  };

  const serveStatic = (req: IncomingMessage, res: ServerResponse, pathname: string): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return sendJson(res, 405, { ok: false, error: { code: 'CONSOLE_REQUEST_INVALID', message: 'method not allowed' } });
    const found = staticFile(publicDir, pathname);
    // Judged on the resolved file, so no spelling of the path (%-escapes, //) reaches another family's page.
    const file = found && dirname(found) === viewsDir && !viewModules.has(basename(found)) ? undefined : found;
    if (!file) return sendJson(res, 404, { ok: false, error: { code: 'CONSOLE_NOT_FOUND', message: 'not found' } });
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': statSync(file).size,
      'Cache-Control': 'no-cache',
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  };

  const refuse = (socket: Duplex, status: 401 | 403 | 404, text: string): void => {
    socket.on('error', () => undefined);
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
  };

  /**
   * WebSocket upgrades: a browser sends the session cookie on a cross-site WebSocket too,
   * so the Origin must be ours, and nothing reaches the feed or the camera hub before both
   * checks passed.
   */
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://console.invalid').pathname;
    } catch {
      return refuse(socket, 404, 'Not Found');
    }
    const video = /^\/api\/video\/([A-Za-z0-9._-]{1,64})$/.exec(path);
    if (path !== '/api/live' && !video) return refuse(socket, 404, 'Not Found');
    const session = api.session(req);
    if (!session) return refuse(socket, 401, 'Unauthorized');
    if (!sameOrigin(req, tlsOn)) {
      log.warn({ user: session.username, origin: req.headers.origin }, 'cross-site WebSocket refused');
      return refuse(socket, 403, 'Forbidden');
    }
    if (video) {
      if (!opts.liveView) return refuse(socket, 404, 'Not Found');
      log.info({ user: session.username, camera: video[1] }, 'live view opened');
      return opts.liveView.handleUpgrade(req, socket, head, video[1]!, { id: session.username, role: session.role });
    }
    void feed.upgrade(req, socket, head, session.username);
  };

  return {
    accounts,
    connections: () => guard?.stats() ?? { open: 0, addresses: 0, refused: 0, timedOut: 0 },
    async start() {
      if (!cfg.enabled) {
        log.info('console disabled in the compound file');
        return { url: '', port: 0 };
      }
      if (tlsOn) {
        const tls = loadTls({
          certFile: cfg.tls.certFile,
          keyFile: cfg.tls.keyFile,
          dataDir: opts.dataDir,
          host: cfg.host,
          openssl: opts.openssl,
        });
        if (tls.repaired) log.warn({ problem: tls.repaired }, 'damaged console certificate or key repaired; check the SD card');
        if (tls.generated)
          log.info({ file: tls.certFile }, 'self-signed console certificate generated; browsers will ask to trust it once');
        server = createHttpsServer(tlsServerOptions(tls), onRequest);
      } else {
        server = createHttpServer(onRequest);
      }
      server.requestTimeout = 30_000;
      server.headersTimeout = 15_000;
      guard = guardConnections(server, tlsOn, cfg, opts.timers, now, log);
      server.on('upgrade', onUpgrade);
      server.on('clientError', (_err, socket) => socket.destroy());
      const srv = server;
      await new Promise<void>((resolveListen, reject) => {
        srv.once('error', reject);
        srv.listen(cfg.port, cfg.host, () => {
          srv.off('error', reject);
          resolveListen();
        });
      });
      feed.start();
      sweep = opts.timers.setInterval(() => tolerateStorageError(() => sessions.sweep(), 0), 3600_000);
      const port = (srv.address() as AddressInfo).port;
      const shownHost = cfg.host === '0.0.0.0' || cfg.host === '::' ? 'localhost' : cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
      const url = `${tlsOn ? 'https' : 'http'}://${shownHost}:${port}`;
      log.info({ url }, 'console listening');
      try {
        const linkFile = join(opts.dataDir, SETUP_LINK_FILE);
        if (accounts.hasAdmin()) {
          accounts.clearSetupTokens();
          rmSync(linkFile, { force: true });
        } else {
          const { token, expiresAt } = accounts.createSetupToken();
          // The link goes to a 0600 file, never to stdout or the log: under systemd both end in the
          // journal, which every member of systemd-journal/adm can read. Only the path is printed.
          writeFileDurable(linkFile, `${url}/setup.html#${token}\n`);
          print(
            `gatehouse console: no administrator yet. The one-time setup link (valid 24 h, one use) is in ${linkFile}; ` +
              'or run: gatehouse user add --role admin',
          );
          const expires = new Date(expiresAt).toISOString();
          log.warn({ file: linkFile, expiresAt: expires }, 'no console administrator: the one-time setup link is in this file');
        }
      } catch (err) {
        // On a full disk the console still serves (signed-in guards keep working); only the setup link waits.
        if (!isStorageError(err)) {
          await this.stop();
          throw err;
        }
        log.error(
          { err: (err as Error).message },
          'no console administrator, and the setup link cannot be stored on a full disk: free space, or run gatehouse user add',
        );
      }
      return { url, port };
    },
    async stop() {
      sweep?.cancel();
      feed.stop();
      const srv = server;
      server = undefined;
      if (!srv) return;
      await new Promise<void>((r) => {
        srv.close(() => r());
        srv.closeAllConnections();
      });
    },
  };
}

/** The file for a URL path inside the public dir, or undefined (missing, or an escape attempt). */
export function staticFile(publicDir: string, pathname: string): string | undefined {
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (rel.includes('\0') || rel.includes('\\') || rel.split('/').some((seg) => seg === '..' || (seg.startsWith('.') && seg.length > 0)))
    return undefined;
  if (rel === '/' || rel === '') rel = '/index.html';
  const file = resolve(publicDir, `.${rel}`);
  if (!file.startsWith(publicDir + sep)) return undefined;
  try {
    return statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}
