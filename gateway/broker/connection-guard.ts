/**
 * Sockets that have not logged in yet. Without a password, this is all a LAN host can
 * hold on the embedded broker, so it is bounded three ways:
 *
 * - a deadline: a socket that has not sent a valid CONNECT and logged in within
 *   `connectDeadlineMs` is closed (a slowloris holds nothing for long);
 * - per address: at most `perAddress` such sockets from one source address, further
 *   ones are closed at once;
 * - in total: at most `total`; a new socket closes the oldest pending one, so sockets
 *   from many addresses cannot fill the broker either, and a device whose CONNECT comes
 *   within milliseconds of its TCP handshake still gets through.
 *
 * Logged-in sessions are bounded by account instead (embedded-broker.ts): a device has
 * exactly one, so room is always left for every configured device.
 */
import type { Socket } from 'node:net';
import type { TimerHandle, Timers } from '../core/clock.js';

export interface PendingLimits {
  connectDeadlineMs: number;
  perAddress: number;
  total: number;
}

export type GuardEvent =
  | { kind: 'address-cap'; address: string; limit: number }
  | { kind: 'evicted'; address: string; limit: number }
  | { kind: 'deadline'; address: string; deadlineMs: number };

interface Pending {
  address: string;
  timer: TimerHandle;
}

/** `::ffff:10.0.0.5` and `10.0.0.5` are one host. */
export function sourceAddress(socket: Pick<Socket, 'remoteAddress'>): string {
  const a = socket.remoteAddress ?? 'unknown';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

export class ConnectionGuard {
  private readonly pending = new Map<Socket, Pending>();
  private readonly perAddress = new Map<string, number>();

  constructor(
    private readonly limits: PendingLimits,
    private readonly timers: Timers,
    private readonly report: (e: GuardEvent) => void,
  ) {}

  /** A new socket. Returns false (and has destroyed it) when it is refused. */
  admit(socket: Socket): boolean {
    const address = sourceAddress(socket);
    if ((this.perAddress.get(address) ?? 0) >= this.limits.perAddress) {
      socket.destroy();
      this.report({ kind: 'address-cap', address, limit: this.limits.perAddress });
      return false;
    }
    if (this.pending.size >= this.limits.total) {
      const [oldest, p] = this.pending.entries().next().value as [Socket, Pending];
      this.release(oldest);
      oldest.destroy();
      this.report({ kind: 'evicted', address: p.address, limit: this.limits.total });
    }
    const timer = this.timers.setTimeout(() => {
      if (!this.release(socket)) return;
      socket.destroy();
      this.report({ kind: 'deadline', address, deadlineMs: this.limits.connectDeadlineMs });
    }, this.limits.connectDeadlineMs);
    this.pending.set(socket, { address, timer });
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    socket.once('close', () => this.release(socket));
    return true;
  }

  /** The socket's client logged in: it no longer counts as pending. */
  loggedIn(socket: Socket): void {
    this.release(socket);
  }

  /** Pending sockets now, in total and from one address. */
  count(address?: string): number {
    return address === undefined ? this.pending.size : (this.perAddress.get(address) ?? 0);
  }

  private release(socket: Socket): boolean {
    const p = this.pending.get(socket);
    if (!p) return false;
    this.pending.delete(socket);
    p.timer.cancel();
    const n = (this.perAddress.get(p.address) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(p.address);
    else this.perAddress.set(p.address, n);
    return true;
  }
}
