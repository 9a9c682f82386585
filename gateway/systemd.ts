/**
 * systemd integration: READY=1 once every component is up, STOPPING=1 on shutdown, and
 * a watchdog that pets only while the event loop, the commit path and the uplink loop
 * are all healthy — so a wedged daemon is restarted instead of silently buffering.
 *
 * Node cannot send a unix datagram itself, so this uses the `sd-notify` binding
 * (systemd's own node wrapper, an optional dependency built against libsystemd). Outside
 * systemd (no NOTIFY_SOCKET) everything here is a no-op.
 */
import { createRequire } from 'node:module';
import type { Logger } from './core/log.js';

interface SdNotify {
  ready(): void;
  stopping(): void;
  watchdog(): void;
  watchdogInterval(): number;
  sendStatus(s: string): void;
}

function loadBinding(log: Logger): SdNotify | undefined {
  if (!process.env.NOTIFY_SOCKET) return undefined;
  try {
    return createRequire(import.meta.url)('sd-notify') as SdNotify;
  } catch (err) {
    log.error(
      { err: (err as Error).message },
      'running under systemd but the sd-notify binding is missing: install libsystemd-dev and run npm ci again, or the watchdog will restart the service',
    );
    return undefined;
  }
}

export type HealthCheck = () => { name: string; ok: boolean };

export class SystemdNotifier {
  private readonly sd: SdNotify | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lagTimer: NodeJS.Timeout | undefined;
  private lastTick = performance.now();
  private maxLagMs = 0;

  constructor(private readonly log: Logger) {
    this.sd = loadBinding(log);
  }

  get active(): boolean {
    return this.sd !== undefined;
  }

  ready(status: string): void {
    this.sd?.ready();
    this.sd?.sendStatus(status);
  }

  stopping(): void {
    this.sd?.stopping();
  }

  /** Starts petting at half the configured WatchdogSec, only when every check passes. */
  startWatchdog(checks: HealthCheck[], maxEventLoopLagMs = 2000): void {
    if (!this.sd) return;
    const intervalUs = this.sd.watchdogInterval();
    if (!intervalUs) return;
    // Event-loop lag probe: a timer that should fire every 100 ms; a late one means a stall.
    this.lagTimer = setInterval(() => {
      const now = performance.now();
      this.maxLagMs = Math.max(this.maxLagMs, now - this.lastTick - 100);
      this.lastTick = now;
    }, 100);
    this.lagTimer.unref();
    const periodMs = Math.max(500, Math.floor(intervalUs / 1000 / 2));
    this.timer = setInterval(() => {
      const failed = checks
        .map((c) => c())
        .filter((r) => !r.ok)
        .map((r) => r.name);
      if (this.maxLagMs > maxEventLoopLagMs) failed.push(`event loop lag ${Math.round(this.maxLagMs)} ms`);
      this.maxLagMs = 0;
      if (failed.length === 0) this.sd?.watchdog();
      else this.log.warn({ failed }, 'watchdog not petted: unhealthy components');
    }, periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.lagTimer) clearInterval(this.lagTimer);
  }
}
