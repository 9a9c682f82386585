/**
 * Cabinet cuts that only an operator may release (smoke, over-temperature, unsupervised),
 * kept in the `charging_latches` table of the outbox database beside the charging sessions
 * (sessions.ts says why one database). A latch written here survives a gateway restart or a
 * power cut: the gateway comes back, sees the contactor of a rebooted cabinet closed again
 * and opens it, instead of forgetting that the cabinet smoked. Writes are synchronous
 * (better-sqlite3) and happen after the cut is queued on the bus, never before it.
 * The cabinets' serial numbers are kept here too (CabinetSerials), for device.replaced.
 */
import type { StoreScope } from '../store/scope.js';
import type { Clock } from '../core/clock.js';
import type { CabinetCutReason } from './safety.js';

export interface CabinetLatch {
  cabinet: string;
  reason: CabinetCutReason;
  /** Wall ms when the cut latched. */
  since: number;
}

const REASONS: readonly CabinetCutReason[] = ['smoke', 'over_temperature', 'unsupervised'];

export class CabinetLatches {
  private readonly stmts;

  constructor(
    db: StoreScope,
    private readonly clock: Clock,
  ) {
    this.stmts = {
      get: db.prepare('SELECT cabinet, reason, since FROM charging_latches WHERE cabinet = ?'),
      put: db.prepare(
        'INSERT INTO charging_latches (cabinet, reason, since) VALUES (?, ?, ?) ON CONFLICT(cabinet) DO UPDATE SET reason = excluded.reason',
      ),
      clear: db.prepare('DELETE FROM charging_latches WHERE cabinet = ?'),
    };
  }

  get(cabinet: string): CabinetLatch | undefined {
    const row = this.stmts.get.get(cabinet) as { cabinet: string; reason: string; since: number } | undefined;
    if (!row) return undefined;
    // A reason this version does not know is still a latch: keep the cabinet cut, as for smoke.
    const reason = (REASONS as readonly string[]).includes(row.reason) ? (row.reason as CabinetCutReason) : 'smoke';
    return { cabinet: row.cabinet, reason, since: row.since };
  }

  /** Records (or updates the cause of) the latch of a cabinet. */
  set(cabinet: string, reason: CabinetCutReason): void {
    this.stmts.put.run(cabinet, reason, this.clock.now());
  }

  clear(cabinet: string): void {
    this.stmts.clear.run(cabinet);
  }
}

/**
 * The serial number last identified per cabinet, so a cabinet swapped while the gateway was
 * stopped is still reported as `device.replaced` at the next start. Written only when it
 * changes (first identification, or a replacement).
 */
export class CabinetSerials {
  private readonly stmts;

  constructor(
    db: StoreScope,
    private readonly clock: Clock,
  ) {
    this.stmts = {
      get: db.prepare('SELECT serial FROM cabinet_serials WHERE cabinet = ?'),
      put: db.prepare(`INSERT INTO cabinet_serials (cabinet, serial, seen) VALUES (?, ?, ?)
        ON CONFLICT(cabinet) DO UPDATE SET serial = excluded.serial, seen = excluded.seen`),
    };
  }

  get(cabinet: string): string | undefined {
    return (this.stmts.get.get(cabinet) as { serial: string } | undefined)?.serial;
  }

  set(cabinet: string, serial: string): void {
    this.stmts.put.run(cabinet, serial, this.clock.now());
  }
}
