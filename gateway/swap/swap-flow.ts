/**
 * The swap transaction of one cabinet, driven by its readings:
 *
 *   authorize → open an empty slot (phase `returning`, persisted first)
 *   → a pack seated, door closed and locked → check it (safety.ts `rejection`):
 *       refused: the slot is isolated (the pack kept locked for inspection), `swap.aborted rejected_pack`
 *       accepted: the fullest healthy pack chosen, phase `issuing` persisted, its slot opened
 *   → that pack gone, door closed → `swap.completed`.
 *
 * A door that relocks without the rider acting (the cabinet's open timeout) or no progress
 * within `swapTimeoutMs` aborts (`timeout`, or `door_not_closed` while a door stands open).
 * After a gateway restart the open transaction is read back from the store and judged on
 * the first reading: progress made meanwhile is taken up (a pack returned, a pack taken);
 * a door that relocked meanwhile aborts it with reason `restart`.
 */
import type { SwapConfig } from '../../config/swap-schema.js';
import type { SlotReading, SwapCommand } from '../../drivers/swap/types.js';
import type { Clock } from '../core/clock.js';
import { GatehouseError } from '../core/errors.js';
import type { EventDataMap, EventInput } from '../core/events.js';
import type { Logger } from '../core/log.js';
import { emptySlot, fullestHealthy, rejection } from './safety.js';
import type { PackRecord, SwapStore, SwapTransaction } from './transactions.js';

type AbortReason = 'timeout' | 'no_full_battery' | 'rejected_pack' | 'door_not_closed' | 'cancelled' | 'fire' | 'restart';

export interface SwapFlowDeps {
  cabinet: string;
  swap: SwapConfig;
  pollMs: number;
  store: SwapStore;
  clock: Clock;
  log: Logger;
  record(e: EventInput): void;
  send(cmd: SwapCommand): Promise<void>;
  isolate(slot: number, reason: 'rejected_pack', batteryId?: string): void;
  isolated(): ReadonlySet<number>;
}

const packOf = (s: SlotReading): PackRecord => ({
  slot: s.slot,
  batteryId: s.batteryId,
  soc: s.soc,
  energyWh: Math.round((s.soc / 100) * s.energyWh),
});

export class SwapFlow {
  private tx: SwapTransaction | undefined;
  /** Whether the open phase's door was seen unlocked since this process took it up. */
  private seenUnlocked = false;
  /** The pack chosen for issuing, as read when chosen. */
  private issuing: PackRecord | undefined;
  private last: readonly SlotReading[] = [];
  /** A transaction read back at start: judged on the first reading. */
  private resumed: boolean;

  constructor(private readonly d: SwapFlowDeps) {
    this.tx = d.store.open(d.cabinet);
    this.resumed = this.tx !== undefined;
    if (this.tx)
      d.log.warn({ cabinet: d.cabinet, swapId: this.tx.swapId, phase: this.tx.phase }, 'swap open before the restart: resuming it');
  }

  current(): SwapTransaction | undefined {
    return this.tx;
  }

  /** Whether a pack in `slot` is the cabinet's own stock (not a pack being returned or refused). */
  stocking(slot: number): boolean {
    if (this.tx?.phase === 'returning' && this.tx.returnSlot === slot) return false;
    return !this.d.isolated().has(slot);
  }

  private known = (id: string): boolean => this.d.store.isKnown(id) || this.d.swap.packIdPrefixes.some((p) => id.startsWith(p));

  /** Starts a swap: refused when one is open, no slot is empty or no pack could be issued. */
  async authorize(by: 'reader' | 'platform', principal: string | undefined): Promise<SwapTransaction> {
    const fail = (reason: string, message: string): GatehouseError =>
      new GatehouseError('DEVICE_REFUSED', `swap cabinet ${this.d.cabinet}: ${message}`, { cabinet: this.d.cabinet, reason });
    if (this.tx) throw fail('swap_in_progress', `swap ${this.tx.swapId} is still open`);
    if (this.last.length === 0) throw fail('no_reading', 'not read yet');
    const empty = emptySlot(this.last, this.d.isolated());
    if (!empty) throw fail('no_empty_slot', 'no empty slot for the returned pack');
    if (!fullestHealthy(this.last, this.d.isolated(), this.d.swap.minIssueSoc, this.d.swap.safety))
      throw fail('no_full_battery', `no healthy pack at or above ${this.d.swap.minIssueSoc} %`);
    // Persisted before the door opens: a restart from here on finds it.
    const tx = this.d.store.begin(this.d.cabinet, by, principal, empty.slot);
    this.tx = tx;
    this.seenUnlocked = false;
    this.resumed = false;
    this.d.record({
      class: 'charging',
      type: 'swap.started',
      source: { device: this.d.cabinet, point: `slot-${empty.slot}` },
      data: { cabinet: this.d.cabinet, swapId: tx.swapId, slot: empty.slot, authorizedBy: by, ...(principal ? { principal } : {}) },
    });
    await this.d.send({ kind: 'open', slot: empty.slot, timeoutS: this.d.swap.openTimeoutS }).catch((err: unknown) => {
      this.abort('door_not_closed');
      throw err;
    });
    return tx;
  }

  /** Ends the open swap without issuing; the doors relock by themselves (register map 10.4). */
  abort(reason: AbortReason, extra: Pick<EventDataMap['swap.aborted'], 'rejection' | 'slot' | 'batteryId'> = {}): boolean {
    const tx = this.tx;
    if (!tx) return false;
    this.d.store.end(tx, reason);
    this.tx = undefined;
    this.issuing = undefined;
    this.d.record({
      class: 'charging',
      type: 'swap.aborted',
      source: { device: this.d.cabinet, point: `slot-${extra.slot ?? tx.returnSlot}` },
      data: { cabinet: this.d.cabinet, swapId: tx.swapId, reason, slot: tx.returnSlot, ...extra },
    });
    return true;
  }

  onReading(slots: readonly SlotReading[]): void {
    this.last = slots;
    const tx = this.tx;
    if (!tx) return;
    const resumed = this.resumed;
    this.resumed = false;
    if (tx.phase === 'returning') this.returning(tx, slots[tx.returnSlot - 1], resumed);
    else this.issuingStep(tx, slots[(tx.issueSlot ?? 0) - 1], resumed);
    if (this.tx === tx && this.d.clock.now() - tx.phaseAt > this.d.swap.swapTimeoutMs) {
      const s = slots[(tx.phase === 'returning' ? tx.returnSlot : tx.issueSlot!) - 1];
      this.abort(s?.doorOpen ? 'door_not_closed' : 'timeout');
    }
  }

  private returning(tx: SwapTransaction, s: SlotReading | undefined, resumed: boolean): void {
    if (!s) return this.void(this.abort('timeout'));
    if (!s.doorLocked) this.seenUnlocked = true;
    if (s.present && s.doorLocked && !s.doorOpen) {
      const why = rejection(s, this.known, this.d.swap.safety);
      if (why) {
        this.d.isolate(s.slot, 'rejected_pack', s.batteryId || undefined);
        this.abort('rejected_pack', { rejection: why, slot: s.slot, ...(s.batteryId ? { batteryId: s.batteryId } : {}) });
        return;
      }
      const returned = packOf(s);
      this.d.store.learn(s.batteryId, this.d.cabinet);
      const full = fullestHealthy(this.last, this.d.isolated(), this.d.swap.minIssueSoc, this.d.swap.safety, s.slot);
      if (!full) return this.void(this.abort('no_full_battery', { slot: s.slot, batteryId: s.batteryId }));
      this.issuing = packOf(full);
      this.d.store.toIssuing(tx, returned, full.slot, this.issuing);
      this.seenUnlocked = false;
      void this.d.send({ kind: 'open', slot: full.slot, timeoutS: this.d.swap.openTimeoutS }).catch(() => this.abort('door_not_closed'));
      return;
    }
    // Relocked empty: the rider never came (the cabinet's timeout), or it happened while we were down.
    if (!s.present && s.doorLocked && !s.doorOpen && (this.seenUnlocked || resumed || this.openTimedOut(tx)))
      this.abort(resumed ? 'restart' : 'timeout');
  }

  private issuingStep(tx: SwapTransaction, s: SlotReading | undefined, resumed: boolean): void {
    if (!s) return this.void(this.abort('timeout'));
    if (!s.doorLocked) this.seenUnlocked = true;
    const issued = this.issuing ?? tx.issued;
    if (!s.present && s.doorLocked && !s.doorOpen && issued) {
      this.d.store.end(tx, 'completed', issued);
      this.tx = undefined;
      this.issuing = undefined;
      const returned = tx.returned!;
      this.d.record({
        class: 'charging',
        type: 'swap.completed',
        source: { device: this.d.cabinet, point: `slot-${issued.slot}` },
        data: {
          cabinet: this.d.cabinet,
          swapId: tx.swapId,
          returned,
          issued,
          energyWh: issued.energyWh - returned.energyWh,
          durationS: Math.max(0, Math.round((this.d.clock.now() - tx.startedAt) / 1000)),
        },
      });
      return;
    }
    if (s.present && s.doorLocked && !s.doorOpen && (this.seenUnlocked || resumed || this.openTimedOut(tx)))
      this.abort(resumed ? 'restart' : 'timeout', { slot: s.slot });
  }

  private openTimedOut(tx: SwapTransaction): boolean {
    return this.d.clock.now() - tx.phaseAt > this.d.swap.openTimeoutS * 1000 + 2 * this.d.pollMs;
  }

  private void(_: unknown): void {}
}
