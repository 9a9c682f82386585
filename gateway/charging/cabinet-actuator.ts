/**
 * What a cabinet unit does with the interlock's decisions, and the operator's way out of a
 * latched cut. Apart from the poll loop (cabinet-unit.ts) so that the order of work stays
 * readable in one place:
 *   1. power actions go on the bus at high priority, not awaited (a slow disk or uplink
 *      delays a record, never a cut);
 *   2. a new latch is written to the `charging_latches` table (after the cut is queued);
 *   3. the events that only inform; an alarm event is followed by its condition on the
 *      alarm sink (kinds and priorities in alarm-kinds.ts).
 * `release` is charging.reset: refused while the cause is still read, otherwise the latch is
 * cleared durably first, then the contactor closed (cabinet command 2).
 */
import type { ChargingSafetyConfig } from '../../config/schema.js';
import type { CabinetCommand, CabinetReading, StopReason } from '../../drivers/cabinet/types.js';
import type { Clock } from '../core/clock.js';
import type { CommandContext } from '../commands/types.js';
import { GatehouseError } from '../core/errors.js';
import type { EventInput } from '../core/events.js';
import type { Logger } from '../core/log.js';
import { conditionOfEvent, reportCondition } from '../alarms/report.js';
import type { AlarmSink } from '../alarms/types.js';
import { safetyEvent } from './cabinet-events.js';
import type { CabinetLatches } from './latches.js';
import { TEMP_HYSTERESIS_C, energised, type CabinetCutReason, type SafetyAction, type SafetyInterlock } from './safety.js';

export interface ActuatorDeps {
  cabinet: string;
  interlock: SafetyInterlock;
  latches: CabinetLatches;
  safety: ChargingSafetyConfig;
  pollMs: number;
  clock: Clock;
  log: Logger;
  /** Writes one command at high priority; safety writes are not awaited. */
  send(cmd: CabinetCommand, why: 'safety' | 'command'): Promise<void>;
  record(e: EventInput): void;
  /** Where the safety alarms go, after their raw event is recorded. */
  sink: AlarmSink;
  /** A port was commanded off: not a local start until it reads de-energised. */
  stopping(port: number): void;
}

export class SafetyActuator {
  /** The latch reason last persisted, to write the table only when it changes. */
  private persisted: CabinetCutReason | null;

  constructor(
    private readonly d: ActuatorDeps,
    persisted: CabinetCutReason | null,
  ) {
    this.persisted = persisted;
  }

  /**
   * Carries out the power actions, then persists a new latch. Returns the stop reason per
   * port. With `inform`, also records the events of the actions (a reading records them
   * itself, after the presence event).
   */
  apply(actions: readonly SafetyAction[], reading: CabinetReading | undefined, inform = true): Map<number, StopReason> {
    const stopReasons = new Map<number, StopReason>();
    const stopped = new Set<number>();
    const stopPort = (port: number) => {
      if (stopped.has(port)) return;
      stopped.add(port);
      this.d.stopping(port);
      void this.d.send({ kind: 'stop', port }, 'safety');
    };
    for (const a of actions) {
      if (a.kind === 'cutCabinet') {
        void this.d.send({ kind: 'cabinetPower', on: false }, 'safety');
        for (const p of reading?.ports ?? []) if (energised(p)) stopPort(p.port);
      } else if (a.kind === 'stopPort') {
        stopPort(a.port);
        // A port that lost its output with the mains is a mains loss, not a port fault.
        stopReasons.set(a.port, a.reason === 'fault' && reading && !reading.status.mainsPresent ? 'mains_loss' : a.reason);
      } else if (a.kind === 'limitPower') {
        void this.d.send({ kind: 'setLimit', port: a.port, powerLimitW: a.powerLimitW }, 'safety');
      }
    }
    this.persist();
    if (inform) this.inform(actions);
    return stopReasons;
  }

  inform(actions: readonly SafetyAction[]): void {
    for (const a of actions) {
      const e = safetyEvent(this.d.cabinet, a);
      if (!e) continue;
      if (e.class === 'alarm') this.d.log.warn({ cabinet: this.d.cabinet, type: e.type, data: e.data }, 'charging alarm');
      this.d.record(e);
      if (e.class === 'alarm') reportCondition(this.d.sink, conditionOfEvent(e), this.d.log);
    }
  }

  /** Writes the latch table when the interlock's latch changed; a failing disk never stops the cut (already queued). */
  private persist(): void {
    const latched = this.d.interlock.latched();
    if (latched === this.persisted) return;
    try {
      if (latched) this.d.latches.set(this.d.cabinet, latched);
      else this.d.latches.clear(this.d.cabinet);
      this.persisted = latched;
    } catch (err) {
      this.d.log.error(
        { cabinet: this.d.cabinet, latched, err: (err as Error).message },
        'could not persist the cabinet latch; it holds until the gateway restarts',
      );
    }
  }

  /** charging.reset, with the unit's last reading (undefined or `online` false: refused as offline). */
  async release(reason: string, ctx: CommandContext, last: CabinetReading | undefined, online: boolean): Promise<Record<string, unknown>> {
    const { cabinet, interlock } = this.d;
    if (!online || !last)
      throw new GatehouseError('DEVICE_OFFLINE', `cabinet ${cabinet} is offline: a reset needs a fresh reading`, { cabinet });
    const latched = interlock.latched();
    if (!latched && last.status.powerOn) {
      throw new GatehouseError('DEVICE_REFUSED', `cabinet ${cabinet} is not cut off: nothing to reset`, { cabinet, reason: 'not_latched' });
    }
    // A reading older than three polls proves nothing about the cause.
    if (this.d.clock.monotonic() - last.at > 3 * this.d.pollMs + 1000) {
      throw new GatehouseError('DEVICE_REFUSED', `cabinet ${cabinet} has not been read for a while: try the reset again in a moment`, {
        cabinet,
        reason: 'no_fresh_reading',
      });
    }
    const cause = this.causePresent(last);
    if (cause) {
      const message = `cabinet ${cabinet} still reports ${cause.replace('_', ' ')}: it stays cut off until the cause is gone`;
      throw new GatehouseError('DEVICE_REFUSED', message, { cabinet, reason: 'cause_present', cause });
    }
    // Durably first: if the table cannot be written, the reset fails and nothing changed.
    this.d.latches.clear(cabinet);
    this.persisted = null;
    interlock.resetCut();
    const who = { principal: ctx.caller.principal, via: ctx.caller.via };
    this.d.log.warn({ cabinet, released: latched, ...who, reason }, 'cabinet latch released by an operator');
    this.d.record({
      class: 'charging',
      type: 'charging.reset',
      source: { device: cabinet },
      data: { cabinet, cause: latched, reason, ...who },
    });
    if (latched === 'smoke' || latched === 'over_temperature')
      this.inform([{ kind: 'restoreAlarm', alarm: 'fire', value: last.status.temperature }]);
    await this.d.send({ kind: 'cabinetPower', on: true }, 'command');
    return { cabinet, released: latched, powerOn: true };
  }

  /** What still stands in the way of a reset, as the last reading shows it. */
  private causePresent(last: CabinetReading): CabinetCutReason | null {
    const st = last.status;
    if (this.d.interlock.unsupervised() || (last.faults ?? []).some((f) => f.safety)) return 'unsupervised';
    if (st.smoke) return 'smoke';
    if (st.temperature >= this.d.safety.cabinetMaxTempC - TEMP_HYSTERESIS_C) return 'over_temperature';
    return null;
  }
}
