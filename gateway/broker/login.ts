/**
 * Logging in to the embedded broker (aedes' authenticate hook): login throttling around
 * the password check (auth-throttle.ts), then who may hold which session: mutual-TLS
 * certificate binding, the session caps, client ids bound to devices, and last wills.
 */
import type { Client, AuthenticateError } from 'aedes';
import type { Socket } from 'node:net';
import type { BrokerConfig } from '../../config/schema.js';
import type { Timers } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { authorizeWill, type Account, type Limits } from './acl.js';
import type { AccountTable } from './accounts.js';
import type { AuthThrottle } from './auth-throttle.js';
import type { ConnectionGuard } from './connection-guard.js';
import type { RefusalLog } from './refusals.js';

export interface ClientInfo {
  account: Account;
}

/** Where a client's socket comes from, known from accept() on. */
export interface Origin {
  address: string;
  /** The TCP socket the connection guard admitted (under TLS, the one below the TLS socket). */
  socket: Socket;
  tls: boolean;
  /** CN of a client certificate the CA verified (mutual TLS). */
  certCommonName: string | undefined;
}

/** What a login needs from the broker. */
export interface LoginContext {
  config: BrokerConfig;
  accounts: AccountTable;
  refusals: RefusalLog;
  throttle: AuthThrottle;
  pending: ConnectionGuard;
  timers: Timers;
  log: Logger;
  topicRoot: string;
  limits: Limits;
  origins: WeakMap<Client, Origin>;
  clients: Map<Client, ClientInfo>;
  online: Map<string, Client>;
}

type AuthCallback = (err: AuthenticateError | null, ok: boolean | null) => void;

const authError = (message: string, returnCode: number): AuthenticateError =>
  Object.assign(new Error(message), { returnCode }) as AuthenticateError;

/** Login throttling (auth-throttle.ts) around the account check: aedes' authenticate hook. */
export function authenticate(
  ctx: LoginContext,
  client: Client,
  username: string | undefined,
  password: Buffer | undefined,
  cb: AuthCallback,
): void {
  const origin = ctx.origins.get(client);
  const remote = origin?.address ?? 'unknown';
  const attempt = ctx.throttle.begin(remote, ctx.accounts.role(username) ? username : undefined);
  if (attempt.refused) {
    const reason = 'too many failed logins from this address; refused without a password check for now';
    ctx.refusals.refuse({ kind: 'connect', username, clientId: client.id, remote, failures: attempt.failures, reason });
    return cb(authError('server unavailable', 3), null);
  }
  const check = (): void => {
    if ((client as unknown as { closed: boolean }).closed) return attempt.finish('abandoned');
    const ok = login(ctx, client, remote, username, password, cb);
    attempt.finish(ok === 'bad-credentials' ? 'failed' : ok === 'ok' ? 'ok' : 'abandoned');
    if (ok === 'ok' && origin) ctx.pending.loggedIn(origin.socket);
  };
  if (attempt.delayMs === 0) return check();
  ctx.log.debug({ remote, username, delayMs: attempt.delayMs }, 'login delayed after failed attempts');
  ctx.timers.setTimeout(check, attempt.delayMs);
}

function login(
  ctx: LoginContext,
  client: Client,
  remote: string,
  username: string | undefined,
  password: Buffer | undefined,
  cb: AuthCallback,
): 'ok' | 'bad-credentials' | 'refused' {
  const result = ctx.accounts.authenticate(username, password);
  if (!result.ok) {
    ctx.refusals.refuse({ kind: 'connect', username, clientId: client.id, remote, reason: result.reason });
    cb(authError('not authorized', result.reason === 'anonymous' ? 5 : 4), null);
    return 'bad-credentials';
  }
  const { account } = result;
  const origin = ctx.origins.get(client);
  if (ctx.config.tls?.caFile && origin?.tls && account.role === 'device' && origin.certCommonName !== account.username) {
    // Mutual TLS per device: the certificate must name the device logging in.
    ctx.refusals.refuse({
      kind: 'connect',
      username,
      clientId: client.id,
      remote,
      reason: `client certificate is for "${origin.certCommonName ?? '?'}", not this device`,
    });
    cb(authError('not authorized', 5), null);
    return 'refused';
  }
  const accounts = { devices: ctx.accounts.countOf('device'), operators: ctx.accounts.countOf('operator') };
  const full = capacityRefusal(account, ctx.clients.values(), accounts, ctx.config);
  if (full) {
    // Checked here rather than in preConnect so the client gets a CONNACK saying why.
    ctx.refusals.refuse({ kind: 'capacity', username, clientId: client.id, remote, reason: full });
    cb(authError('server unavailable', 3), null);
    return 'refused';
  }
  if (account.role === 'device' && client.id !== account.username) {
    // The client id is the device's identity on the broker (takeover, last will): bind it.
    ctx.refusals.refuse({ kind: 'connect', username, clientId: client.id, reason: 'device client id must equal its username' });
    cb(authError('identifier rejected', 2), null);
    return 'refused';
  }
  if (account.role !== 'device' && ctx.accounts.role(client.id) === 'device') {
    // Taking a lock's client id would kick the lock off (session takeover) and speak for it.
    ctx.refusals.refuse({ kind: 'connect', username, clientId: client.id, reason: 'client id belongs to a device' });
    cb(authError('identifier rejected', 2), null);
    return 'refused';
  }
  const holder = ctx.online.get(client.id);
  if (account.role !== 'gateway' && holder && ctx.clients.get(holder)?.account.role === 'gateway') {
    ctx.refusals.refuse({ kind: 'connect', username, clientId: client.id, reason: "client id is the gateway's own" });
    cb(authError('identifier rejected', 2), null);
    return 'refused';
  }
  const will = (client as unknown as { _will?: { topic: string; payload: Buffer | string; retain?: boolean } })._will;
  const willCheck = authorizeWill(
    account,
    will ? { topic: will.topic, payloadBytes: Buffer.byteLength(will.payload ?? ''), retain: will.retain === true } : undefined,
    ctx.topicRoot,
    ctx.limits,
  );
  if (!willCheck.ok) {
    ctx.refusals.refuse({
      kind: 'connect',
      username,
      clientId: client.id,
      topic: will?.topic,
      reason: `last will refused: ${willCheck.reason}`,
    });
    cb(authError('not authorized', 5), null);
    return 'refused';
  }
  ctx.clients.set(client, { account });
  cb(null, true);
  return 'ok';
}

/**
 * Why a session of `account` would exceed the caps, or undefined. Room is always kept for
 * one session of every configured account: a device is never refused (it has one session
 * at most, its client id being its username), nor is an operator's first session; an
 * operator's further sessions are refused once they would eat into the room kept for the
 * devices and operators not connected, and beyond `maxSessionsPerOperator`.
 */
export function capacityRefusal(
  account: Account,
  live: Iterable<ClientInfo>,
  accounts: { devices: number; operators: number },
  config: Pick<BrokerConfig, 'maxConnections' | 'maxSessionsPerOperator'>,
): string | undefined {
  if (account.role !== 'operator') return undefined;
  let sessions = 0;
  let ofThisOperator = 0;
  const online = { device: new Set<string>(), operator: new Set<string>() };
  for (const c of live) {
    if (c.account.role === 'gateway') continue;
    online[c.account.role].add(c.account.username);
    sessions++;
    if (c.account.username === account.username) ofThisOperator++;
  }
  if (ofThisOperator === 0) return undefined;
  if (ofThisOperator >= config.maxSessionsPerOperator)
    return `operator already has ${ofThisOperator} sessions (broker.maxSessionsPerOperator)`;
  const kept = accounts.devices - online.device.size + (accounts.operators - online.operator.size);
  if (sessions + kept >= config.maxConnections) {
    return `connection cap of ${config.maxConnections} reached (room kept for ${kept} configured devices and operators not connected)`;
  }
  return undefined;
}
