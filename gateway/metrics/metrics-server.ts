/**
 * The metrics listener (issue 15.7): `GET /metrics` (Prometheus text format) and
 * `GET /healthz` (200 `{"status":"ok"}` once every component started and stays healthy,
 * else 503 with the reasons), on its own port, loopback by default (config/metrics-schema.ts).
 *
 * Plain HTTP with no login: it serves numbers only, never events, ids or secrets, and binds
 * loopback unless the installer says otherwise. Limits like every listener: a connection cap
 * in total and per address, a deadline for the first request, small headers, GET only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsConfig } from '../../config/schema.js';
import type { Clock, Timers } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { guardConnections, type ConnectionGuard } from '../console/connection-guard.js';

export interface Health {
  ok: boolean;
  /** Why not, one line each: `starting`, `component uplink failed: ...`, `outbox: commits stalled`. */
  reasons: string[];
}

export interface MetricsServerOptions {
  config: MetricsConfig;
  render(): Promise<{ body: string; contentType: string }>;
  health(): Health;
  clock: Clock;
  timers: Timers;
  log: Logger;
}

export class MetricsServer {
  private server: Server | undefined;
  private guard: ConnectionGuard | undefined;
  url: string | undefined;

  constructor(private readonly opts: MetricsServerOptions) {}

  async start(): Promise<{ url: string; port: number }> {
    const { config } = this.opts;
    const server = createServer(
      { maxHeaderSize: 8192, requestTimeout: config.requestTimeoutMs, headersTimeout: config.requestTimeoutMs },
      (req, res) => {
        void this.handle(req, res);
      },
    );
    server.keepAliveTimeout = 5000;
    this.guard = guardConnections(
      server,
      false,
      {
        maxConnections: config.maxConnections,
        maxConnectionsPerAddress: config.maxConnectionsPerAddress,
        handshakeTimeoutMs: config.requestTimeoutMs,
      },
      this.opts.timers,
      () => this.opts.clock.now(),
      this.opts.log,
      'metrics',
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new Error(
            `metrics cannot listen on ${config.host}:${config.port} (${err.code ?? err.message}): set metrics.port, or metrics.enabled: false`,
          ),
        ),
      );
      server.listen(config.port, config.host, () => resolve());
    });
    this.server = server;
    const port = (server.address() as AddressInfo).port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    this.url = `http://${host}:${port}`;
    this.opts.log.info({ url: this.url }, 'metrics listening (/metrics, /healthz)');
    return { url: this.url, port };
  }

  connections(): ReturnType<ConnectionGuard['stats']> {
    return this.guard?.stats() ?? { open: 0, addresses: 0, refused: 0, timedOut: 0 };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('GET only\n');
      return;
    }
    try {
      if (path === '/metrics') {
        const { body, contentType } = await this.opts.render();
        res.writeHead(200, { 'Content-Type': contentType }).end(req.method === 'HEAD' ? undefined : body);
      } else if (path === '/healthz') {
        const h = this.opts.health();
        const body = JSON.stringify(h.ok ? { status: 'ok' } : { status: 'unhealthy', reasons: h.reasons });
        res
          .writeHead(h.ok ? 200 : 503, { 'Content-Type': 'application/json; charset=utf-8' })
          .end(req.method === 'HEAD' ? undefined : `${body}\n`);
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found: /metrics or /healthz\n');
      }
    } catch (err) {
      // A collector that throws must not take the daemon down; the scrape fails and says so.
      this.opts.log.error({ err: (err as Error).message, path }, 'metrics request failed');
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('metrics unavailable\n');
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
