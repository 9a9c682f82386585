/**
 * Anti-passback: per area and credential, whether it is inside or outside and when it last
 * moved, in the `access_apb` table so that a gateway restart does not let everyone in twice.
 * An in-memory copy answers `check` without touching the disk; `commit` writes through.
 *
 * The rule: entering while inside, or leaving while known to be outside, is a violation —
 * `hard` areas deny it, `soft` areas grant and report it. A credential with no record yet
 * may move either way. After `resetAfterMin` without a move the state is forgotten, because
 * exits do get lost (tailgating out, a door with only an exit button).
 *
 * `commit` is the caller's job once the person actually passes (door opened after a grant,
 * or the grant itself on a door without a contact), so a grant nobody used does not flip
 * the state. Times are wall ms: the state has to survive a restart, which monotonic time
 * does not.
 */
import type { StoreScope } from '../store/scope.js';
import type { AntiPassbackConfig } from '../../config/access-schema.js';

export type Direction = 'in' | 'out';

export type AntiPassbackCheck = { ok: true } | { ok: false; area: string; mode: 'hard' | 'soft' };

interface Presence {
  inside: boolean;
  movedAt: number;
}

const keyOf = (area: string, credentialId: string) => `${area}\u0000${credentialId}`;

export class AntiPassback {
  private readonly areasByDoor = new Map<string, AntiPassbackConfig[]>();
  private readonly presence = new Map<string, Presence>();
  private readonly stmts;

  constructor(opts: { db: StoreScope; areas: AntiPassbackConfig[] }) {
    for (const area of opts.areas) {
      for (const door of area.doors) {
        const list = this.areasByDoor.get(door) ?? [];
        list.push(area);
        this.areasByDoor.set(door, list);
      }
    }
    this.stmts = {
      all: opts.db.prepare('SELECT area, credential_id, inside, moved_at FROM access_apb'),
      put: opts.db.prepare(
        'INSERT INTO access_apb (area, credential_id, inside, moved_at) VALUES (?, ?, ?, ?) ON CONFLICT(area, credential_id) DO UPDATE SET inside = excluded.inside, moved_at = excluded.moved_at',
      ),
      clear: opts.db.prepare('DELETE FROM access_apb WHERE area = ? AND credential_id = ?'),
    };
    const known = new Set(opts.areas.map((a) => a.id));
    for (const r of this.stmts.all.all() as { area: string; credential_id: string; inside: number; moved_at: number }[]) {
      // Rows of areas removed from the config are ignored rather than deleted: the area may come back.
      if (known.has(r.area)) this.presence.set(keyOf(r.area, r.credential_id), { inside: r.inside === 1, movedAt: r.moved_at });
    }
  }

  /** Whether the door is in any anti-passback area (a cheap pre-check for callers). */
  guards(door: string): boolean {
    return this.areasByDoor.has(door);
  }

  /** Read-only: a hard violation in any area wins over a soft one. */
  check(credentialId: string, door: string, direction: Direction, now: number): AntiPassbackCheck {
    const areas = this.areasByDoor.get(door);
    if (!areas) return { ok: true };
    let soft: AntiPassbackCheck | undefined;
    for (const area of areas) {
      const p = this.current(area, credentialId, now);
      if (!p) continue;
      const violation = direction === 'in' ? p.inside : !p.inside;
      if (!violation) continue;
      if (area.mode === 'hard') return { ok: false, area: area.id, mode: 'hard' };
      soft ??= { ok: false, area: area.id, mode: 'soft' };
    }
    return soft ?? { ok: true };
  }

  /** Records that the credential actually passed the door. */
  commit(credentialId: string, door: string, direction: Direction, now: number): void {
    for (const area of this.areasByDoor.get(door) ?? []) {
      const inside = direction === 'in';
      this.presence.set(keyOf(area.id, credentialId), { inside, movedAt: now });
      this.stmts.put.run(area.id, credentialId, inside ? 1 : 0, now);
    }
  }

  /** A guard's reset of one credential (e.g. after checking a tailgater). */
  forget(credentialId: string): void {
    for (const areaId of new Set([...this.areasByDoor.values()].flat().map((a) => a.id))) {
      this.presence.delete(keyOf(areaId, credentialId));
      this.stmts.clear.run(areaId, credentialId);
    }
  }

  private current(area: AntiPassbackConfig, credentialId: string, now: number): Presence | undefined {
    const p = this.presence.get(keyOf(area.id, credentialId));
    if (!p) return undefined;
    if (area.resetAfterMin > 0 && now - p.movedAt >= area.resetAfterMin * 60_000) return undefined;
    return p;
  }
}
