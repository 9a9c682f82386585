/**
 * The console's JSON API under /api. Everything needs a session except login and setup;
 * every state-changing request needs the session's CSRF token AND a same-origin Origin or
 * Referer (SameSite=Strict alone does not cover a sibling site on the same registrable
 * domain, nor old browsers). Commands go through the router exactly like the platform's,
 * with the console user as principal: the router's role lists decide, and audit.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { AlarmManager } from '../alarms/alarm-manager.js';
import { alarmView } from '../alarms/alarm-views.js';
import type { CommandRouter } from '../commands/router.js';
import { GatehouseError, toGatehouseError } from '../core/errors.js';
import { isEventClass, withUncheckedData, type EventDataMap } from '../core/events.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import { checkPassword, checkRole, checkUsername, MAX_PASSWORD_LENGTH, type Accounts, type ConsoleRole } from './accounts.js';
import { parseCookies, readJson, remoteAddress, sameOrigin, sendError, sendJson, statusOf } from './http-util.js';
import type { ConsoleCatalogue } from './catalogue.js';
import type { EventRing } from './live.js';
import type { HashGate, LoginLimiter, LoginVerdict } from './login-limiter.js';
import { SESSION_COOKIE, type Session, type Sessions } from './sessions.js';

export interface ConsoleApiOptions {
  accounts: Accounts;
  sessions: Sessions;
  limiter: LoginLimiter;
  /** Bounds the scrypt hashes running at once (logins and setup). */
  hashGate: HashGate;
  now: () => number;
  /** Called once the setup token made the first administrator (the link file is removed). */
  onSetupDone?: () => void;
  router: Pick<CommandRouter, 'execute'>;
  alarms: Pick<AlarmManager, 'list'>;
  outbox: Pick<Outbox, 'record' | 'readStates'>;
  status: () => Record<string, unknown>;
  media?: { read(id: string): Buffer };
  ring: EventRing;
  /** Which family each device belongs to and the family pages (GET /api/families). */
  catalogue: ConsoleCatalogue;
  tls: boolean;
  log: Logger;
}

const STAFF: readonly ConsoleRole[] = ['installer', 'admin'];
const ADMIN: readonly ConsoleRole[] = ['admin'];

type Handler = (req: IncomingMessage, res: ServerResponse, s: Session, params: string[], query: URLSearchParams) => Promise<void> | void;
interface Route {
  method: 'GET' | 'POST';
  pattern: RegExp;
  roles?: readonly ConsoleRole[];
  handler: Handler;
}

/** Refused logins are audited at most this often per address and reason (a burst is one record, not 200). */
const REFUSAL_AUDIT_INTERVAL_MS = 60_000;

export class ConsoleApi {
  private readonly routes: Route[];
  private readonly refusalsAudited = new Map<string, number>();

  constructor(private readonly o: ConsoleApiOptions) {
    this.routes = [
      {
        method: 'GET',
        pattern: /^\/api\/session$/,
        handler: (_q, res, s) => sendJson(res, 200, { user: s.username, role: s.role, csrf: s.csrf }),
      },
      { method: 'POST', pattern: /^\/api\/logout$/, handler: (_q, res, s) => this.logout(res, s) },
      { method: 'POST', pattern: /^\/api\/commands\/([^/]{1,64})$/, handler: (req, res, s, p) => this.command(req, res, s, p[0]!) },
      { method: 'GET', pattern: /^\/api\/status$/, roles: STAFF, handler: (_q, res) => sendJson(res, 200, this.o.status()) },
      { method: 'GET', pattern: /^\/api\/states$/, handler: (_q, res) => this.states(res) },
      { method: 'GET', pattern: /^\/api\/families$/, handler: (_q, res) => sendJson(res, 200, this.o.catalogue) },
      {
        method: 'GET',
        pattern: /^\/api\/alarms$/,
        handler: (_q, res, _s, _p, q) =>
          sendJson(res, 200, { alarms: this.o.alarms.list({ includeClosed: q.get('closed') === '1', limit: 500 }).map(alarmView) }),
      },
      { method: 'GET', pattern: /^\/api\/events$/, handler: (_q, res, _s, _p, q) => this.events(res, q) },
      { method: 'GET', pattern: /^\/api\/media\/([0-9A-Za-z]{26})$/, handler: (_q, res, _s, p) => this.mediaFile(res, p[0]!) },
      {
        method: 'GET',
        pattern: /^\/api\/users$/,
        roles: ADMIN,
        handler: (_q, res) => sendJson(res, 200, { users: this.o.accounts.list() }),
      },
      { method: 'POST', pattern: /^\/api\/users$/, roles: ADMIN, handler: (req, res, s) => this.addUser(req, res, s) },
      {
        method: 'POST',
        pattern: /^\/api\/users\/([^/]{1,64})\/disable$/,
        roles: ADMIN,
        handler: (_q, res, s, p) => this.disableUser(res, s, p[0]!),
      },
      {
        method: 'POST',
        pattern: /^\/api\/users\/([^/]{1,64})\/password$/,
        roles: ADMIN,
        handler: (req, res, s, p) => this.password(req, res, s, p[0]!),
      },
    ];
  }

  /** The session of a request's cookie, if live (also used by the WebSocket upgrades). */
  session(req: IncomingMessage): Session | undefined {
    return this.o.sessions.lookup(parseCookies(req.headers.cookie).get(SESSION_COOKIE));
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    try {
      const path = url.pathname;
      if (req.method === 'POST' && path === '/api/login') return await this.login(req, res);
      if (req.method === 'POST' && path === '/api/setup') return await this.setup(req, res);
      const session = this.session(req);
      if (!session) throw new GatehouseError('CONSOLE_AUTH_REQUIRED');
      if (req.method !== 'GET' && req.method !== 'HEAD') this.checkCsrf(req, session);
      let allowedMethods = false;
      for (const r of this.routes) {
        const m = r.pattern.exec(path);
        if (!m) continue;
        if (r.method !== req.method) {
          allowedMethods = true;
          continue;
        }
        if (r.roles && !r.roles.includes(session.role))
          throw new GatehouseError('CONSOLE_FORBIDDEN', `role "${session.role}" may not use ${r.method} ${path}`);
        return await r.handler(req, res, session, m.slice(1).map(decodeParam), url.searchParams);
      }
      if (allowedMethods)
        return sendJson(res, 405, { ok: false, error: { code: 'CONSOLE_REQUEST_INVALID', message: 'method not allowed' } });
      throw new GatehouseError('CONSOLE_NOT_FOUND');
    } catch (err) {
      const e = toGatehouseError(err);
      if (e.code === 'INTERNAL') this.o.log.error({ path: url.pathname, err: e.message }, 'console API failed');
      if (!res.headersSent) sendError(res, e);
      else res.destroy();
    }
  }

  private checkCsrf(req: IncomingMessage, s: Session): void {
    const header = req.headers['x-csrf-token'];
    const given = Buffer.from(typeof header === 'string' ? header : '');
    const expected = Buffer.from(s.csrf);
    if (given.length !== expected.length || !timingSafeEqual(given, expected) || !sameOrigin(req, this.o.tls))
      throw new GatehouseError('CONSOLE_CSRF');
  }

  private cookie(value: string, maxAge: number): string {
    return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${this.o.tls ? '; Secure' : ''}`;
  }

  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Login CSRF (logging a victim into the attacker's account) is refused like any other.
    if (!sameOrigin(req, this.o.tls)) throw new GatehouseError('CONSOLE_CSRF');
    const body = await readJson(req);
    const { username, password } = body;
    if (typeof username !== 'string' || typeof password !== 'string' || username.length > 200 || password.length > MAX_PASSWORD_LENGTH) {
      throw new GatehouseError('CONSOLE_REQUEST_INVALID', 'username and password are required');
    }
    const address = remoteAddress(req);
    const user = username.slice(0, 64);
    // Counted before the hash: a burst of concurrent guesses is refused here, not after scrypt.
    const verdict = this.o.limiter.begin(username, address);
    if (!verdict.ok) {
      this.auditRefusal(user, address, verdict.reason === 'address-throttled' ? 'locked-out' : 'delayed');
      throw this.refusal(res, verdict);
    }
    let checked;
    try {
      checked = await this.o.hashGate.run(() => this.o.accounts.check(username, password));
    } catch (err) {
      // A check that threw judged nothing; an unsettled ticket would hold the account "in flight" for ever.
      verdict.ticket.release();
      throw err;
    }
    if (!checked) {
      // Not the caller's fault: give the attempt back to its counters.
      verdict.ticket.release();
      this.auditRefusal(user, address, 'busy');
      res.setHeader('Retry-After', '2');
      throw new GatehouseError('CONSOLE_BUSY');
    }
    const check = checked.value;
    if (!check.ok) {
      if (verdict.ticket.fail()) this.o.log.warn({ user, address }, 'console login: address throttled after repeated failures');
      this.audit('console.login', { user, ok: false, reason: check.reason, address });
      // One answer for unknown user, wrong password and disabled account.
      throw new GatehouseError('CONSOLE_LOGIN_FAILED');
    }
    verdict.ticket.succeed();
    const { id, session } = this.o.sessions.create(check.user.username);
    this.audit('console.login', { user: check.user.username, ok: true, address });
    sendJson(
      res,
      200,
      { user: session.username, role: session.role, csrf: session.csrf },
      { 'Set-Cookie': this.cookie(id, this.o.sessions.cookieMaxAgeS) },
    );
  }

  /** The coded answer of a throttled attempt, with Retry-After in whole seconds. */
  private refusal(res: ServerResponse, verdict: Extract<LoginVerdict, { ok: false }>): GatehouseError {
    const seconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
    res.setHeader('Retry-After', String(seconds));
    return new GatehouseError('CONSOLE_LOCKED_OUT', `Too many failed logins; try again in ${seconds} s`);
  }

  private auditRefusal(user: string, address: string, reason: 'locked-out' | 'delayed' | 'busy'): void {
    const key = `${address} ${reason}`;
    const now = this.o.now();
    if (now - (this.refusalsAudited.get(key) ?? -Infinity) < REFUSAL_AUDIT_INTERVAL_MS) return;
    this.refusalsAudited.delete(key);
    this.refusalsAudited.set(key, now);
    if (this.refusalsAudited.size > 1000) this.refusalsAudited.delete(this.refusalsAudited.keys().next().value!);
    this.o.log.warn({ user, address, reason }, 'console login refused by throttling');
    this.audit('console.login', { user, ok: false, reason, address });
  }

  /**
   * The first administrator from the setup token. The token is checked (a hash lookup)
   * before the password is hashed, and attempts are counted before that: unauthenticated
   * requests cannot make the box run scrypt.
   */
  private async setup(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!sameOrigin(req, this.o.tls)) throw new GatehouseError('CONSOLE_CSRF');
    const body = await readJson(req);
    const username = checkUsername(body.username);
    const password = checkPassword(body.password);
    // Counted apart from logins (own keys): a mistyped setup link must not lock out the guards.
    const address = remoteAddress(req);
    const verdict = this.o.limiter.begin(`(setup) ${address}`, `setup:${address}`);
    if (!verdict.ok) throw this.refusal(res, verdict);
    if (!this.o.accounts.setupTokenValid(body.token)) {
      verdict.ticket.fail();
      throw new GatehouseError('CONSOLE_SETUP_INVALID');
    }
    let user;
    try {
      const done = await this.o.hashGate.run(() => this.o.accounts.setup(body.token, username, password));
      if (!done) {
        verdict.ticket.release();
        res.setHeader('Retry-After', '2');
        throw new GatehouseError('CONSOLE_BUSY');
      }
      user = done.value;
    } catch (err) {
      if ((err as GatehouseError).code === 'CONSOLE_SETUP_INVALID') verdict.ticket.fail();
      else verdict.ticket.release();
      throw err;
    }
    verdict.ticket.succeed();
    this.o.onSetupDone?.();
    this.o.log.info({ user: user.username, address }, 'first console administrator created with the setup token');
    this.audit('console.user', { action: 'created', user: user.username, role: 'admin', by: 'setup' });
    sendJson(res, 200, { ok: true, user: user.username, role: user.role });
  }

  private logout(res: ServerResponse, s: Session): void {
    this.o.sessions.delete(s.idHash);
    sendJson(res, 200, { ok: true }, { 'Set-Cookie': this.cookie('', 0) });
  }

  private async command(req: IncomingMessage, res: ServerResponse, s: Session, name: string): Promise<void> {
    const body = await readJson(req);
    const args = body.args ?? {};
    if (typeof args !== 'object' || args === null || Array.isArray(args))
      throw new GatehouseError('CONSOLE_REQUEST_INVALID', '"args" must be an object');
    const reply = await this.o.router.execute(
      name,
      { id: `console-${randomUUID()}`, args },
      { via: 'console', role: s.role, principal: s.username },
    );
    sendJson(res, reply.ok ? 200 : statusOf(reply.error.code), reply);
  }

  private states(res: ServerResponse): void {
    const states = this.o.outbox.readStates().map((r) => {
      try {
        return { device: r.device, state: JSON.parse(r.body) as unknown };
      } catch {
        return { device: r.device, state: null };
      }
    });
    sendJson(res, 200, { states });
  }

  private events(res: ServerResponse, q: URLSearchParams): void {
    const cls = q.get('class') ?? undefined;
    if (cls !== undefined && !isEventClass(cls))
      throw new GatehouseError('CONSOLE_REQUEST_INVALID', 'class must be alarm, access, charging, device or system');
    const limit = Math.min(1000, Math.max(1, Number(q.get('limit') ?? 100) || 100));
    sendJson(res, 200, { events: this.o.ring.recent(cls, limit) });
  }

  private mediaFile(res: ServerResponse, id: string): void {
    if (!this.o.media) throw new GatehouseError('MEDIA_UNKNOWN', 'no media store (no cameras configured)');
    const jpeg = this.o.media.read(id);
    res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': jpeg.length });
    res.end(jpeg);
  }

  private async addUser(req: IncomingMessage, res: ServerResponse, s: Session): Promise<void> {
    const body = await readJson(req);
    const user = await this.o.accounts.add(checkUsername(body.username), checkRole(body.role), checkPassword(body.password));
    this.audit('console.user', { action: 'created', user: user.username, role: user.role, by: s.username });
    sendJson(res, 201, { user });
  }

  private disableUser(res: ServerResponse, s: Session, name: string): void {
    // Refused for the last enabled administrator (CONSOLE_LAST_ADMIN): nobody could manage accounts any more.
    const user = this.o.accounts.disable(name);
    this.audit('console.user', { action: 'disabled', user: user.username, role: user.role, by: s.username });
    sendJson(res, 200, { user });
  }

  private async password(req: IncomingMessage, res: ServerResponse, s: Session, name: string): Promise<void> {
    const body = await readJson(req);
    await this.o.accounts.setPassword(name, checkPassword(body.password));
    this.audit('console.user', { action: 'password', user: name.toLowerCase(), by: s.username });
    sendJson(res, 200, { ok: true });
  }

  private audit<T extends 'console.login' | 'console.user'>(type: T, data: EventDataMap[T]): void {
    this.o.outbox
      .record(withUncheckedData({ class: 'system', type, source: { device: 'gateway', point: 'console' }, data }))
      .catch((err: unknown) => {
        this.o.log.error({ type, err: (err as Error).message }, 'could not record a console audit event');
      });
  }
}

/** A path parameter, %-decoded; a malformed escape is the client's error (400), not a 500. */
function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new GatehouseError('CONSOLE_REQUEST_INVALID', 'malformed %-encoding in the request path');
  }
}
