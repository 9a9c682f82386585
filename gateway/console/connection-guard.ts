/**
 * Limits on the console's listener (issue 14.1): a total connection cap, a per-address cap
 * and a deadline for the first valid exchange (the TLS handshake, or the first request on
 * plain HTTP). Without them one LAN host holding a few hundred half-open connections (a
 * slowloris) keeps the guards' tablets out. Refused connections are closed at once; a log
 * line names the address, at most once a minute per address.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { TimerHandle, Timers } from '../core/clock.js';
import type { Logger } from '../core/log.js';

export interface ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
  /** Time from accept to a completed TLS handshake (or a first request without TLS). */
  handshakeTimeoutMs: number;
}

export interface ConnectionGuard {
  stats(): { open: number; addresses: number; refused: number; timedOut: number };
}

const key = (s: { remoteAddress?: string; remotePort?: number }): string => `${s.remoteAddress ?? '?'}:${s.remotePort ?? 0}`;

export function guardConnections(
  server: Server,
  tls: boolean,
  limits: ConnectionLimits,
  timers: Timers,
  now: () => number,
  log: Logger,
  /** The listener's name in the log lines (the metrics listener uses the same guard). */
  listener = 'console',
): ConnectionGuard {
  const perAddress = new Map<string, number>();
  const deadlines = new Map<string, TimerHandle>();
  const warned = new Map<string, number>();
  let open = 0;
  let refused = 0;
  let timedOut = 0;

  const warn = (address: string, what: string, extra: Record<string, unknown>): void => {
    const at = now();
    if (at - (warned.get(address) ?? -Infinity) < 60_000) return;
    warned.set(address, at);
    if (warned.size > 1000) warned.delete(warned.keys().next().value!);
    log.warn({ address, ...extra }, what);
  };

  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const mine = perAddress.get(address) ?? 0;
    if (open >= limits.maxConnections || mine >= limits.maxConnectionsPerAddress) {
      refused++;
      warn(address, `${listener} connection refused: too many open connections`, { fromAddress: mine, total: open });
      socket.destroy();
      return;
    }
    open++;
    perAddress.set(address, mine + 1);
    const k = key(socket);
    const deadline = timers.setTimeout(() => {
      deadlines.delete(k);
      timedOut++;
      const what = tls ? `${listener} connection closed: no TLS handshake in time` : `${listener} connection closed: no request in time`;
      warn(address, what, { ms: limits.handshakeTimeoutMs });
      socket.destroy();
    }, limits.handshakeTimeoutMs);
    deadlines.set(k, deadline);
    socket.once('close', () => {
      deadlines.get(k)?.cancel();
      deadlines.delete(k);
      open--;
      const n = (perAddress.get(address) ?? 1) - 1;
      if (n > 0) perAddress.set(address, n);
      else perAddress.delete(address);
    });
  });
  const passed = (s: { remoteAddress?: string; remotePort?: number }): void => {
    const k = key(s);
    deadlines.get(k)?.cancel();
    deadlines.delete(k);
  };
  if (tls) server.on('secureConnection', (s: TLSSocket) => passed(s));
  else server.on('request', (req) => passed(req.socket));
  return { stats: () => ({ open, addresses: perAddress.size, refused, timedOut }) };
}
