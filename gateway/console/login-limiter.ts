/**
 * Login throttling: failures are counted per username and per remote address. Reaching
 * `maxFailures` on either locks that key out for `lockoutMs`; while locked, logins are
 * refused without checking the password, so guessing cannot continue at scrypt speed.
 * Counting the username even when it does not exist keeps a lockout from revealing which
 * usernames are real. Memory is bounded: past `maxKeys` the oldest entries are dropped
 * (an attacker rotating addresses gains nothing the username counter does not catch).
 */
export interface LoginLimits {
  maxFailures: number;
  lockoutMs: number;
  maxKeys?: number;
}

interface Entry {
  failures: number;
  lastFailure: number;
  lockedUntil: number;
}

export class LoginLimiter {
  private readonly entries = new Map<string, Entry>();
  private readonly maxKeys: number;

  constructor(private readonly now: () => number, private readonly limits: LoginLimits) {
    this.maxKeys = limits.maxKeys ?? 10_000;
  }

  private keys(username: string, address: string): string[] {
    return [`u:${username.toLowerCase().slice(0, 64)}`, `a:${address}`];
  }

  /** True while either the username or the address is locked out. */
  locked(username: string, address: string): boolean {
    const now = this.now();
    return this.keys(username, address).some((k) => (this.entries.get(k)?.lockedUntil ?? 0) > now);
  }

  /** Counts a failure; returns true when it started a lockout. */
  fail(username: string, address: string): boolean {
    const now = this.now();
    let started = false;
    for (const k of this.keys(username, address)) {
      let e = this.entries.get(k);
      // Failures older than one lockout period are forgiven: a typo a day never locks anyone out.
      if (!e || (e.lockedUntil <= now && now - e.lastFailure > this.limits.lockoutMs)) e = { failures: 0, lastFailure: now, lockedUntil: 0 };
      if (e.lockedUntil && e.lockedUntil <= now) e = { failures: 0, lastFailure: now, lockedUntil: 0 };
      e.failures++;
      e.lastFailure = now;
      if (e.failures >= this.limits.maxFailures && e.lockedUntil <= now) {
        e.lockedUntil = now + this.limits.lockoutMs;
        started = true;
      }
      this.entries.delete(k);
      this.entries.set(k, e);
    }
    while (this.entries.size > this.maxKeys) this.entries.delete(this.entries.keys().next().value!);
    return started;
  }

  /** A success clears the username's count (not the address's: one shared NAT, many users). */
  succeed(username: string): void {
    this.entries.delete(`u:${username.toLowerCase().slice(0, 64)}`);
  }
}
