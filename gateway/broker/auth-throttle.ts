/**
 * Slows password guessing on the embedded broker. Failed logins are counted per source
 * address and per username; past a few free failures each further attempt waits a
 * doubling delay before its password is even checked (so closing the socket early
 * teaches an attacker nothing), and the answer comes only after that delay.
 *
 * - Per address: once the delay would exceed `maxDelayMs`, the address is refused
 *   outright (no password check) until its failures are forgotten.
 * - Per username: the delay is capped but never becomes a refusal, so guessing a lock's
 *   password from elsewhere slows that lock's logins by seconds but cannot lock it out.
 * - Attempts in flight count as failures when the delay is computed, so a burst of
 *   parallel guesses gets no more free tries than a sequence would.
 *
 * Pure logic on an injected clock: the caller schedules the delay.
 */
import type { Clock } from '../core/clock.js';

export interface AuthThrottleLimits {
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
  forgetAfterMs: number;
}

interface Counter {
  failures: number;
  inflight: number;
  lastFailureAt: number;
}

export type AttemptVerdict =
  | { refused: true; failures: number }
  | { refused: false; delayMs: number; failures: number; finish(outcome: 'ok' | 'failed' | 'abandoned'): void };

/** Addresses or usernames tracked at most; the oldest entries go first beyond it. */
const MAX_TRACKED = 4096;
/** One key for every unknown username, so made-up names cannot flood the table. */
export const UNKNOWN_USER = '\u0000unknown';

export class AuthThrottle {
  private readonly byAddress = new Map<string, Counter>();
  private readonly byUsername = new Map<string, Counter>();

  constructor(
    private readonly limits: AuthThrottleLimits,
    private readonly clock: Pick<Clock, 'monotonic'>,
  ) {}

  /** The delay owed after `n` failures. */
  delayFor(n: number): number {
    if (n < this.limits.freeFailures) return 0;
    return this.limits.baseDelayMs * 2 ** Math.min(n - this.limits.freeFailures, 30);
  }

  /** Starts a login attempt. `username` is undefined when no such account exists. */
  begin(address: string, username: string | undefined): AttemptVerdict {
    const a = this.counter(this.byAddress, address);
    const u = this.counter(this.byUsername, username ?? UNKNOWN_USER);
    const addressDelay = this.delayFor(a.failures + a.inflight);
    if (addressDelay > this.limits.maxDelayMs) return { refused: true, failures: a.failures };
    const userDelay = Math.min(this.delayFor(u.failures + u.inflight), this.limits.maxDelayMs);
    a.inflight++;
    u.inflight++;
    let finished = false;
    return {
      refused: false,
      delayMs: Math.max(addressDelay, userDelay),
      failures: Math.max(a.failures, u.failures),
      finish: (outcome) => {
        if (finished) return;
        finished = true;
        a.inflight--;
        u.inflight--;
        if (outcome === 'failed') {
          const now = this.clock.monotonic();
          a.failures++;
          u.failures++;
          a.lastFailureAt = now;
          u.lastFailureAt = now;
        } else if (outcome === 'ok') {
          // The right password for this account: its guessers are no longer a threat to it.
          // The address keeps its count, so one valid account cannot launder guesses.
          u.failures = 0;
        }
      },
    };
  }

  /** Failures currently counted against an address (for logs and tests). */
  failuresOf(address: string): number {
    return this.byAddress.get(address)?.failures ?? 0;
  }

  private counter(map: Map<string, Counter>, key: string): Counter {
    const now = this.clock.monotonic();
    let c = map.get(key);
    if (c && c.inflight === 0 && c.failures > 0 && now - c.lastFailureAt >= this.limits.forgetAfterMs) c.failures = 0;
    if (!c) {
      if (map.size >= MAX_TRACKED) this.prune(map, now);
      c = { failures: 0, inflight: 0, lastFailureAt: now };
      map.set(key, c);
    }
    return c;
  }

  private prune(map: Map<string, Counter>, now: number): void {
    for (const [k, c] of map)
      if (c.inflight === 0 && (c.failures === 0 || now - c.lastFailureAt >= this.limits.forgetAfterMs)) map.delete(k);
    // Still full of live entries (a LAN of thousands of guessing hosts): drop the oldest.
    for (const [k, c] of map) {
      if (map.size < MAX_TRACKED) break;
      if (c.inflight === 0) map.delete(k);
    }
  }
}
