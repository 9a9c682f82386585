/**
 * Dead-unit isolation of a Modbus bus: per unit id, what answered and what failed, when a
 * unit is dead (`deadAfter` consecutive failures) and when the next probe of a dead unit may
 * go out (doubling backoff). A unit that answers anything, even an exception, is alive.
 * Online/offline changes are logged here and reported through the callbacks.
 */
import type { Clock } from '../../gateway/core/clock.js';
import type { Logger } from '../../gateway/core/log.js';
import type { Backoff, BusStats, UnitOfflineReason, UnitState } from './bus-types.js';

export interface UnitHealthOptions {
  name: string;
  deadAfter: number;
  backoff: Backoff;
  clock: Clock;
  log: Logger;
  onOnline: (unitId: number) => void;
  onOffline: (unitId: number, reason: UnitOfflineReason) => void;
  /** A unit just died: its queued requests would each cost a full timeout, so they fail now. */
  dropQueued: (unitId: number, reason: UnitOfflineReason) => void;
}

export class UnitHealth {
  private readonly units = new Map<number, UnitState>();

  constructor(private readonly o: UnitHealthOptions) {}

  unit(unitId: number): UnitState {
    let u = this.units.get(unitId);
    if (!u) {
      u = {
        unitId,
        ok: 0,
        timeouts: 0,
        badFrames: 0,
        exceptions: 0,
        consecutiveFailures: 0,
        lastOkAt: null,
        dead: false,
        online: null,
        nextProbeAt: null,
        probeDelay: this.o.backoff.minMs,
        probing: false,
      };
      this.units.set(unitId, u);
    }
    return u;
  }

  isDead(unitId: number): boolean {
    return this.units.get(unitId)?.dead === true;
  }

  stats(): BusStats['units'] {
    return [...this.units.values()].sort((a, b) => a.unitId - b.unitId).map(({ probeDelay: _d, probing: _p, ...s }) => ({ ...s }));
  }

  /**
   * Whether a request to a dead unit may go out now as its probe (one at a time, and only
   * when its backoff step has elapsed: that is the isolation); `retryInMs` when it may not.
   */
  admit(u: UnitState): { probe: boolean } | { retryInMs: number } {
    if (!u.dead) return { probe: false };
    const now = this.o.clock.monotonic();
    if (u.probing || u.nextProbeAt === null || now < u.nextProbeAt) return { retryInMs: Math.max(0, (u.nextProbeAt ?? now) - now) };
    u.probing = true;
    return { probe: true };
  }

  /** A timeout or a bad frame; the unit may die of it. */
  failed(u: UnitState, kind: 'timeout' | 'bad_frame', probe: boolean): void {
    if (kind === 'timeout') u.timeouts++;
    else u.badFrames++;
    u.consecutiveFailures++;
    if (probe) {
      // The unit is still dead: the next probe waits twice as long.
      u.probeDelay = Math.min(u.probeDelay * 2, this.o.backoff.maxMs);
      u.nextProbeAt = this.o.clock.monotonic() + u.probeDelay;
    } else if (!u.dead && u.consecutiveFailures >= this.o.deadAfter) {
      this.markDead(u, kind);
    }
  }

  alive(u: UnitState): void {
    u.consecutiveFailures = 0;
    u.lastOkAt = this.o.clock.monotonic();
    const wasDead = u.dead;
    u.dead = false;
    u.nextProbeAt = null;
    u.probeDelay = this.o.backoff.minMs;
    if (u.online !== true) {
      u.online = true;
      this.o.log.info({ bus: this.o.name, unitId: u.unitId, wasDead }, 'modbus unit online');
      this.o.onOnline(u.unitId);
    }
  }

  private markDead(u: UnitState, reason: UnitOfflineReason): void {
    u.dead = true;
    u.probeDelay = this.o.backoff.minMs;
    u.nextProbeAt = this.o.clock.monotonic() + u.probeDelay;
    this.o.dropQueued(u.unitId, reason);
    if (u.online !== false) {
      u.online = false;
      this.o.log.warn({ bus: this.o.name, unitId: u.unitId, reason, failures: u.consecutiveFailures }, 'modbus unit offline');
      this.o.onOffline(u.unitId, reason);
    }
  }

  /**
   * The link is back. The other end may have rebooted or been replaced while we were away:
   * every unit gets a fresh chance instead of keeping its old probe backoff.
   */
  freshLink(): void {
    for (const u of this.units.values()) {
      u.dead = false;
      u.consecutiveFailures = 0;
      u.nextProbeAt = null;
      u.probeDelay = this.o.backoff.minMs;
      u.probing = false;
    }
  }

  /** The link is gone: every unit that was online is offline with it. */
  linkLost(): void {
    for (const u of this.units.values()) {
      if (u.online === true) {
        u.online = false;
        this.o.onOffline(u.unitId, 'bus_down');
      }
    }
  }
}
