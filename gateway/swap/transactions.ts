/**
 * Swap transactions, isolated slots and known packs in the `swap` owner's tables of
 * outbox.db: a transaction's phase is written (synchronously, better-sqlite3) before the
 * cabinet is told to act on it, so a gateway restart mid-swap finds it and resumes or
 * aborts it cleanly (swap-flow.ts), and an isolated slot stays isolated across restarts.
 */
import type { StoreScope } from '../store/scope.js';
import type { Clock } from '../core/clock.js';

/** `returning`: the empty slot is open for the rider's pack; `issuing`: the full pack's slot is open. */
export type SwapPhase = 'returning' | 'issuing';

export interface PackRecord {
  slot: number;
  batteryId: string;
  soc: number;
  energyWh: number;
}

export interface SwapTransaction {
  swapId: number;
  cabinet: string;
  phase: SwapPhase;
  authorizedBy: 'reader' | 'platform';
  principal: string | undefined;
  /** Wall ms. */
  startedAt: number;
  phaseAt: number;
  returnSlot: number;
  returned: PackRecord | undefined;
  issueSlot: number | undefined;
  /** The pack chosen for issuing, as read when chosen. */
  issued: PackRecord | undefined;
}

interface Row {
  swap_id: number;
  cabinet: string;
  phase: SwapPhase;
  authorized_by: 'reader' | 'platform';
  principal: string | null;
  started_at: number;
  phase_at: number;
  return_slot: number;
  returned: string | null;
  issue_slot: number | null;
  issued: string | null;
}

const fromRow = (r: Row): SwapTransaction => ({
  swapId: r.swap_id,
  cabinet: r.cabinet,
  phase: r.phase,
  authorizedBy: r.authorized_by,
  principal: r.principal ?? undefined,
  startedAt: r.started_at,
  phaseAt: r.phase_at,
  returnSlot: r.return_slot,
  returned: r.returned ? (JSON.parse(r.returned) as PackRecord) : undefined,
  issueSlot: r.issue_slot ?? undefined,
  issued: r.issued ? (JSON.parse(r.issued) as PackRecord) : undefined,
});

export class SwapStore {
  private readonly s;

  constructor(
    db: StoreScope,
    private readonly clock: Clock,
  ) {
    this.s = {
      open: db.prepare('SELECT * FROM swap_transactions WHERE cabinet = ? AND ended_at IS NULL'),
      allOpen: db.prepare('SELECT * FROM swap_transactions WHERE ended_at IS NULL'),
      insert: db.prepare(
        `INSERT INTO swap_transactions (cabinet, phase, authorized_by, principal, started_at, phase_at, return_slot)
         VALUES (?, 'returning', ?, ?, ?, ?, ?)`,
      ),
      issuing: db.prepare(
        "UPDATE swap_transactions SET phase = 'issuing', phase_at = ?, returned = ?, issue_slot = ?, issued = ? WHERE swap_id = ?",
      ),
      end: db.prepare('UPDATE swap_transactions SET ended_at = ?, outcome = ?, issued = ? WHERE swap_id = ? AND ended_at IS NULL'),
      isolated: db.prepare('SELECT slot, reason FROM swap_isolated WHERE cabinet = ?'),
      isolate: db.prepare('INSERT OR IGNORE INTO swap_isolated (cabinet, slot, reason, since) VALUES (?, ?, ?, ?)'),
      release: db.prepare('DELETE FROM swap_isolated WHERE cabinet = ? AND slot = ?'),
      known: db.prepare('SELECT 1 FROM swap_packs WHERE battery_id = ?'),
      learn: db.prepare('INSERT OR IGNORE INTO swap_packs (battery_id, first_seen, cabinet) VALUES (?, ?, ?)'),
      serial: db.prepare('SELECT serial FROM swap_serials WHERE cabinet = ?'),
      setSerial: db.prepare(`INSERT INTO swap_serials (cabinet, serial, seen) VALUES (?, ?, ?)
        ON CONFLICT(cabinet) DO UPDATE SET serial = excluded.serial, seen = excluded.seen`),
    };
  }

  open(cabinet: string): SwapTransaction | undefined {
    const r = this.s.open.get(cabinet) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  begin(cabinet: string, by: 'reader' | 'platform', principal: string | undefined, returnSlot: number): SwapTransaction {
    const now = this.clock.now();
    const info = this.s.insert.run(cabinet, by, principal ?? null, now, now, returnSlot);
    return this.open(cabinet) ?? ({ swapId: Number(info.lastInsertRowid) } as SwapTransaction);
  }

  toIssuing(t: SwapTransaction, returned: PackRecord, issueSlot: number, issued: PackRecord): void {
    const now = this.clock.now();
    this.s.issuing.run(now, JSON.stringify(returned), issueSlot, JSON.stringify(issued), t.swapId);
    Object.assign(t, { phase: 'issuing', phaseAt: now, returned, issueSlot, issued });
  }

  end(t: SwapTransaction, outcome: string, issued?: PackRecord): void {
    this.s.end.run(this.clock.now(), outcome, issued ? JSON.stringify(issued) : null, t.swapId);
  }

  isolatedSlots(cabinet: string): Map<number, string> {
    return new Map((this.s.isolated.all(cabinet) as { slot: number; reason: string }[]).map((r) => [r.slot, r.reason]));
  }

  isolate(cabinet: string, slot: number, reason: string): void {
    this.s.isolate.run(cabinet, slot, reason, this.clock.now());
  }

  release(cabinet: string, slot: number): void {
    this.s.release.run(cabinet, slot);
  }

  isKnown(batteryId: string): boolean {
    return this.s.known.get(batteryId) !== undefined;
  }

  learn(batteryId: string, cabinet: string): void {
    this.s.learn.run(batteryId, this.clock.now(), cabinet);
  }

  /** The serial last identified on a cabinet's unit id, across restarts (device.replaced). */
  serial(cabinet: string): string | undefined {
    return (this.s.serial.get(cabinet) as { serial: string } | undefined)?.serial;
  }

  setSerial(cabinet: string, serial: string): void {
    this.s.setSerial.run(cabinet, serial, this.clock.now());
  }
}
