/**
 * Local safety interlocks of one charging cabinet, as a pure function of the latest
 * readings. It decides; the cabinet service carries the actions out (bus writes first,
 * then events), so nothing here waits on the uplink, the disk or the wire.
 *
 * Rules (issue 3), most severe first:
 * - smoke, or cabinet over-temperature → cut the cabinet's contactor, stop every energised
 *   port, raise a critical fire alarm. Latched until an operator resets it: a smoke
 *   detector that clears while a battery smoulders must not switch power back on.
 * - port over-current → stop the port (+ high alarm). One reading above 1.5× the limit acts
 *   at once (a short); a milder excess must be seen on two polls running, because a
 *   charger's inrush at plug-in is not a fault.
 * - port over-temperature → stop the port + high alarm.
 * - port fault state during a session → stop the port (reason fault) + high alarm.
 * - power above the per-port cap → limit the port to the cap.
 * - maximum session duration → stop (max_duration); full detection (power under
 *   `fullPowerW` for `fullForMin` while charging) → stop (full).
 * - mains under `mainsMinV` or absent → mainsLost; back above it (+10 V) → mainsRestored.
 * - supervision (issue 11): each safety field (smoke, cabinet temperature, mains, port
 *   current and temperature) is evaluated on its own; a field that could not be decoded is
 *   skipped, never guessed. A poll with any safety field unknown, or no reading at all from a
 *   cabinet that answers (`blind`), counts towards `unsupervisedAfterPolls`; reaching it
 *   raises `cabinet.unsupervised` (high) and, with policy `cut`, cuts the cabinet, latched
 *   like smoke (reason `unsupervised`): nobody knows what happened while we were blind.
 *
 * Idempotence: every action is taken once per episode, tracked in SafetyState. An action
 * is repeated only if the cabinet visibly did not obey it (port still energised, contactor
 * still on, limit not in force) `reassertAfterMs` after it was sent; alarms never repeat
 * within an episode. A condition that clears re-arms its rule (with hysteresis for
 * temperatures) and reports `restoreAlarm`.
 */
import type { ChargingSafetyConfig } from '../../config/schema.js';
import type { CabinetReading, PortReading, StopReason } from '../../drivers/cabinet/types.js';

export type CabinetCutReason = 'smoke' | 'over_temperature' | 'unsupervised';
export type SafetyAlarmKind = 'fire' | 'port_over_temperature' | 'port_over_current' | 'port_fault' | 'unsupervised';

export type SafetyAction =
  | { kind: 'cutCabinet'; reason: CabinetCutReason }
  | { kind: 'stopPort'; port: number; reason: StopReason }
  | { kind: 'limitPower'; port: number; powerLimitW: number }
  | { kind: 'raiseAlarm'; alarm: SafetyAlarmKind; priority: 'critical' | 'high'; port?: number; cause?: CabinetCutReason; value?: number }
  /** The condition behind a raised alarm is gone; the alarm itself stays for a human to acknowledge. */
  | { kind: 'restoreAlarm'; alarm: SafetyAlarmKind; port?: number; value?: number }
  | { kind: 'mainsLost'; voltage: number }
  | { kind: 'mainsRestored'; voltage: number };

/** What the safety logic needs to know about an active charging session. */
export interface ActiveSession {
  port: number;
  /** Monotonic ms when the session started (the service rebases persisted sessions after a restart). */
  startedAt: number;
}

interface PortSafety {
  /** The last stop sent in the current episode. */
  stop: { reason: StopReason; at: number } | null;
  limitAt: number | null;
  overTemp: boolean;
  overCurrent: boolean;
  fault: boolean;
  lowPowerSince: number | null;
}

export interface SafetyState {
  cut: { reason: CabinetCutReason; at: number } | null;
  mainsLost: boolean;
  ports: Record<number, PortSafety>;
  /** Polls in a row without every safety field known. */
  blindPolls: number;
  unsupervised: boolean;
}

export function initialSafetyState(): SafetyState {
  return { cut: null, mainsLost: false, ports: {}, blindPolls: 0, unsupervised: false };
}

/** An operator declared the cabinet safe again (after smoke or over-temperature): unlatch the cut. */
export function resetCabinetCut(state: SafetyState): SafetyState {
  return { ...state, cut: null };
}

/** Degrees under the limit a temperature must fall before its rule re-arms, so a sensor hovering at the limit does not flap. */
export const TEMP_HYSTERESIS_C = 5;
const MAINS_HYSTERESIS_V = 10;
/** Above this multiple of the current limit one reading is enough: that is a short, not inrush. */
const SHORT_FACTOR = 1.5;
/** Below this current a port is not drawing anything (meter noise). */
const IDLE_CURRENT_A = 0.05;
const STOP_SEVERITY: StopReason[] = [
  'smoke',
  'over_current',
  'over_temperature',
  'unsupervised',
  'fault',
  'mains_loss',
  'max_duration',
  'full',
  'unplugged',
  'remote',
  'local',
  'reboot',
];

export function energised(p: PortReading): boolean {
  // A port whose state cannot be read may be charging: a stop is never refused, so it gets one.
  return p.state === 'charging' || p.state === 'finishing' || p.state === 'unknown' || p.current > IDLE_CURRENT_A;
}

/**
 * Pure: returns the actions and the next state; `state` is not modified. Actions come in
 * the order they should be carried out (cabinet cut before per-port stops).
 */
export function evaluate(
  state: SafetyState,
  prev: CabinetReading | undefined,
  now: CabinetReading,
  sessions: readonly ActiveSession[],
  cfg: ChargingSafetyConfig,
  nowMono: number,
): { actions: SafetyAction[]; state: SafetyState } {
  const actions: SafetyAction[] = [];
  const next: SafetyState = {
    cut: state.cut,
    mainsLost: state.mainsLost,
    ports: {},
    blindPolls: state.blindPolls,
    unsupervised: state.unsupervised,
  };
  const due = (at: number | null) => at === null || nowMono - at >= cfg.reassertAfterMs;
  const st = now.status;
  const unknown = new Set((now.faults ?? []).filter((f) => f.safety).map((f) => f.field));

  // Cabinet-wide: smoke wins over temperature as the recorded cause; both win over unsupervised.
  const smoke = st.smoke && !unknown.has('smoke');
  const cutCause: CabinetCutReason | null = smoke ? 'smoke' : st.temperature >= cfg.cabinetMaxTempC ? 'over_temperature' : null;
  if (cutCause && (!next.cut || next.cut.reason === 'unsupervised')) {
    const already = next.cut !== null;
    next.cut = { reason: cutCause, at: nowMono };
    if (!already || st.powerOn) actions.push({ kind: 'cutCabinet', reason: cutCause });
    actions.push({
      kind: 'raiseAlarm',
      alarm: 'fire',
      priority: 'critical',
      cause: cutCause,
      value: cutCause === 'smoke' ? 1 : st.temperature,
    });
  } else if (next.cut && st.powerOn && due(next.cut.at)) {
    // Latched but the contactor is still on (the cut did not take, or the cabinet rebooted): send it again.
    next.cut = { ...next.cut, at: nowMono };
    actions.push({ kind: 'cutCabinet', reason: next.cut.reason });
  }
  supervise(next, unknown.size > 0, cfg, nowMono, actions);

  const mainsKnown = !unknown.has('mainsPresent');
  const mainsBad = mainsKnown && (!st.mainsPresent || st.mainsVoltage < cfg.mainsMinV);
  if (mainsBad && !state.mainsLost) {
    next.mainsLost = true;
    actions.push({ kind: 'mainsLost', voltage: st.mainsVoltage });
  } else if (state.mainsLost && mainsKnown && st.mainsPresent && st.mainsVoltage >= cfg.mainsMinV + MAINS_HYSTERESIS_V) {
    next.mainsLost = false;
    actions.push({ kind: 'mainsRestored', voltage: st.mainsVoltage });
  }

  const sessionByPort = new Map(sessions.map((s) => [s.port, s]));
  const prevByPort = new Map((prev?.ports ?? []).map((p) => [p.port, p]));
  for (const p of now.ports) {
    const old = state.ports[p.port];
    const ps: PortSafety = old
      ? { ...old }
      : { stop: null, limitAt: null, overTemp: false, overCurrent: false, fault: false, lowPowerSince: null };
    next.ports[p.port] = ps;
    const session = sessionByPort.get(p.port);
    const live = energised(p);

    const reasons: StopReason[] = [];
    if (next.cut) reasons.push(next.cut.reason);

    const before = prevByPort.get(p.port);
    const overCurrentNow =
      p.current > cfg.portMaxCurrentA &&
      (p.current > cfg.portMaxCurrentA * SHORT_FACTOR || (before !== undefined && before.current > cfg.portMaxCurrentA));
    if (overCurrentNow) {
      reasons.push('over_current');
      if (!ps.overCurrent) {
        ps.overCurrent = true;
        actions.push({ kind: 'raiseAlarm', alarm: 'port_over_current', priority: 'high', port: p.port, value: p.current });
      }
    } else if (ps.overCurrent && p.current <= cfg.portMaxCurrentA) {
      ps.overCurrent = false;
      actions.push({ kind: 'restoreAlarm', alarm: 'port_over_current', port: p.port, value: p.current });
    }

    if (p.temperature >= cfg.portMaxTempC) {
      reasons.push('over_temperature');
      if (!ps.overTemp) {
        ps.overTemp = true;
        actions.push({ kind: 'raiseAlarm', alarm: 'port_over_temperature', priority: 'high', port: p.port, value: p.temperature });
      }
    } else if (ps.overTemp && p.temperature < cfg.portMaxTempC - TEMP_HYSTERESIS_C) {
      ps.overTemp = false;
      actions.push({ kind: 'restoreAlarm', alarm: 'port_over_temperature', port: p.port, value: p.temperature });
    }

    if (p.state === 'fault' && (session || live)) {
      reasons.push('fault');
      if (!ps.fault) {
        ps.fault = true;
        actions.push({ kind: 'raiseAlarm', alarm: 'port_fault', priority: 'high', port: p.port, value: p.faultCode });
      }
    } else if (ps.fault && p.state !== 'fault') {
      ps.fault = false;
      actions.push({ kind: 'restoreAlarm', alarm: 'port_fault', port: p.port, value: p.faultCode });
    }

    if (session && nowMono - session.startedAt >= cfg.maxSessionMin * 60_000) reasons.push('max_duration');

    // Full: only while the port says it is charging, so a paused or unplugged port is not "full".
    if (session && (p.state === 'charging' || p.state === 'finishing') && p.power < cfg.fullPowerW) {
      ps.lowPowerSince ??= nowMono;
      if (nowMono - ps.lowPowerSince >= cfg.fullForMin * 60_000) reasons.push('full');
    } else ps.lowPowerSince = null;

    if (reasons.length > 0 && (live || session)) {
      const reason = mostSevere(reasons);
      // Once per episode; again only if the port is still energised after the reassert delay
      // (the cabinet did not obey), or if a more severe reason appeared (the session must end
      // with the true cause).
      const escalated = ps.stop !== null && severity(reason) < severity(ps.stop.reason);
      if (ps.stop === null || escalated || (live && due(ps.stop.at))) {
        ps.stop = { reason: escalated || ps.stop === null ? reason : ps.stop.reason, at: nowMono };
        actions.push({ kind: 'stopPort', port: p.port, reason: ps.stop.reason });
      }
    } else if (reasons.length === 0 && !live) {
      // The stop took effect and its cause is gone: the episode is over, a later one stops again.
      ps.stop = null;
    }
    if (reasons.length === 0 && live && p.power > cfg.perPortPowerCapW) {
      // First time at once; then again only while the port stays over the cap after the
      // reassert delay (the limit was lost or ignored).
      if (due(ps.limitAt)) {
        ps.limitAt = nowMono;
        actions.push({ kind: 'limitPower', port: p.port, powerLimitW: cfg.perPortPowerCapW });
      }
    } else if (p.power <= cfg.perPortPowerCapW) ps.limitAt = null;
  }
  return { actions: orderActions(actions), state: next };
}

/**
 * Counts a poll towards (or out of) unsupervised. `blind`: some safety field unknown or no
 * reading at all. Mutates `next` and appends to `actions`.
 */
function supervise(next: SafetyState, blind: boolean, cfg: ChargingSafetyConfig, nowMono: number, actions: SafetyAction[]): void {
  if (!blind) {
    next.blindPolls = 0;
    if (next.unsupervised) {
      next.unsupervised = false;
      // The alarm clears; a cut it caused stays latched until an operator resets it.
      actions.push({ kind: 'restoreAlarm', alarm: 'unsupervised' });
    }
    return;
  }
  next.blindPolls++;
  if (next.unsupervised || next.blindPolls < cfg.unsupervisedAfterPolls) return;
  next.unsupervised = true;
  actions.push({ kind: 'raiseAlarm', alarm: 'unsupervised', priority: 'high', value: next.blindPolls });
  if (cfg.unsupervisedPolicy === 'cut' && !next.cut) {
    next.cut = { reason: 'unsupervised', at: nowMono };
    actions.push({ kind: 'cutCabinet', reason: 'unsupervised' });
  }
}

/**
 * Pure: a poll that produced no reading from a cabinet that still answers (an exception on
 * the read, an answer of the wrong size). Counts towards unsupervised; a latched cut is sent
 * again every `reassertAfterMs`, since the contactor cannot be seen.
 */
export function evaluateBlind(
  state: SafetyState,
  cfg: ChargingSafetyConfig,
  nowMono: number,
): { actions: SafetyAction[]; state: SafetyState } {
  const actions: SafetyAction[] = [];
  const next: SafetyState = { ...state };
  const hadCut = next.cut !== null;
  supervise(next, true, cfg, nowMono, actions);
  if (hadCut && nowMono - next.cut!.at >= cfg.reassertAfterMs) {
    next.cut = { ...next.cut!, at: nowMono };
    actions.push({ kind: 'cutCabinet', reason: next.cut.reason });
  }
  return { actions: orderActions(actions), state: next };
}

/** The stateful wrapper the cabinet service holds, one per cabinet. */
export class SafetyInterlock {
  private state = initialSafetyState();
  private prev: CabinetReading | undefined;

  /** `latched`: a cut persisted before a restart; it is re-asserted on the first reading showing the contactor on. */
  constructor(
    private readonly cfg: ChargingSafetyConfig,
    latched: CabinetCutReason | null = null,
  ) {
    if (latched) this.state.cut = { reason: latched, at: Number.NEGATIVE_INFINITY };
  }

  /** A poll without a reading from a cabinet that answers. */
  blind(nowMono: number): SafetyAction[] {
    const { actions, state } = evaluateBlind(this.state, this.cfg, nowMono);
    this.state = state;
    return actions;
  }

  unsupervised(): boolean {
    return this.state.unsupervised;
  }

  evaluate(now: CabinetReading, sessions: readonly ActiveSession[], nowMono: number): SafetyAction[] {
    const { actions, state } = evaluate(this.state, this.prev, now, sessions, this.cfg, nowMono);
    this.state = state;
    this.prev = now;
    return actions;
  }

  /** Whether the cabinet is latched off, and why. */
  latched(): CabinetCutReason | null {
    return this.state.cut?.reason ?? null;
  }

  resetCut(): void {
    this.state = resetCabinetCut(this.state);
  }
}

function severity(r: StopReason): number {
  const i = STOP_SEVERITY.indexOf(r);
  return i < 0 ? STOP_SEVERITY.length : i;
}

function mostSevere(reasons: StopReason[]): StopReason {
  return reasons.reduce((a, b) => (severity(b) < severity(a) ? b : a));
}

/** Power first (cut, then stops, then limits), then everything that only informs. */
function orderActions(actions: SafetyAction[]): SafetyAction[] {
  const rank = (a: SafetyAction) => (a.kind === 'cutCabinet' ? 0 : a.kind === 'stopPort' ? 1 : a.kind === 'limitPower' ? 2 : 3);
  return actions
    .map((a, i) => ({ a, i }))
    .sort((x, y) => rank(x.a) - rank(y.a) || x.i - y.i)
    .map((x) => x.a);
}
