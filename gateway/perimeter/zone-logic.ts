/**
 * One perimeter zone, pure: poll samples in, alarm conditions out through the AlarmSink.
 * No timers and no I/O: every call carries its time, so a test drives it sample by sample.
 *
 * Per sample, in this order:
 *   1. supervision: the module's fault bit for the channel (line cut or shorted), debounced;
 *      while it is set the input means nothing, so the input stage is frozen;
 *   2. contact: NC inputs are active while all is well, NO inputs while tripped;
 *   3. debounce: a change counts once it has held `debounceMs`, measured between the poll
 *      timestamps (the first sample showing it and a later one still showing it);
 *   4. pulses (IR beams): only the `count`-th trip within `windowMs` puts the zone in alarm,
 *      a bird crossing once does not; the alarm ends when the input is back to normal;
 *   5. type: perimeter zones report only while their partition is armed, and a zone already
 *      tripped when it is armed is "not ready" (reported in the arm result, not raised) until
 *      it has been back to normal once; h24/panic/fire are always armed;
 *   6. bypass: a bypassed zone raises nothing (what it had raised is cleared); when the
 *      bypass ends, whatever still holds is raised then.
 *
 * Conditions: a raise on each transition into alarm (the AlarmManager counts re-triggers
 * on the open alarm), a clear on the way out.
 */
import type { AlarmPriority, ZoneConfig } from '../../config/schema.js';
import type { AlarmSink } from '../alarms/types.js';

export type ZoneType = ZoneConfig['type'];
export type ZoneState = 'normal' | 'alarm' | 'fault' | 'bypassed';

/** Condition kind and default priority per zone type. */
export const ZONE_ALARM: Record<ZoneType, { kind: string; priority: AlarmPriority }> = {
  perimeter: { kind: 'zone.alarm', priority: 'high' },
  h24: { kind: 'zone.tamper', priority: 'high' },
  panic: { kind: 'zone.panic', priority: 'critical' },
  fire: { kind: 'zone.fire', priority: 'critical' },
};
export const ZONE_FAULT = { kind: 'zone.fault', priority: 'medium' as AlarmPriority };

/** A boolean that changes only once a new value has held `ms` across sample timestamps. */
export class Debouncer {
  private since: number | null = null;

  /** `slackMs`: polls run on timers, and one a few ms early must not cost a whole extra period. */
  constructor(
    private readonly ms: number,
    public value = false,
    private readonly slackMs = 0,
  ) {}

  /** Feeds one sample; true when the debounced value changed. */
  update(raw: boolean, at: number): boolean {
    if (raw === this.value) {
      this.since = null;
      return false;
    }
    this.since ??= at;
    if (at - this.since < this.ms - this.slackMs) return false;
    this.value = raw;
    this.since = null;
    return true;
  }

  /** Forgets a change seen but not yet confirmed. */
  forget(): void {
    this.since = null;
  }
}

export interface ZoneSnapshot {
  state: ZoneState;
  /** Whether the zone reports alarms now (perimeter: its partition is armed; others: always). */
  armed: boolean;
  /** Tripped when its partition was armed and not back to normal since. */
  notReady: boolean;
  /** Wall ms the bypass ends, when bypassed. */
  bypassedUntil: number | null;
  /** A condition is raised right now (alarm or fault). */
  raised: boolean;
}

export class ZoneLogic {
  readonly id: string;
  readonly type: ZoneType;
  readonly partition: string | undefined;
  readonly module: string;
  readonly channel: number;
  private readonly input: Debouncer;
  private readonly fault: Debouncer;
  private pulses: number[] = [];
  /** In alarm after contact, debounce and pulse counting. */
  private triggered = false;
  private armed: boolean;
  private notReady = false;
  private bypassUntil: number | null = null;
  private alarmRaised = false;
  private faultRaised = false;
  private readonly data: Record<string, unknown>;

  /**
   * `debounceSlackMs`: tolerance on the debounce for poll timing jitter (the service passes
   * a few ms); 0 in the pure tests, where sample times are exact.
   */
  constructor(
    private readonly cfg: ZoneConfig,
    private readonly sink: AlarmSink,
    opts: { debounceSlackMs?: number } = {},
  ) {
    this.id = cfg.id;
    this.type = cfg.type;
    this.partition = cfg.partition;
    this.module = cfg.module;
    this.channel = cfg.channel;
    const slack = cfg.debounceMs > 0 ? (opts.debounceSlackMs ?? 0) : 0;
    this.input = new Debouncer(cfg.debounceMs, false, slack);
    this.fault = new Debouncer(cfg.debounceMs, false, slack);
    this.armed = cfg.type !== 'perimeter';
    this.data = {
      zone: cfg.id,
      type: cfg.type,
      module: cfg.module,
      channel: cfg.channel,
      ...(cfg.name ? { name: cfg.name } : {}),
      ...(cfg.partition ? { partition: cfg.partition } : {}),
    };
  }

  /** One poll of the module: the channel's input bit and supervision bit, at poll time `at` (ms). */
  sample(active: boolean, faultBit: boolean, at: number): void {
    this.fault.update(faultBit, at);
    if (this.fault.value) {
      // A cut or shorted line reads whatever the cut makes it read: not an intruder.
      this.input.forget();
    } else if (this.input.update(this.cfg.contact === 'NC' ? !active : active, at)) {
      this.onInputChange(at);
    }
    this.evaluate();
  }

  private onInputChange(at: number): void {
    if (!this.input.value) {
      this.triggered = false;
      this.notReady = false;
      return;
    }
    const p = this.cfg.pulses;
    if (!p) {
      this.triggered = true;
      return;
    }
    this.pulses = this.pulses.filter((t) => at - t < p.windowMs);
    this.pulses.push(at);
    if (this.pulses.length >= p.count) {
      this.triggered = true;
      this.pulses = [];
    }
  }

  /**
   * Arms or disarms a perimeter zone (others are always armed and ignore it). Returns true
   * when the zone is tripped at arming: not ready, so not raised until it has been normal.
   */
  setArmed(armed: boolean): boolean {
    if (this.type !== 'perimeter') return false;
    if (armed === this.armed) return this.notReady;
    this.armed = armed;
    this.notReady = armed && this.input.value && !this.fault.value && this.bypassUntil === null;
    this.evaluate();
    return this.notReady;
  }

  bypass(untilWall: number): void {
    this.bypassUntil = untilWall;
    this.evaluate();
  }

  unbypass(): void {
    if (this.bypassUntil === null) return;
    this.bypassUntil = null;
    this.evaluate();
  }

  /** Ends a bypass whose time has come; true when it did. */
  expire(nowWall: number): boolean {
    if (this.bypassUntil === null || nowWall < this.bypassUntil) return false;
    this.unbypass();
    return true;
  }

  get bypassedUntil(): number | null {
    return this.bypassUntil;
  }

  private evaluate(): void {
    const bypassed = this.bypassUntil !== null;
    const faultOn = this.fault.value && !bypassed;
    const alarmOn = this.triggered && !this.fault.value && !bypassed && this.armed && !this.notReady;
    const source = { device: this.id };
    if (alarmOn !== this.alarmRaised) {
      this.alarmRaised = alarmOn;
      const { kind, priority } = ZONE_ALARM[this.type];
      if (alarmOn) this.sink.raise({ kind, source, priority, data: { ...this.data } });
      else this.sink.clear(kind, source);
    }
    if (faultOn !== this.faultRaised) {
      this.faultRaised = faultOn;
      if (faultOn) this.sink.raise({ kind: ZONE_FAULT.kind, source, priority: ZONE_FAULT.priority, data: { ...this.data } });
      else this.sink.clear(ZONE_FAULT.kind, source);
    }
  }

  snapshot(): ZoneSnapshot {
    const state: ZoneState = this.bypassUntil !== null ? 'bypassed' : this.fault.value ? 'fault' : this.triggered ? 'alarm' : 'normal';
    return {
      state,
      armed: this.armed,
      notReady: this.notReady,
      bypassedUntil: this.bypassUntil,
      raised: this.alarmRaised || this.faultRaised,
    };
  }
}
