/**
 * Console accounts in outbox.db (issue 7). There is no default password anywhere: the first
 * administrator comes from `gatehouse user add` on the box, or from a one-time setup token
 * the daemon prints on a start without an administrator.
 *
 * Passwords are hashed with scrypt (memory-hard, so a stolen outbox.db is expensive to
 * brute-force on GPUs): N=2^15, r=8, p=1, a 16-byte salt, 32-byte key, stored with its
 * parameters (`$scrypt$ln=15,r=8,p=1$salt$hash`) so the cost can be raised later without
 * invalidating existing hashes.
 */
import type { StoreScope } from '../store/scope.js';
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { GatehouseError } from '../core/errors.js';

export type ConsoleRole = 'guard' | 'installer' | 'admin';
export const CONSOLE_ROLES: readonly ConsoleRole[] = ['guard', 'installer', 'admin'];
export const MIN_PASSWORD_LENGTH = 12;
/** Longer passwords are refused: scrypt cost does not depend on it, but request bodies should stay small. */
export const MAX_PASSWORD_LENGTH = 1024;
export const SETUP_TOKEN_TTL_MS = 24 * 3600_000;
const USERNAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

const LOG_N = 15;
const R = 8;
const P = 1;
const KEY_LEN = 32;
// 128 * N * r = 32 MiB, exactly Node's default maxmem: give it headroom.
const MAXMEM = 64 * 1024 * 1024;

export interface ConsoleUser {
  username: string;
  role: ConsoleRole;
  disabled: boolean;
  createdAt: number;
}

interface UserRow {
  username: string;
  role: ConsoleRole;
  password_hash: string;
  disabled: number;
  created_at: number;
}

function scrypt(password: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LEN, { N: 2 ** LOG_N, r: R, p: P, maxmem: MAXMEM });
  return `$scrypt$ln=${LOG_N},r=${R},p=${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Constant-time comparison of the derived key; false for any hash it cannot parse. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!m) return false;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (ln < 10 || ln > 20 || r < 1 || r > 32 || p < 1 || p > 4) return false;
  const expected = Buffer.from(m[5]!, 'base64');
  const key = await scrypt(password, Buffer.from(m[4]!, 'base64'), expected.length, { N: 2 ** ln, r, p, maxmem: 256 * 1024 * 1024 });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

export function checkPassword(password: unknown): string {
  if (typeof password !== 'string' || [...password].length < MIN_PASSWORD_LENGTH) throw new GatehouseError('CONSOLE_PASSWORD_WEAK');
  if (password.length > MAX_PASSWORD_LENGTH)
    throw new GatehouseError('CONSOLE_REQUEST_INVALID', `passwords are at most ${MAX_PASSWORD_LENGTH} characters`);
  return password;
}

export function checkUsername(username: unknown): string {
  if (typeof username !== 'string' || !USERNAME.test(username)) {
    throw new GatehouseError(
      'CONSOLE_REQUEST_INVALID',
      'a username is 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
  return username.toLowerCase();
}

export function checkRole(role: unknown): ConsoleRole {
  if (typeof role !== 'string' || !(CONSOLE_ROLES as readonly string[]).includes(role)) {
    throw new GatehouseError('CONSOLE_REQUEST_INVALID', `role must be one of ${CONSOLE_ROLES.join(', ')}`);
  }
  return role as ConsoleRole;
}

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

export type LoginCheck = { ok: true; user: ConsoleUser } | { ok: false; reason: 'unknown-user' | 'wrong-password' | 'disabled' };

export class Accounts {
  /** Compared against for unknown users, so they cost the same scrypt as a wrong password. */
  private dummyHash: Promise<string> | undefined;

  constructor(
    readonly db: StoreScope,
    private readonly now: () => number,
  ) {}

  async add(username: string, role: ConsoleRole, password: string): Promise<ConsoleUser> {
    const name = checkUsername(username);
    checkRole(role);
    const hash = await hashPassword(checkPassword(password));
    const createdAt = this.now();
    const r = this.db
      .prepare(
        'INSERT INTO console_users (username, role, password_hash, disabled, created_at) VALUES (?, ?, ?, 0, ?) ON CONFLICT(username) DO NOTHING',
      )
      .run(name, role, hash, createdAt);
    if (r.changes === 0) throw new GatehouseError('CONSOLE_USER_EXISTS', undefined, { username: name });
    return { username: name, role, disabled: false, createdAt };
  }

  get(username: string): ConsoleUser | undefined {
    const row = this.db.prepare('SELECT * FROM console_users WHERE username = ?').get(username.toLowerCase()) as UserRow | undefined;
    return row ? toUser(row) : undefined;
  }

  list(): ConsoleUser[] {
    return (this.db.prepare('SELECT * FROM console_users ORDER BY username').all() as UserRow[]).map(toUser);
  }

  /**
   * Disabling ends the user's sessions in the same transaction: a fired guard is out at once.
   * The last enabled administrator cannot be disabled (nobody could manage accounts after it;
   * the console and `gatehouse user disable` both end here).
   */
  disable(username: string): ConsoleUser {
    const name = username.toLowerCase();
    const r = this.db.transaction(() => {
      const target = this.db.prepare('SELECT role, disabled FROM console_users WHERE username = ?').get(name) as
        Pick<UserRow, 'role' | 'disabled'> | undefined;
      if (target?.role === 'admin' && !target.disabled) {
        const count = this.db.prepare("SELECT COUNT(*) AS n FROM console_users WHERE role = 'admin' AND disabled = 0");
        const admins = (count.get() as { n: number }).n;
        if (admins <= 1) throw new GatehouseError('CONSOLE_LAST_ADMIN', undefined, { username: name });
      }
      const changed = this.db.prepare('UPDATE console_users SET disabled = 1 WHERE username = ?').run(name);
      this.db.prepare('DELETE FROM console_sessions WHERE username = ?').run(name);
      return changed;
    })();
    if (r.changes === 0) throw new GatehouseError('CONSOLE_USER_UNKNOWN', undefined, { username: name });
    return this.get(name)!;
  }

  /** A new password ends every session of the user (a leaked session must not outlive it). */
  async setPassword(username: string, password: string): Promise<void> {
    const name = username.toLowerCase();
    const hash = await hashPassword(checkPassword(password));
    const r = this.db.transaction(() => {
      const changed = this.db.prepare('UPDATE console_users SET password_hash = ? WHERE username = ?').run(hash, name);
      this.db.prepare('DELETE FROM console_sessions WHERE username = ?').run(name);
      return changed;
    })();
    if (r.changes === 0) throw new GatehouseError('CONSOLE_USER_UNKNOWN', undefined, { username: name });
  }

  hasAdmin(): boolean {
    return this.db.prepare("SELECT 1 FROM console_users WHERE role = 'admin' AND disabled = 0 LIMIT 1").get() !== undefined;
  }

  /**
   * Always runs one scrypt, whatever the outcome, so the answer time does not tell whether
   * the user exists or is disabled.
   */
  async check(username: string, password: string): Promise<LoginCheck> {
    const row =
      typeof username === 'string' && USERNAME.test(username)
        ? (this.db.prepare('SELECT * FROM console_users WHERE username = ?').get(username.toLowerCase()) as UserRow | undefined)
        : undefined;
    this.dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
    const ok = await verifyPassword(password, row?.password_hash ?? (await this.dummyHash));
    if (!row) return { ok: false, reason: 'unknown-user' };
    if (!ok) return { ok: false, reason: 'wrong-password' };
    if (row.disabled) return { ok: false, reason: 'disabled' };
    return { ok: true, user: toUser(row) };
  }

  /** A fresh setup token (replacing any earlier one); only its hash is stored. */
  createSetupToken(): { token: string; expiresAt: number } {
    const token = randomBytes(24).toString('base64url');
    const expiresAt = this.now() + SETUP_TOKEN_TTL_MS;
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM console_setup').run();
      this.db.prepare('INSERT INTO console_setup (token_hash, expires_at) VALUES (?, ?)').run(sha256(token), expiresAt);
    })();
    return { token, expiresAt };
  }

  /**
   * Creates the first administrator with a setup token. Single use: the token row is
   * deleted in the same transaction that checks it, so two racing requests cannot both win.
   */
  async setup(token: unknown, username: unknown, password: unknown): Promise<ConsoleUser> {
    const name = checkUsername(username);
    const pass = checkPassword(password);
    // The cheap check first: a wrong token never costs a scrypt hash.
    if (typeof token !== 'string' || !this.setupTokenValid(token)) throw new GatehouseError('CONSOLE_SETUP_INVALID');
    const hash = await hashPassword(pass);
    const createdAt = this.now();
    const ok = this.db.transaction(() => {
      const row = this.db.prepare('SELECT expires_at FROM console_setup WHERE token_hash = ?').get(sha256(token)) as
        { expires_at: number } | undefined;
      if (!row || row.expires_at <= createdAt || this.hasAdmin()) return false;
      this.db.prepare('DELETE FROM console_setup').run();
      const r = this.db
        .prepare(
          'INSERT INTO console_users (username, role, password_hash, disabled, created_at) VALUES (?, ?, ?, 0, ?) ON CONFLICT(username) DO NOTHING',
        )
        .run(name, 'admin', hash, createdAt);
      if (r.changes === 0) throw new GatehouseError('CONSOLE_USER_EXISTS', undefined, { username: name });
      return true;
    })();
    if (!ok) throw new GatehouseError('CONSOLE_SETUP_INVALID');
    return { username: name, role: 'admin', disabled: false, createdAt };
  }

  /** Whether `token` is the live setup token and no administrator exists yet (a hash lookup, no scrypt). */
  setupTokenValid(token: unknown): boolean {
    if (typeof token !== 'string' || token.length > 200) return false;
    const select = this.db.prepare('SELECT expires_at FROM console_setup WHERE token_hash = ?');
    const row = select.get(sha256(token)) as { expires_at: number } | undefined;
    return row !== undefined && row.expires_at > this.now() && !this.hasAdmin();
  }

  clearSetupTokens(): void {
    this.db.prepare('DELETE FROM console_setup').run();
  }
}

function toUser(row: UserRow): ConsoleUser {
  return { username: row.username, role: row.role, disabled: row.disabled !== 0, createdAt: row.created_at };
}
