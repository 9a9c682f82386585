/**
 * A console server on loopback over a real outbox.db, a real router with the alarm commands
 * and an admin-only test command, a ManualClock for sessions/lockouts/setup expiry, and a
 * spy in place of the live-view hub. Plus a tiny HTTP(S) client that can send exactly the
 * headers the tests need (Origin, Cookie, X-CSRF-Token) and accepts the self-signed cert.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { AlarmsConfig } from '../../config/perimeter-schema.js';
import { ConsoleConfig } from '../../config/camera-schema.js';
import { CommandsConfig } from '../../config/schema.js';
import { createAlarms, type AlarmsComponent } from '../../gateway/alarms/create-alarms.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { GatehouseError } from '../../gateway/core/errors.js';
import { CommandRouter } from '../../gateway/commands/router.js';
import { defineCommand } from '../../gateway/commands/types.js';
import type { ConsoleCatalogue } from '../../gateway/console/catalogue.js';
import { createConsole, type ConsoleServer } from '../../gateway/console/console-server.js';
import { silentLogger, type LoggerFactory } from '../../gateway/core/log.js';
import { Outbox } from '../../gateway/outbox/outbox.js';

export const logs: LoggerFactory = { root: silentLogger(), child: () => silentLogger() };
export const PASSWORD = 'correct horse battery';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: any;
  raw: Buffer;
}

export class ConsoleRig {
  clock = new ManualClock();
  outbox!: Outbox;
  router!: CommandRouter;
  alarms!: AlarmsComponent;
  console!: ConsoleServer;
  url = '';
  printed: string[] = [];
  hubCalls: { camera: string; principal: { id: string; role?: string } }[] = [];
  media = new Map<string, Buffer>();
  /** The families' pages and devices the console is given (none: core pages only). */
  catalogue: ConsoleCatalogue | undefined;

  constructor(
    readonly dir = mkdtempSync(join(tmpdir(), 'gh-console-')),
    readonly consoleConfig: Record<string, unknown> = {},
  ) {}

  async start(): Promise<this> {
    this.outbox = new Outbox({ file: join(this.dir, 'outbox.db'), clock: this.clock, config: { checkpointIntervalMs: 0 } });
    this.router = new CommandRouter({
      config: CommandsConfig.parse({}),
      outbox: this.outbox,
      clock: this.clock,
      log: silentLogger(),
      timers: this.clock,
    });
    this.alarms = createAlarms({
      config: { alarms: AlarmsConfig.parse({}), linkage: [] },
      outbox: this.outbox,
      clock: this.clock,
      timers: this.clock,
      logs,
    });
    for (const def of this.alarms.commands()) this.router.register(def);
    this.router.register(
      defineCommand({
        name: 'test.admin_only',
        description: 'admins only',
        args: z.object({}).strict(),
        roles: ['admin'],
        handler: async () => ({ done: true }),
      }),
    );
    await this.alarms.start();
    this.console = createConsole({
      config: {
        console: ConsoleConfig.parse({
          port: 0,
          loginMaxFailures: 3,
          loginLockoutMin: 10,
          sessionIdleMin: 30,
          sessionMaxHours: 2,
          ...this.consoleConfig,
        }),
      },
      dataDir: this.dir,
      outbox: this.outbox,
      router: this.router,
      alarms: this.alarms.manager,
      status: () => ({ version: 'test' }),
      liveView: {
        handleUpgrade: (_req, socket, _head, camera, principal) => {
          this.hubCalls.push({ camera, principal });
          socket.end('HTTP/1.1 101 Switching Protocols\r\n\r\n');
          socket.destroy();
        },
      },
      media: {
        read: (id) => {
          const jpeg = this.media.get(id);
          if (!jpeg) throw new GatehouseError('MEDIA_UNKNOWN');
          return jpeg;
        },
      },
      clock: this.clock,
      timers: this.clock,
      logs,
      print: (line) => this.printed.push(line),
      ...(this.catalogue ? { catalogue: this.catalogue } : {}),
    });
    this.url = (await this.console.start()).url;
    return this;
  }

  async stop(): Promise<void> {
    await this.console.stop();
    await this.alarms.stop();
    this.outbox.close();
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  get tls(): boolean {
    return this.url.startsWith('https');
  }

  /** One request; `origin: null` sends none, default is the server's own origin. */
  call(
    method: string,
    path: string,
    opts: { body?: unknown; cookie?: string; csrf?: string; origin?: string | null; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const u = new URL(this.url);
    const data = opts.body === undefined ? undefined : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.origin !== null) headers.Origin = opts.origin ?? this.url;
    if (opts.cookie) headers.Cookie = opts.cookie;
    if (opts.csrf) headers['X-CSRF-Token'] = opts.csrf;
    if (data) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = data.length;
    }
    const request = this.tls ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, method, path, headers, rejectUnauthorized: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          let body: unknown = raw.toString('utf8');
          try {
            body = JSON.parse(body as string);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, raw });
        });
      });
      req.on('error', reject);
      req.end(data);
    });
  }

  /** Logs in; returns the cookie pair and the CSRF token. */
  async login(username: string, password = PASSWORD): Promise<{ cookie: string; csrf: string; reply: Reply }> {
    const reply = await this.call('POST', '/api/login', { body: { username, password } });
    if (reply.status !== 200) throw new Error(`login failed: ${reply.status} ${JSON.stringify(reply.body)}`);
    const set = String(reply.headers['set-cookie']?.[0] ?? '');
    return { cookie: set.split(';')[0]!, csrf: reply.body.csrf as string, reply };
  }

  /** Lets the outbox commit what was recorded in this turn. */
  async settle(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  }

  systemEvents(type: string): any[] {
    return this.outbox
      .readEvents(0, 100_000)
      .filter((r) => r.class === 'system')
      .map((r) => JSON.parse(r.body))
      .filter((e) => e.type === type);
  }
}
