/**
 * Login throttling (issue 14.2). Every attempt is counted BEFORE its password is hashed,
 * so a burst of concurrent guesses cannot all reach scrypt while the count lags behind:
 *
 * - per address: `maxFailures` attempts that did not succeed, then the address waits
 *   `lockoutMs`. This is what stops a guessing host, and it only ever locks that host out.
 * - per account: no hard lock (an attacker could lock a guard out at will). After a few
 *   free failures each further one doubles a delay before the next attempt on the account
 *   is checked, up to `accountDelayMaxMs`; while an attempt on the account is being checked
 *   the next one waits for it. Guessing one password from many addresses is thus slowed to
 *   one try per delay; a login from an address that signed in to this account before
 *   (the guard's tablet) skips the account delay, so the guard still gets in.
 *
 * Unknown usernames are counted exactly like real ones, so throttling does not reveal which
 * accounts exist. Memory is bounded: past `maxKeys` the oldest entries are dropped.
 */
export interface LoginLimits {
  /** Attempts per address that did not succeed before the address waits `lockoutMs`. */
  maxFailures: number;
  lockoutMs: number;
  /** Failures of one account before its delay starts (typos happen). */
  accountFreeFailures?: number;
  /** The first account delay; it doubles with each further failure. */
  accountDelayBaseMs?: number;
  accountDelayMaxMs: number;
  maxKeys?: number;
}

export type LoginVerdict =
  { ok: true; ticket: LoginTicket } | { ok: false; reason: 'address-throttled' | 'account-delayed'; retryAfterMs: number };

/** One admitted attempt: exactly one of succeed() or fail() settles it. */
export interface LoginTicket {
  succeed(): void;
  /** The attempt was never judged (the server was busy): it counts for nothing. */
  release(): void;
  /** Returns true when this attempt was the one that started its address's lockout. */
  fail(): boolean;
}

interface AddressEntry {
  attempts: number;
  lastAttempt: number;
  lockedUntil: number;
}

interface AccountEntry {
  failures: number;
  lastFailure: number;
  notBefore: number;
  inFlight: number;
}

const MAX_TRUSTED_PER_ACCOUNT = 8;

export class LoginLimiter {
  private readonly addresses = new Map<string, AddressEntry>();
  private readonly accounts = new Map<string, AccountEntry>();
  /** Addresses that signed in to an account, most recent last. */
  private readonly trusted = new Map<string, string[]>();
  private readonly maxKeys: number;
  private readonly freeFailures: number;
  private readonly baseDelayMs: number;

  constructor(
    private readonly now: () => number,
    private readonly limits: LoginLimits,
  ) {
    this.maxKeys = limits.maxKeys ?? 10_000;
    this.freeFailures = limits.accountFreeFailures ?? 3;
    this.baseDelayMs = limits.accountDelayBaseMs ?? 1000;
  }

  /** Admits an attempt (counting it now) or says how long to wait. */
  begin(username: string, address: string): LoginVerdict {
    const now = this.now();
    const account = accountKey(username);
    let a = this.addresses.get(address);
    // Attempts older than one lockout period are forgiven: a typo a day never locks anyone out.
    if (!a || (a.lockedUntil <= now && now - a.lastAttempt > this.limits.lockoutMs) || (a.lockedUntil && a.lockedUntil <= now)) {
      a = { attempts: 0, lastAttempt: now, lockedUntil: 0 };
    }
    if (a.lockedUntil > now) return { ok: false, reason: 'address-throttled', retryAfterMs: a.lockedUntil - now };
    const trusted = this.trusted.get(account)?.includes(address) ?? false;
    let acc = this.accounts.get(account);
    if (acc && acc.inFlight === 0 && now - acc.lastFailure > this.limits.lockoutMs) acc = undefined;
    acc ??= { failures: 0, lastFailure: 0, notBefore: 0, inFlight: 0 };
    if (!trusted && (acc.inFlight > 0 || acc.notBefore > now)) {
      return { ok: false, reason: 'account-delayed', retryAfterMs: Math.max(acc.notBefore - now, this.baseDelayMs) };
    }
    a.attempts++;
    a.lastAttempt = now;
    const startsLockout = a.attempts === this.limits.maxFailures;
    if (a.attempts >= this.limits.maxFailures) a.lockedUntil = now + this.limits.lockoutMs;
    acc.inFlight++;
    this.touch(this.addresses, address, a);
    this.touch(this.accounts, account, acc);
    let settled = false;
    const entry = acc;
    const addr = a;
    // The attempt was counted as if it failed; a success (or no verdict at all) gives it back.
    const giveBack = (): void => {
      addr.attempts = Math.max(0, addr.attempts - 1);
      if (addr.attempts < this.limits.maxFailures) addr.lockedUntil = 0;
    };
    return {
      ok: true,
      ticket: {
        release: () => {
          if (settled) return;
          settled = true;
          entry.inFlight--;
          giveBack();
        },
        succeed: () => {
          if (settled) return;
          settled = true;
          entry.inFlight--;
          giveBack();
          this.accounts.delete(account);
          const list = (this.trusted.get(account) ?? []).filter((x) => x !== address);
          list.push(address);
          this.touch(this.trusted, account, list.slice(-MAX_TRUSTED_PER_ACCOUNT));
        },
        fail: () => {
          if (settled) return false;
          settled = true;
          const at = this.now();
          entry.inFlight--;
          entry.failures++;
          entry.lastFailure = at;
          const over = entry.failures - this.freeFailures;
          if (over >= 0) entry.notBefore = at + Math.min(this.limits.accountDelayMaxMs, this.baseDelayMs * 2 ** Math.min(over, 30));
          return startsLockout && addr.lockedUntil > at;
        },
      },
    };
  }

  /** Re-inserts `key` as the newest entry and drops the oldest past `maxKeys`. */
  private touch<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    while (map.size > this.maxKeys) map.delete(map.keys().next().value!);
  }

  /** For tests and the status page: how many addresses and accounts are tracked. */
  size(): { addresses: number; accounts: number; trusted: number } {
    return { addresses: this.addresses.size, accounts: this.accounts.size, trusted: this.trusted.size };
  }
}

function accountKey(username: string): string {
  return username.toLowerCase().slice(0, 64);
}

/**
 * At most `maxConcurrent` password hashes run at once (scrypt takes ~100 ms of a core and
 * 32 MiB each); up to `maxQueued` more wait their turn, anything beyond is refused at once
 * (CONSOLE_BUSY) instead of piling up memory and CPU.
 */
export class HashGate {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  /** Highest number of hashes seen running at once (tests, the status page). */
  peak = 0;

  constructor(
    private readonly maxConcurrent: number,
    private readonly maxQueued: number,
  ) {}

  /** Runs `fn` in its turn; returns undefined, without running it, when the queue is full. */
  async run<T>(fn: () => Promise<T>): Promise<{ value: T } | undefined> {
    if (this.active >= this.maxConcurrent) {
      if (this.queue.length >= this.maxQueued) return undefined;
      // The finishing hash hands its slot over: `active` already counts this one.
      await new Promise<void>((resolve) => this.queue.push(resolve));
    } else this.active++;
    this.peak = Math.max(this.peak, this.active);
    try {
      return { value: await fn() };
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.active--;
    }
  }
}
