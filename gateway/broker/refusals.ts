/**
 * Refusal logging. A misconfigured lock reconnects every second and is refused every
 * time; one warning per (who, why) per window keeps journald readable on an SD card
 * while still saying how many were suppressed. Never logs a password: callers pass only
 * the username, the client id, the topic and the reason.
 */
import type { Logger } from '../core/log.js';

export interface Refusal {
  kind: 'connect' | 'publish' | 'subscribe' | 'frame' | 'queue' | 'capacity' | 'pending';
  username?: string | undefined;
  /** Source address of the connection, when known: what an installer blocks or looks for. */
  remote?: string | undefined;
  clientId?: string | undefined;
  topic?: string | undefined;
  reason: string;
  [k: string]: unknown;
}

export class RefusalLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  total = 0;

  constructor(
    private readonly log: Logger,
    private readonly windowMs = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  refuse(r: Refusal): void {
    this.total++;
    const key = `${r.kind}|${r.remote ?? ''}|${r.username ?? r.clientId ?? '?'}|${r.reason}`;
    const t = this.now();
    const seen = this.last.get(key);
    if (seen && t - seen.at < this.windowMs) {
      seen.suppressed++;
      return;
    }
    if (this.last.size > 10_000) this.last.clear(); // bounded whatever a hostile LAN does
    this.last.set(key, { at: t, suppressed: 0 });
    const { kind, username, ...rest } = r;
    this.log.warn({ ...rest, device: username, suppressedSinceLast: seen?.suppressed ?? 0 }, `embedded broker refused ${kind}`);
  }
}
