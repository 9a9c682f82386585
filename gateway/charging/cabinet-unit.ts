/**
 * One charging cabinet on a Modbus bus: its poll loop, its safety interlock, its charging
 * sessions and its commands. The cabinet service (cabinet-service.ts) owns the buses and
 * hands each unit its own.
 *
 * Order of work on every reading, which is the point of this file:
 *   1. the safety evaluation (pure, synchronous);
 *   2. its power actions written to the bus at high priority, not awaited: they queue ahead
 *      of every poll read and go on the wire next, whatever the outbox or the uplink do
 *      (cabinet-actuator.ts, which also persists latches and runs charging.reset);
 *   3. only then the events (alarms, sessions, meter values) handed to the outbox, also
 *      not awaited: a slow disk delays a record, never a cut.
 */
import type { CabinetConfig, ChargingSafetyConfig } from '../../config/schema.js';
import { MAX_DURATION_MIN } from '../../drivers/cabinet/register-map.js';
import { decodePollFields } from '../../drivers/cabinet/reading-decode.js';
import { decodeIdentity, identityRead, pollPlan } from '../../drivers/cabinet/registers.js';
import type { CabinetCommand, CabinetIdentity, CabinetReading, PortReading, StopReason } from '../../drivers/cabinet/types.js';
import type { ModbusBus } from '../../drivers/modbus/bus.js';
import type { Clock, Timers } from '../core/clock.js';
import type { CommandContext } from '../commands/types.js';
import { GatehouseError, isGatehouseError } from '../core/errors.js';
import type { EventInput } from '../core/events.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import { cabinetState, meterEvent, presenceEvent, sessionStartedEvent, sessionStoppedEvent, stateFingerprints } from './cabinet-events.js';
import type { StartArgs } from './cabinet-commands.js';
import { FaultReporter, fromFieldFault, refusedReadFault, replacedEvent } from './cabinet-supervision.js';
import type { CabinetLatches, CabinetSerials } from './latches.js';
import { SafetyActuator } from './cabinet-actuator.js';
import { writeCommand } from './cabinet-writes.js';
import { refuseEnable, refuseLimit, refuseStart, refuseStop } from './cabinet-refusals.js';
import { SafetyInterlock, energised } from './safety.js';
import type { ChargingSessions } from './sessions.js';
import type { PresenceTracker } from '../presence/presence-policy.js';
import { PolledUnit } from '../modbus/polled-unit.js';
import { reportCondition } from '../alarms/report.js';
import type { AlarmSink } from '../alarms/types.js';
import { DEVICE_OFFLINE_ALARM } from '../presence/alarm-kinds.js';

export interface CabinetUnitDeps {
  cfg: CabinetConfig;
  bus: ModbusBus;
  sessions: ChargingSessions;
  outbox: Pick<Outbox, 'post' | 'setState'>;
  /** Where the safety alarms and announced outages go (the alarm manager). */
  sink: AlarmSink;
  clock: Clock;
  timers: Timers;
  log: Logger;
  safety: ChargingSafetyConfig;
  /** Persisted cuts (smoke, over-temperature, unsupervised) that only charging.reset releases. */
  latches: CabinetLatches;
  /** The serial last identified per cabinet, across restarts. */
  serials: CabinetSerials;
  /** While a port is live, retained state is refreshed this often so it shows current power (the meter interval). */
  liveStateMs: number;
  /** Decides what of the raw online/offline is announced (gateway/presence); default: everything. */
  presence?: PresenceTracker;
  /** Each answered poll's duration in seconds (the metrics, when enabled). */
  pollCycle?: (seconds: number) => void;
}

/** Retained state is rewritten on every change, and otherwise this often to refresh lastSeen. */
const STATE_REFRESH_MS = 5 * 60_000;
/** After a start command, a port still reading `plugged` is the cabinet not having switched yet, not a stop. */
const START_GRACE_POLLS = 3;

export class CabinetUnit {
  readonly id: string;
  identity: CabinetIdentity | null = null;
  last: CabinetReading | undefined;
  private lastSeen: number | null = null;
  private readonly interlock: SafetyInterlock;
  /** Ports commanded off (by safety or command), until they read de-energised: not a local start. */
  private readonly stopping = new Set<number>();
  /** Monotonic time of a start command per port, for the start grace. */
  private readonly startedAt = new Map<number, number>();
  private lastStateKey: string | undefined;
  /** The live values (power, current) of the state last written. */
  private lastStateLive: string | undefined;
  private lastStateWrite = 0;
  /** Looks up a port's session for the state fingerprint: made once, not per poll. */
  private readonly sessionAt = (port: number): number | undefined => this.d.sessions.sessionAt(this.id, port);
  /** The register read of the poll in progress, for the fault of a refused one. */
  private reading = 0;
  /** The serial of the cabinet last identified on this unit id: a different one is a replaced cabinet. */
  private knownSerial: string | undefined;
  private readonly faults: FaultReporter;
  private readonly actuator: SafetyActuator;
  /** The poll schedule, presence and the bus's unit events (gateway/modbus/polled-unit.ts). */
  private readonly poller: PolledUnit<Omit<CabinetReading, 'cabinet' | 'at'>>;

  constructor(private readonly d: CabinetUnitDeps) {
    this.id = d.cfg.id;
    const latch = d.latches.get(this.id);
    this.knownSerial = d.serials.get(this.id);
    if (latch) {
      const since = new Date(latch.since).toISOString();
      d.log.warn(
        { cabinet: this.id, reason: latch.reason, since },
        'cabinet latched off before the restart: its power stays cut until charging.reset',
      );
    }
    this.interlock = new SafetyInterlock(d.safety, latch?.reason ?? null);
    this.actuator = new SafetyActuator(
      {
        cabinet: this.id,
        interlock: this.interlock,
        latches: d.latches,
        safety: d.safety,
        pollMs: d.cfg.pollMs,
        clock: d.clock,
        log: d.log,
        send: (cmd, why) => this.send(cmd, why),
        record: (e) => this.record(e),
        sink: d.sink,
        stopping: (port) => this.stopping.add(port),
      },
      latch?.reason ?? null,
    );
    this.faults = new FaultReporter(this.id, (e) => this.record(e));
    this.poller = new PolledUnit({
      id: this.id,
      unitId: d.cfg.unitId,
      pollMs: d.cfg.pollMs,
      bus: d.bus,
      clock: d.clock,
      timers: d.timers,
      log: d.log,
      family: 'cabinet',
      logKey: 'cabinet',
      label: 'cabinet',
      ...(d.presence ? { presence: d.presence } : {}),
      ...(d.pollCycle ? { pollCycle: d.pollCycle } : {}),
      announce: (a) => {
        const e = presenceEvent(this.id, a.online, a.reason);
        this.record(e);
        // One device.offline alarm per announced outage, after the raw event.
        reportCondition(d.sink, { kind: DEVICE_OFFLINE_ALARM.kind, source: e.source, active: !a.online, data: { ...e.data } }, d.log);
        this.writeState(true);
      },
      read: () => this.read(),
      // Looked up on each poll: the bench wraps onReading to time it.
      onReading: (r, at) => this.onReading({ cabinet: this.id, at, ...r }),
      answeredBadly: (err, code) => this.answeredBadly(err, code),
      // Offline, or answering again after being dead: read its identification before the next poll (it may have been replaced).
      forget: () => (this.identity = null),
      wentOffline: () => this.writeState(true),
    });
  }

  /** null until the first poll settles. */
  get online(): boolean | null {
    return this.poller.online;
  }

  get portCount(): number {
    return Math.min(this.d.cfg.ports, this.identity?.portCount ?? this.d.cfg.ports);
  }

  start(): void {
    this.poller.start();
  }

  stop(): void {
    this.poller.stop();
  }

  /** The bus says the unit stopped answering (or the link is down). */
  markOffline(reason: string): void {
    this.poller.markOffline(reason);
  }

  /** The reads of one poll: the identification first when it is not known (yet, or any more). */
  private async read(): Promise<Omit<CabinetReading, 'cabinet' | 'at'>> {
    const { bus, cfg } = this.d;
    this.reading = 0;
    if (!this.identity) {
      const r = identityRead();
      this.reading = r.address;
      this.identity = decodeIdentity(await bus.read(cfg.unitId, r.fc, r.address, r.count, { priority: 'normal' }));
      this.identified(this.identity);
    }
    const n = this.portCount;
    const answers: number[][] = [];
    for (const r of pollPlan(n)) {
      this.reading = r.address;
      answers.push(await bus.read(cfg.unitId, r.fc, r.address, r.count, { priority: 'normal' }));
    }
    const { status, ports, faults } = decodePollFields(n, answers);
    return { status, ports, ...(faults.length ? { faults } : {}) };
  }

  private identified(identity: CabinetIdentity): void {
    const { cfg } = this.d;
    if (identity.portCount < cfg.ports)
      this.d.log.warn({ cabinet: this.id, configured: cfg.ports, reported: identity.portCount }, 'cabinet has fewer ports than configured');
    if (this.knownSerial === identity.serial) return;
    if (this.knownSerial !== undefined) {
      const serials = { oldSerial: this.knownSerial, newSerial: identity.serial };
      this.d.log.warn({ cabinet: this.id, ...serials }, 'cabinet replaced: a different serial number answers on its unit id');
      this.record(replacedEvent(this.id, 'cabinet', this.knownSerial, identity));
    }
    this.knownSerial = identity.serial;
    try {
      this.d.serials.set(this.id, identity.serial);
    } catch (err) {
      this.d.log.error({ cabinet: this.id, err: (err as Error).message }, 'could not store the cabinet serial number');
    }
  }

  /**
   * The cabinet answers, but not with its safety registers: never act on a reading we
   * cannot trust, count the poll as blind (towards unsupervised), and read the identity
   * again in case the map changed.
   */
  private answeredBadly(err: unknown, code: string): void {
    if (code === 'DEVICE_PROTOCOL') this.identity = null;
    this.faults.report([refusedReadFault(err, this.reading)], this.d.clock.monotonic());
    // Only a unit identified as a cabinet once (now or before a restart) may be cut blind:
    // a wrong unit id pointing at another kind of device must not get register writes.
    if (this.knownSerial !== undefined) this.actuator.apply(this.interlock.blind(this.d.clock.monotonic()), this.last);
  }

  /** Safety first (writes issued, not awaited), then events, sessions and state. */
  onReading(reading: CabinetReading): void {
    const { sessions, clock } = this.d;
    const mono = clock.monotonic();
    const actions = this.interlock.evaluate(reading, sessions.forSafety(this.id), mono);
    const stopReasons = this.actuator.apply(actions, reading, false);
    // Everything below only informs: the power actions are already queued on the bus.
    this.poller.answered({ identity: this.identity });
    this.actuator.inform(actions);
    if (reading.faults) this.faults.report(reading.faults.map(fromFieldFault), mono);
    for (const [port, reason] of stopReasons) {
      const p = reading.ports.find((x) => x.port === port);
      if (sessions.has(this.id, port)) this.endSession(port, p?.energyWh ?? null, reason);
    }
    // The map's uptime counter going backwards means the controller restarted (map §cabinet block).
    const before = this.last?.status.uptimeS;
    const rebooted = before !== undefined && reading.status.uptimeS !== undefined && reading.status.uptimeS < before;
    for (const p of reading.ports) this.trackPort(p, reading, mono, rebooted);
    this.last = reading;
    this.lastSeen = clock.now();
    this.writeState(false);
  }

  private trackPort(p: PortReading, reading: CabinetReading, mono: number, rebooted: boolean): void {
    const { sessions } = this.d;
    // A port whose state register is unreadable this poll: keep its session as it is.
    if (p.state === 'unknown') return;
    const live = p.state === 'charging' || p.state === 'finishing';
    if (this.stopping.has(p.port) && !energised(p)) this.stopping.delete(p.port);
    const startedAt = this.startedAt.get(p.port);
    if (startedAt !== undefined && (live || mono - startedAt > START_GRACE_POLLS * this.d.cfg.pollMs + 1000)) this.startedAt.delete(p.port);
    if (sessions.has(this.id, p.port)) {
      if (!live && !this.startedAt.has(p.port)) {
        const reason: StopReason =
          p.state === 'available'
            ? 'unplugged'
            : !reading.status.mainsPresent
              ? 'mains_loss'
              : rebooted
                ? 'reboot'
                : p.state === 'fault'
                  ? 'fault'
                  : 'local';
        this.endSession(p.port, p.energyWh, reason);
        return;
      }
      const m = sessions.meter(this.id, p.port, p.energyWh, {
        powerW: p.power,
        currentA: p.current,
        voltageV: p.voltage,
        temperatureC: p.temperature,
      });
      if (m) this.record(meterEvent(m));
    } else if (live && !this.stopping.has(p.port)) {
      // Started at the cabinet (a button, a card reader) or before a gateway restart lost it.
      const input = { cabinet: this.id, port: p.port, meterStartWh: p.energyWh, startedBy: 'local' as const };
      let s;
      try {
        s = sessions.start(p.sessionId > 0 ? { ...input, sessionId: p.sessionId } : input);
      } catch (err) {
        if (!isGatehouseError(err, 'CMD_INVALID')) throw err;
        s = sessions.start(input); // the cabinet's id was used before: take a fresh one
      }
      this.record(sessionStartedEvent(s));
    }
  }

  private endSession(port: number, meterWh: number | null, reason: StopReason): void {
    const s = this.d.sessions.stop(this.id, port, meterWh, reason);
    this.d.log.info({ cabinet: this.id, port, sessionId: s.sessionId, reason, energyWh: s.energyWh }, 'charging session stopped');
    this.record(sessionStoppedEvent(s));
  }

  // ---- commands -------------------------------------------------------------------

  async startSession(args: StartArgs, ctx: CommandContext): Promise<Record<string, unknown>> {
    const p = this.port(args.port);
    refuseStart(this.id, args.port, p, this.last!, this.interlock, () => this.d.sessions.get(this.id, args.port) !== undefined);
    const powerLimitW = args.powerLimitW ?? this.d.safety.perPortPowerCapW;
    const maxDurationMin = args.maxDurationMin ?? Math.min(this.d.safety.maxSessionMin, MAX_DURATION_MIN);
    const session = this.d.sessions.start({
      cabinet: this.id,
      port: args.port,
      meterStartWh: p.energyWh,
      startedBy: { via: ctx.caller.via, principal: ctx.caller.principal },
      powerLimitW,
      maxDurationMin,
      ...(args.sessionId !== undefined ? { sessionId: args.sessionId } : {}),
    });
    this.startedAt.set(args.port, this.d.clock.monotonic());
    try {
      await this.send({ kind: 'start', port: args.port, sessionId: session.sessionId, powerLimitW, maxDurationMin }, 'command');
    } catch (err) {
      // Never started: close the row without an event, the platform saw no session_started.
      this.startedAt.delete(args.port);
      this.d.sessions.stop(this.id, args.port, null, 'fault');
      throw err;
    }
    this.record(sessionStartedEvent(session));
    return {
      cabinet: this.id,
      port: args.port,
      sessionId: session.sessionId,
      meterStartWh: session.meterStartWh,
      powerLimitW,
      maxDurationMin,
    };
  }

  async stopPort(port: number): Promise<Record<string, unknown>> {
    const p = this.port(port);
    const session = this.d.sessions.get(this.id, port);
    refuseStop(this.id, port, p, session !== undefined);
    await this.send({ kind: 'stop', port }, 'command');
    this.stopping.add(port);
    this.startedAt.delete(port);
    if (!this.d.sessions.get(this.id, port)) return { cabinet: this.id, port, stopped: true };
    const s = this.d.sessions.stop(this.id, port, this.lastPort(port)?.energyWh ?? null, 'remote');
    this.record(sessionStoppedEvent(s));
    return { cabinet: this.id, port, stopped: true, sessionId: s.sessionId, energyWh: s.energyWh, durationS: s.durationS };
  }

  async setLimit(port: number, powerLimitW: number): Promise<Record<string, unknown>> {
    const p = this.port(port);
    refuseLimit(this.id, port, p);
    const limit = powerLimitW === 0 ? this.d.safety.perPortPowerCapW : Math.min(powerLimitW, this.d.safety.perPortPowerCapW);
    await this.send({ kind: 'setLimit', port, powerLimitW: limit }, 'command');
    return { cabinet: this.id, port, powerLimitW: limit };
  }

  async enable(port: number, enabled: boolean): Promise<Record<string, unknown>> {
    const p = this.port(port);
    refuseEnable(this.id, port, p, enabled);
    await this.send({ kind: 'enable', port, enabled }, 'command');
    return { cabinet: this.id, port, enabled };
  }

  /** charging.reset: see SafetyActuator.release. */
  async reset(reason: string, ctx: CommandContext): Promise<Record<string, unknown>> {
    const res = await this.actuator.release(reason, ctx, this.last, this.online === true);
    this.writeState(true);
    return res;
  }

  private lastPort(port: number): PortReading | undefined {
    return this.last?.ports.find((p) => p.port === port);
  }

  private port(port: number): PortReading {
    if (port > this.portCount)
      throw new GatehouseError('DEVICE_UNKNOWN', `cabinet ${this.id} has no port ${port}`, { cabinet: this.id, port });
    if (this.online !== true || !this.last)
      throw new GatehouseError('DEVICE_OFFLINE', `cabinet ${this.id} is offline`, { cabinet: this.id });
    const p = this.lastPort(port);
    if (!p) throw new GatehouseError('DEVICE_UNKNOWN', `cabinet ${this.id} has no port ${port}`, { cabinet: this.id, port });
    return p;
  }

  /** Writes one command at high priority; the promise settles with the cabinet's answer. */
  private async send(cmd: CabinetCommand, why: 'safety' | 'command'): Promise<void> {
    const target = { cabinet: this.id, bus: this.d.bus, unitId: this.d.cfg.unitId, portCount: this.portCount, log: this.d.log };
    return writeCommand(target, cmd, why);
  }

  // ---- recording ------------------------------------------------------------------

  /** Not awaited (see the top of this file): posted, without a promise per reading. */
  private record(e: EventInput): void {
    this.d.outbox.post(e, (err: unknown) => {
      if (isGatehouseError(err, 'OUTBOX_CLOSED')) return;
      this.d.log.error({ cabinet: this.id, type: e.type, err: (err as Error).message }, 'could not record a charging event');
    });
  }

  private writeState(force: boolean): void {
    const online = this.poller.presence.announced === true;
    const latched = this.interlock.latched();
    const unsupervised = this.interlock.unsupervised();
    const { coarse, live } = stateFingerprints(online, this.last, latched, this.sessionAt, unsupervised);
    const mono = this.d.clock.monotonic();
    const since = mono - this.lastStateWrite;
    // Power and current change on every poll: rewriting retained state for each would cost a
    // disk write per cabinet per second. While a port is live, changed values are written at
    // the meter interval (what the meter events show); a change of state at once; unchanged
    // state only to refresh lastSeen. Nothing changed means no body built, no write, no publish.
    if (!force && coarse === this.lastStateKey && since < STATE_REFRESH_MS) {
      const energisedNow = this.last?.ports.some((p) => energised(p)) ?? false;
      if (!energisedNow || live === this.lastStateLive || since < this.d.liveStateMs) return;
    }
    this.lastStateKey = coarse;
    this.lastStateLive = live;
    this.lastStateWrite = mono;
    const body = cabinetState(online, this.last, latched, this.d.sessions.activeIds(this.id), this.lastSeen, unsupervised);
    this.d.outbox.setState(this.id, body).catch((err: unknown) => {
      if (!isGatehouseError(err, 'OUTBOX_CLOSED'))
        this.d.log.error({ cabinet: this.id, err: (err as Error).message }, 'could not store cabinet state');
    });
  }
}
