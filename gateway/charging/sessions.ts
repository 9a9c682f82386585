/**
 * Charging sessions, modelled on OCPP 1.6 transactions: StartTransaction (meter start, who
 * started it), MeterValues at a configured interval, StopTransaction (meter stop, energy,
 * duration, reason). They live in the `charging_sessions` table of the outbox database so
 * a session survives a gateway restart mid-charge: the outbox already pays for a durable
 * (synchronous=FULL) SQLite file, and a second database would be a second thing to fsync,
 * back up and migrate.
 *
 * Energy is accumulated from meter deltas rather than computed as stop − start, because the
 * port meter is a 32-bit counter that may wrap, and a replaced or factory-reset controller
 * restarts it at 0: a delta that goes backwards is a reset, counted from 0, never a huge
 * wrapped number.
 *
 * Duration: a Pi has no RTC, so the wall clock may step at NTP sync mid-session. Elapsed
 * time is counted on the monotonic clock and persisted with each meter sample; the wall
 * clock is used across a restart only when it was synced at both ends.
 */
import type { StoreScope } from '../store/scope.js';
import type { StopReason } from '../../drivers/cabinet/types.js';
import { STOP_REASONS } from '../../drivers/cabinet/types.js';
import type { Clock } from '../core/clock.js';
import type { Caller } from '../commands/types.js';
import { GatehouseError } from '../core/errors.js';
import type { ActiveSession } from './safety.js';
import { SessionWrites } from './session-writes.js';

/** Who started a session: a command's caller (never a secret), or the cabinet itself. */
export type SessionStarter = { via: Caller['via']; principal: string } | 'local';

export interface ChargingSession {
  sessionId: number;
  cabinet: string;
  port: number;
  startedBy: SessionStarter;
  /** Wall ms, and whether the wall clock was synced then. */
  startedAt: number;
  startedClock: 'synced' | 'unsynced';
  meterStartWh: number;
  powerLimitW: number | null;
  maxDurationMin: number | null;
  /** Last meter reading seen and energy delivered so far (Wh). */
  lastMeterWh: number;
  energyWh: number;
  /** Monotonic time charged so far, ms. */
  elapsedMs: number;
  stoppedAt: number | null;
  meterStopWh: number | null;
  stopReason: StopReason | null;
}

export interface StoppedSession extends ChargingSession {
  stoppedAt: number;
  meterStopWh: number;
  stopReason: StopReason;
  durationS: number;
}

/** One MeterValues sample, due every `meterIntervalMs` per session. */
export interface MeterValue {
  sessionId: number;
  cabinet: string;
  port: number;
  at: number;
  meterWh: number;
  energyWh: number;
  durationS: number;
  powerW?: number;
  currentA?: number;
  voltageV?: number;
  temperatureC?: number;
}

export interface StartInput {
  cabinet: string;
  port: number;
  /** From the start command (the platform's transaction id); allocated locally when absent. */
  sessionId?: number;
  meterStartWh: number;
  startedBy: SessionStarter;
  powerLimitW?: number;
  maxDurationMin?: number;
}

export interface ChargingSessionsOptions {
  /** The charging owner's tables (gateway/charging/migrations.ts). */
  db: StoreScope;
  clock: Clock;
  /** MeterValues interval per session (OCPP MeterValueSampleInterval). */
  meterIntervalMs?: number;
  /**
   * A queued session row the database refused for a reason other than the disk (a bug): it is
   * dropped and reported here rather than failing the group commit it rides in, whose events
   * (alarms among them) must not be lost for it.
   */
  onWriteError?: (err: Error) => void;
}

const U32 = 0x1_0000_0000;
/** A forward jump bigger than this between two samples is not energy a 2-5 A charger delivered: a meter reset. */
const MAX_PLAUSIBLE_DELTA_WH = 50_000;

interface Row {
  session_id: number;
  cabinet: string;
  port: number;
  started_at: number;
  started_synced: number;
  started_via: string;
  started_principal: string | null;
  meter_start_wh: number;
  power_limit_w: number | null;
  max_duration_min: number | null;
  last_meter_wh: number;
  energy_wh: number;
  elapsed_ms: number;
  stopped_at: number | null;
  meter_stop_wh: number | null;
  stop_reason: string | null;
}

export class ChargingSessions {
  private readonly db: StoreScope;
  private readonly clock: Clock;
  private readonly meterIntervalMs: number;
  /** Active sessions by `cabinet|port`, with the monotonic time their elapsed was last brought up to date. */
  private readonly active = new Map<string, { s: ChargingSession; monoAt: number; lastSampleMono: number }>();
  private readonly stmts;
  /** The rows' way to the disk: in the outbox's group commit with their events (session-writes.ts). */
  private readonly writes: SessionWrites<StoppedSession>;
  /** Running sessions by cabinet, then port: a poll looks up its own cabinet's, not every session of the box. */
  private readonly byCabinet = new Map<string, Map<number, { s: ChargingSession; monoAt: number; lastSampleMono: number }>>();

  constructor(opts: ChargingSessionsOptions) {
    this.db = opts.db;
    this.clock = opts.clock;
    this.meterIntervalMs = opts.meterIntervalMs ?? 60_000;
    this.stmts = {
      insert: this.db
        .prepare(`INSERT INTO charging_sessions (session_id, cabinet, port, started_at, started_synced, started_via, started_principal,
        meter_start_wh, power_limit_w, max_duration_min, last_meter_wh, energy_wh, elapsed_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)`),
      meter: this.db.prepare('UPDATE charging_sessions SET last_meter_wh = ?, energy_wh = ?, elapsed_ms = ? WHERE session_id = ?'),
      stop: this.db.prepare(
        'UPDATE charging_sessions SET last_meter_wh = ?, energy_wh = ?, elapsed_ms = ?, stopped_at = ?, meter_stop_wh = ?, stop_reason = ? WHERE session_id = ?',
      ),
      byId: this.db.prepare('SELECT * FROM charging_sessions WHERE session_id = ?'),
      maxId: this.db.prepare('SELECT MAX(session_id) AS m FROM charging_sessions'),
      activeRows: this.db.prepare('SELECT * FROM charging_sessions WHERE stopped_at IS NULL'),
      prune: this.db.prepare('DELETE FROM charging_sessions WHERE stopped_at IS NOT NULL AND stopped_at < ?'),
    };
    this.writes = new SessionWrites(this.db, this.stmts, opts.onWriteError ?? (() => undefined));
    this.load();
  }

  /** Sessions that were running when the gateway stopped carry on; the service reconciles them with the first reading. */
  private load(): void {
    const mono = this.clock.monotonic();
    const wallNow = this.clock.now();
    const synced = this.clock.state() === 'synced';
    for (const row of this.stmts.activeRows.all() as Row[]) {
      const s = fromRow(row);
      // Downtime is counted only when the wall clock can be trusted at both ends.
      if (synced && s.startedClock === 'synced') s.elapsedMs = Math.max(s.elapsedMs, wallNow - s.startedAt);
      this.track({ s, monoAt: mono, lastSampleMono: mono });
    }
  }

  private track(a: { s: ChargingSession; monoAt: number; lastSampleMono: number }): void {
    this.active.set(key(a.s.cabinet, a.s.port), a);
    let ports = this.byCabinet.get(a.s.cabinet);
    if (!ports) this.byCabinet.set(a.s.cabinet, (ports = new Map()));
    ports.set(a.s.port, a);
  }

  private untrack(s: ChargingSession): void {
    this.active.delete(key(s.cabinet, s.port));
    const ports = this.byCabinet.get(s.cabinet);
    ports?.delete(s.port);
    if (ports?.size === 0) this.byCabinet.delete(s.cabinet);
  }

  start(input: StartInput): ChargingSession {
    checkMeter(input.meterStartWh);
    const k = key(input.cabinet, input.port);
    const running = this.active.get(k);
    if (running) {
      throw new GatehouseError('DEVICE_REFUSED', `port ${input.port} of ${input.cabinet} already has session ${running.s.sessionId}`, {
        cabinet: input.cabinet,
        port: input.port,
        reason: 'session_active',
        sessionId: running.s.sessionId,
      });
    }
    if (input.sessionId !== undefined && !(Number.isInteger(input.sessionId) && input.sessionId >= 1 && input.sessionId < U32)) {
      throw new GatehouseError('CMD_INVALID', `session id ${input.sessionId} is not 1..4294967295`, { sessionId: input.sessionId });
    }
    const sessionId = input.sessionId ?? this.allocateId();
    if (this.writes.taken(sessionId) || this.stmts.byId.get(sessionId)) {
      throw new GatehouseError('CMD_INVALID', `session id ${sessionId} was already used`, { sessionId, reason: 'session_id_used' });
    }
    const s: ChargingSession = {
      sessionId,
      cabinet: input.cabinet,
      port: input.port,
      startedBy: input.startedBy,
      startedAt: this.clock.now(),
      startedClock: this.clock.state(),
      meterStartWh: input.meterStartWh,
      powerLimitW: input.powerLimitW ?? null,
      maxDurationMin: input.maxDurationMin ?? null,
      lastMeterWh: input.meterStartWh,
      energyWh: 0,
      elapsedMs: 0,
      stoppedAt: null,
      meterStopWh: null,
      stopReason: null,
    };
    const by = s.startedBy === 'local' ? { via: 'local', principal: null } : s.startedBy;
    // A full disk must not break the poll that also evaluates smoke: the session runs in memory.
    const synced = s.startedClock === 'synced' ? 1 : 0;
    const row = [
      s.sessionId,
      s.cabinet,
      s.port,
      s.startedAt,
      synced,
      by.via,
      by.principal,
      s.meterStartWh,
      s.powerLimitW,
      s.maxDurationMin,
      s.lastMeterWh,
    ] as const;
    // In the next group commit, with the session_started event the caller records in this turn.
    this.writes.insert(s.sessionId, row);
    const mono = this.clock.monotonic();
    this.track({ s, monoAt: mono, lastSampleMono: mono });
    return { ...s };
  }

  /**
   * Feeds the port's meter from a poll. Returns a MeterValues sample (and persists progress)
   * when the interval has elapsed for this session, else null; cheap to call every poll.
   */
  meter(
    cabinet: string,
    port: number,
    meterWh: number,
    sample: Omit<MeterValue, 'sessionId' | 'cabinet' | 'port' | 'at' | 'meterWh' | 'energyWh' | 'durationS'> = {},
  ): MeterValue | null {
    checkMeter(meterWh);
    const a = this.active.get(key(cabinet, port));
    if (!a) return null;
    this.advance(a, meterWh);
    const mono = this.clock.monotonic();
    if (mono - a.lastSampleMono < this.meterIntervalMs) return null;
    a.lastSampleMono = mono;
    this.persistProgress(a.s);
    return {
      sessionId: a.s.sessionId,
      cabinet,
      port,
      at: this.clock.now(),
      meterWh,
      energyWh: a.s.energyWh,
      durationS: Math.floor(a.s.elapsedMs / 1000),
      ...sample,
    };
  }

  /** Ends the session of a port. `meterStopWh` null when the cabinet cannot be read (offline): energy so far stands. */
  stop(cabinet: string, port: number, meterStopWh: number | null, reason: StopReason): StoppedSession {
    if (!(STOP_REASONS as readonly string[]).includes(reason)) throw new GatehouseError('INTERNAL', `unknown stop reason ${reason}`);
    const k = key(cabinet, port);
    const a = this.active.get(k);
    if (!a)
      throw new GatehouseError('DEVICE_REFUSED', `port ${port} of ${cabinet} has no session`, { cabinet, port, reason: 'no_session' });
    if (meterStopWh !== null) checkMeter(meterStopWh);
    this.advance(a, meterStopWh ?? a.s.lastMeterWh);
    const s = a.s;
    s.stoppedAt = this.clock.now();
    s.meterStopWh = s.lastMeterWh;
    s.stopReason = reason;
    const row = [s.lastMeterWh, s.energyWh, s.elapsedMs, s.stoppedAt, s.meterStopWh, reason, s.sessionId] as const;
    const stopped: StoppedSession = {
      ...s,
      stoppedAt: s.stoppedAt,
      meterStopWh: s.meterStopWh,
      stopReason: reason,
      durationS: Math.floor(s.elapsedMs / 1000),
    };
    // After the row's insert if that is still queued too; byId() answers from there until it is written.
    this.writes.stop(s.sessionId, row, { ...stopped });
    this.untrack(s);
    return stopped;
  }

  get(cabinet: string, port: number): ChargingSession | undefined {
    const a = this.active.get(key(cabinet, port));
    if (!a) return undefined;
    this.advance(a, a.s.lastMeterWh);
    return { ...a.s };
  }

  /**
   * Port -> session id of a cabinet's running sessions, looked up per port: the retained state
   * needs only this on every poll, and list() copies every session of every cabinet (issue 18).
   */
  activeIds(cabinet: string): Map<number, number> {
    const ids = new Map<number, number>();
    for (const [port, a] of this.byCabinet.get(cabinet) ?? []) ids.set(port, a.s.sessionId);
    return ids;
  }

  /** The id of a port's running session, if any: without a copy or a map of the cabinet's. */
  sessionAt(cabinet: string, port: number): number | undefined {
    return this.byCabinet.get(cabinet)?.get(port)?.s.sessionId;
  }

  /** Whether a port has a running session: get() without the copy, for every port of every poll. */
  has(cabinet: string, port: number): boolean {
    return this.byCabinet.get(cabinet)?.has(port) ?? false;
  }

  /** Any session, running or stopped (stopped ones until pruned). */
  byId(sessionId: number): ChargingSession | undefined {
    const running = [...this.active.values()].find((a) => a.s.sessionId === sessionId);
    if (running) return this.get(running.s.cabinet, running.s.port);
    const stopping = this.writes.stopped(sessionId);
    if (stopping) return { ...stopping };
    const row = this.stmts.byId.get(sessionId) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  list(cabinet?: string): ChargingSession[] {
    const of = cabinet === undefined ? [...this.active.values()] : [...(this.byCabinet.get(cabinet)?.values() ?? [])];
    return of.map((a) => this.get(a.s.cabinet, a.s.port)!).sort((x, y) => x.cabinet.localeCompare(y.cabinet) || x.port - y.port);
  }

  /**
   * The running sessions of a cabinet as the safety logic wants them (monotonic start), on
   * every poll: from the cabinet's own index, without copying each session (issue 18).
   */
  forSafety(cabinet: string): ActiveSession[] {
    const ports = this.byCabinet.get(cabinet);
    const out: ActiveSession[] = [];
    if (!ports) return out;
    const mono = this.clock.monotonic();
    for (const a of ports.values()) {
      this.advance(a, a.s.lastMeterWh);
      out.push({ port: a.s.port, startedAt: mono - a.s.elapsedMs });
    }
    return out.sort((x, y) => x.port - y.port);
  }

  /** Deletes stopped sessions older than `keepMs` (the platform has the events). */
  prune(keepMs: number): number {
    // Stop rows still queued for the next commit are written first, so they are pruned like any other.
    this.writes.writeStopsNow();
    return this.stmts.prune.run(this.clock.now() - keepMs).changes;
  }

  private advance(a: { s: ChargingSession; monoAt: number }, meterWh: number): void {
    const mono = this.clock.monotonic();
    a.s.elapsedMs += mono - a.monoAt;
    a.monoAt = mono;
    a.s.energyWh += meterDelta(a.s.lastMeterWh, meterWh);
    a.s.lastMeterWh = meterWh;
  }

  /** Written with the meter event of the same sample, in its group commit (session-writes.ts). */
  private persistProgress(s: ChargingSession): void {
    this.writes.progress(s.sessionId, [s.lastMeterWh, s.energyWh, s.elapsedMs]);
  }

  private allocateId(): number {
    const m = Math.max((this.stmts.maxId.get() as { m: number | null }).m ?? 0, this.writes.highestNewId());
    if (m + 1 < U32) return m + 1;
    // Wrapped after four billion sessions: take the lowest id not in the table.
    const row = this.db
      .prepare(
        'SELECT MIN(session_id + 1) AS f FROM charging_sessions WHERE session_id + 1 NOT IN (SELECT session_id FROM charging_sessions)',
      )
      .get() as { f: number | null };
    return row.f ?? 1;
  }
}

/** Energy between two readings of a 32-bit meter: a small wrap is counted, a reset counts from 0. */
export function meterDelta(last: number, now: number): number {
  if (now >= last) return now - last <= MAX_PLAUSIBLE_DELTA_WH ? now - last : 0;
  const wrapped = now + U32 - last;
  if (wrapped <= MAX_PLAUSIBLE_DELTA_WH) return wrapped;
  return now <= MAX_PLAUSIBLE_DELTA_WH ? now : 0;
}

function checkMeter(wh: number): void {
  if (!Number.isInteger(wh) || wh < 0 || wh >= U32) throw new GatehouseError('INTERNAL', `meter reading ${wh} is not a 32-bit Wh count`);
}

function key(cabinet: string, port: number): string {
  return `${cabinet}|${port}`;
}

function fromRow(r: Row): ChargingSession {
  return {
    sessionId: r.session_id,
    cabinet: r.cabinet,
    port: r.port,
    startedBy: r.started_via === 'local' ? 'local' : { via: r.started_via as Caller['via'], principal: r.started_principal ?? '' },
    startedAt: r.started_at,
    startedClock: r.started_synced ? 'synced' : 'unsynced',
    meterStartWh: r.meter_start_wh,
    powerLimitW: r.power_limit_w,
    maxDurationMin: r.max_duration_min,
    lastMeterWh: r.last_meter_wh,
    energyWh: r.energy_wh,
    elapsedMs: r.elapsed_ms,
    stoppedAt: r.stopped_at,
    meterStopWh: r.meter_stop_wh,
    stopReason: r.stop_reason as StopReason | null,
  };
}
