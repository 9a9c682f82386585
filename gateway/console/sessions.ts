/**
 * Console sessions. The cookie carries 32 random bytes; the table keeps only their SHA-256,
 * so a copy of outbox.db (a backup, a support bundle) does not hand out live sessions.
 * Every request reads the row joined with its user, so disabling a user or changing a
 * password (which delete the rows) takes effect on the very next request, even when done
 * with `gatehouse user` from another process.
 */
import { randomBytes } from 'node:crypto';
import { sha256, type ConsoleRole } from './accounts.js';
import type { StoreScope } from '../store/scope.js';
import { tolerateStorageError } from '../outbox/disk-space.js';

export const SESSION_COOKIE = 'gh_session';
/** last_seen is written at most this often per session: each write fsyncs outbox.db. */
const TOUCH_EVERY_MS = 30_000;

export interface Session {
  idHash: string;
  username: string;
  role: ConsoleRole;
  csrf: string;
  createdAt: number;
  lastSeen: number;
}

export interface SessionLimits {
  idleMs: number;
  maxMs: number;
}

interface Row {
  id_hash: string;
  username: string;
  role: ConsoleRole;
  csrf: string;
  created_at: number;
  last_seen: number;
}

export class Sessions {
  constructor(
    private readonly db: StoreScope,
    private readonly now: () => number,
    private readonly limits: SessionLimits,
  ) {}

  create(username: string): { id: string; session: Session } {
    const id = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    const now = this.now();
    const idHash = sha256(id);
    this.db
      .prepare('INSERT INTO console_sessions (id_hash, username, created_at, last_seen, csrf) VALUES (?, ?, ?, ?, ?)')
      .run(idHash, username, now, now, csrf);
    const role = (this.db.prepare('SELECT role FROM console_users WHERE username = ?').get(username) as { role: ConsoleRole }).role;
    return { id, session: { idHash, username, role, csrf, createdAt: now, lastSeen: now } };
  }

  /** The live session for a cookie value, or undefined (expired ones are deleted on the way). */
  lookup(id: string | undefined): Session | undefined {
    if (!id || id.length > 100) return undefined;
    const idHash = sha256(id);
    const row = this.db
      .prepare(
        'SELECT s.id_hash, s.username, u.role, s.csrf, s.created_at, s.last_seen FROM console_sessions s JOIN console_users u ON u.username = s.username WHERE s.id_hash = ? AND u.disabled = 0',
      )
      .get(idHash) as Row | undefined;
    if (!row) return undefined;
    const now = this.now();
    if (now - row.last_seen >= this.limits.idleMs || now - row.created_at >= this.limits.maxMs) {
      this.delete(idHash);
      return undefined;
    }
    if (now - row.last_seen >= TOUCH_EVERY_MS) {
      // On a full disk the guard keeps the console (it shows the disk-full alarm); the touch is retried next request.
      const touch = this.db.prepare('UPDATE console_sessions SET last_seen = ? WHERE id_hash = ?');
      tolerateStorageError(() => touch.run(now, idHash), undefined);
    }
    return { idHash, username: row.username, role: row.role, csrf: row.csrf, createdAt: row.created_at, lastSeen: now };
  }

  delete(idHash: string): void {
    this.db.prepare('DELETE FROM console_sessions WHERE id_hash = ?').run(idHash);
  }

  /** Drops expired rows (sessions nobody logs out of would otherwise pile up). */
  sweep(): number {
    const now = this.now();
    return this.db
      .prepare('DELETE FROM console_sessions WHERE last_seen <= ? OR created_at <= ?')
      .run(now - this.limits.idleMs, now - this.limits.maxMs).changes;
  }

  /** Seconds a cookie may live: never longer than the absolute session limit. */
  get cookieMaxAgeS(): number {
    return Math.floor(this.limits.maxMs / 1000);
  }
}
