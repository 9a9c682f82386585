/**
 * The account table of the embedded broker: one account per device (password from the
 * secrets file), the gateway's own internal accounts, and configured operators.
 * Passwords are compared in constant time, and an unknown username costs the same as a
 * known one, so timing reveals neither a password nor which device ids exist.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Secrets } from '../../config/load.js';
import type { Account, AccountRole } from './acl.js';

export interface DeviceAccountSpec {
  id: string;
  /** Resolved by the family's manifest (gateway/locks/family.ts writes the default name). */
  passwordSecret: string;
  /** Local scheme family; defaults to `lock`. */
  family?: string;
}

export interface InternalAccountSpec {
  username: string;
  password: string;
  role: 'gateway' | 'operator';
}

interface Entry {
  account: Account;
  digest: Buffer;
}

const digest = (value: string | Buffer): Buffer => createHash('sha256').update(value).digest();
// Compared against when the username is unknown, so both paths do the same work.
const DUMMY = digest('gatehouse: no such account');

export type AuthResult = { ok: true; account: Account } | { ok: false; reason: 'anonymous' | 'unknown_user' | 'bad_password' };

export class AccountTable {
  private readonly entries = new Map<string, Entry>();
  /** Device ids that have no password in the secrets file: they can never log in. */
  readonly devicesWithoutSecret: string[] = [];

  constructor(opts: {
    secrets: Secrets;
    devices: readonly DeviceAccountSpec[];
    internal: readonly InternalAccountSpec[];
    operators?: readonly { username: string; passwordSecret: string }[];
  }) {
    for (const d of opts.devices) {
      const password = opts.secrets.get(d.passwordSecret);
      if (!password) {
        this.devicesWithoutSecret.push(d.id);
        continue;
      }
      this.add({ username: d.id, role: 'device', family: d.family ?? 'lock' }, password);
    }
    for (const a of opts.internal) this.add({ username: a.username, role: a.role }, a.password);
    for (const o of opts.operators ?? []) {
      const password = opts.secrets.get(o.passwordSecret);
      if (password) this.add({ username: o.username, role: 'operator' }, password);
    }
  }

  private add(account: Account, password: string): void {
    if (this.entries.has(account.username)) {
      // Two accounts with one name would make "who published this" ambiguous.
      throw new Error(
        `embedded broker: account name "${account.username}" is used twice (device ids, operators and internal accounts must differ)`,
      );
    }
    if (password.length === 0) throw new Error(`embedded broker: empty password for "${account.username}"`);
    this.entries.set(account.username, { account, digest: digest(password) });
  }

  authenticate(username: string | undefined, password: Buffer | undefined): AuthResult {
    if (!username || !password) return { ok: false, reason: 'anonymous' };
    const entry = this.entries.get(username);
    const match = timingSafeEqual(digest(password), entry?.digest ?? DUMMY);
    if (!entry) return { ok: false, reason: 'unknown_user' };
    return match ? { ok: true, account: entry.account } : { ok: false, reason: 'bad_password' };
  }

  role(username: string | undefined): AccountRole | undefined {
    return username ? this.entries.get(username)?.account.role : undefined;
  }

  /** Accounts of each role that can log in (devices and operators with a password). */
  countOf(role: AccountRole): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.account.role === role) n++;
    return n;
  }

  get size(): number {
    return this.entries.size;
  }
}
