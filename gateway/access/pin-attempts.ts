/**
 * Wrong-PIN counting per credential: after `maxAttempts` wrong PINs in a row the credential
 * is locked out for `lockoutMs`, so a stolen card cannot be used to guess its PIN at the
 * keypad. In memory only: a reboot forgives, which costs an attacker a power cut per five
 * guesses — acceptable, and it spares a disk write per keypad press.
 *
 * Durations run on the monotonic clock so an NTP step neither ends nor extends a lockout.
 */
import type { Clock } from '../core/clock.js';

export interface PinAttemptsOptions {
  maxAttempts: number;
  lockoutMs: number;
  clock: Clock;
}

interface Entry {
  failures: number;
  lockedUntil?: number;
}

export class PinAttempts {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly opts: PinAttemptsOptions) {}

  isLockedOut(credentialId: string): boolean {
    const e = this.entries.get(credentialId);
    if (e?.lockedUntil === undefined) return false;
    if (this.opts.clock.monotonic() < e.lockedUntil) return true;
    // The lockout has run out: the next attempts start from a clean count.
    this.entries.delete(credentialId);
    return false;
  }

  /** Counts a wrong PIN; returns true when this one started a lockout. */
  recordFailure(credentialId: string): boolean {
    if (this.isLockedOut(credentialId)) return false;
    const e = this.entries.get(credentialId) ?? { failures: 0 };
    e.failures += 1;
    this.entries.set(credentialId, e);
    if (e.failures >= this.opts.maxAttempts) {
      e.lockedUntil = this.opts.clock.monotonic() + this.opts.lockoutMs;
      return true;
    }
    return false;
  }

  recordSuccess(credentialId: string): void {
    this.entries.delete(credentialId);
  }

  /** Failures counted so far (0 when locked out has expired or never failed). */
  failures(credentialId: string): number {
    return this.isLockedOut(credentialId) ? this.opts.maxAttempts : (this.entries.get(credentialId)?.failures ?? 0);
  }
}
