/**
 * A Modbus bus scheduler: one RS-485 line (several unit ids) or one TCP endpoint.
 *
 * - Exactly one request in flight: RS-485 is half duplex, and a cabinet controller behind
 *   a TCP endpoint is usually a single-threaded serial gateway too.
 * - A priority FIFO: writes (a safety stop) go ahead of polls; FIFO within a priority.
 * - A timeout on every request, enforced with the injected timers (not only the library's),
 *   so a stuck transport can never stall the bus; bounded retries.
 * - Dead-unit isolation: after `deadAfter` consecutive failures a unit is dead; its
 *   requests fail fast (DEVICE_OFFLINE) except one probe per backoff step, so a silent
 *   cabinet costs the others one timeout per probe instead of one per poll.
 * - The link itself (unplugged USB adapter, rebooted TCP device) is reopened with
 *   exponential backoff; meanwhile every request fails fast with DEVICE_OFFLINE.
 * - Exception 06 (server device busy) is the unit saying "later", not a failure: the request
 *   is sent again after a short backoff (BUSY_RETRIES times), and never counts towards dead.
 * - Single-register writes go as FC 06; a unit that answers exception 01 (illegal function)
 *   to FC 06 gets them as FC 16 from then on (remembered per unit id).
 *
 * Availability changes are events (unitOnline/unitOffline, busUp/busDown); the cabinet
 * service turns them into `device` events and retained state.
 */
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle, Timers } from '../../gateway/core/clock.js';
import { GatehouseError, isGatehouseError } from '../../gateway/core/errors.js';
import type { Logger } from '../../gateway/core/log.js';
import { ModbusSerialTransport, ModbusTransportError, classifyModbusSerialError, type ModbusTransport } from './transport.js';
import {
  BUSY_BACKOFF_MS,
  BUSY_RETRIES,
  ILLEGAL_FUNCTION,
  RANK,
  SERVER_BUSY,
  offlineError,
  checkBitOp,
  checkRange,
  checkUnit,
  type Job,
  type Op,
  type OpResult,
  type Outcome,
  type Backoff,
  type BusEvents,
  type BusState,
  type BusStats,
  type ModbusBusOptions,
  type Priority,
  type RequestOptions,
  type UnitOfflineReason,
  type UnitState,
} from './bus-types.js';
import { runOp } from './run-op.js';
import { UnitHealth } from './unit-health.js';
import { ModbusLink } from './link.js';

export type {
  Backoff,
  BusEvents,
  BusState,
  BusStats,
  ModbusBusOptions,
  Priority,
  RequestOptions,
  UnitOfflineReason,
  UnitStats,
} from './bus-types.js';
export { BUSY_BACKOFF_MS, BUSY_RETRIES } from './bus-types.js';

export class ModbusBus extends EventEmitter<BusEvents> {
  readonly name: string;
  private readonly transport: ModbusTransport;
  private readonly timeoutMs: number;
  private readonly probeTimeoutMs: number;
  private readonly retries: number;
  private readonly backoff: Backoff;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly log: Logger;

  private readonly link: ModbusLink;
  private queue: Job[] = [];
  private inFlight: { job: Job; token: number; timer: TimerHandle } | undefined;
  private token = 0;
  private readonly health: UnitHealth;
  /** Units that answered exception 01 to FC 06: their single-register writes go as FC 16. */
  private readonly fc16Only = new Set<number>();
  /** Requests waiting out a busy unit (exception 06), failed with the rest on stop or link loss. */
  private readonly busyWaits = new Map<Job, TimerHandle>();

  constructor(opts: ModbusBusOptions) {
    super();
    this.transport = 'open' in opts.transport ? opts.transport : new ModbusSerialTransport(opts.transport);
    this.name = opts.name ?? this.transport.describe();
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.probeTimeoutMs = Math.min(this.timeoutMs, opts.probeTimeoutMs ?? 250);
    this.retries = opts.retries ?? 1;
    const deadAfter = opts.deadAfter ?? 3;
    this.backoff = { minMs: opts.backoff?.minMs ?? 1000, maxMs: opts.backoff?.maxMs ?? 60_000 };
    this.clock = opts.clock;
    this.timers = opts.timers;
    this.log = opts.log;
    if (this.timeoutMs <= 0 || this.retries < 0 || deadAfter < 1 || this.backoff.minMs <= 0 || this.backoff.maxMs < this.backoff.minMs) {
      throw new GatehouseError(
        'CONFIG_INVALID',
        `modbus bus ${this.name}: timeoutMs > 0, retries >= 0, deadAfter >= 1 and 0 < backoff.minMs <= backoff.maxMs are required`,
      );
    }
    this.health = new UnitHealth({
      name: this.name,
      deadAfter,
      backoff: this.backoff,
      clock: this.clock,
      log: this.log,
      onOnline: (unitId) => this.emit('unitOnline', unitId),
      onOffline: (unitId, reason) => this.emit('unitOffline', unitId, reason),
      dropQueued: (unitId, reason) => this.dropQueued(unitId, reason),
    });
    this.link = new ModbusLink({
      name: this.name,
      transport: this.transport,
      backoff: this.backoff,
      openTimeoutMs: opts.openTimeoutMs ?? 5000,
      clock: this.clock,
      timers: this.timers,
      log: this.log,
      onUp: (downForMs) => this.linkUp(downForMs),
      onDown: (reason, retryInMs) => this.linkDown(reason, retryInMs),
    });
    this.transport.onClose((reason) => {
      if (this.state === 'open') this.link.down(reason);
    });
  }

  private get state(): BusState {
    return this.link.state;
  }

  /** Opens the link; never rejects: a link that cannot open is retried with backoff. */
  start(): void {
    if (this.state !== 'idle') return;
    this.link.open();
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.link.stop();
    this.failAll('bus_stopped');
    await this.transport.close();
  }

  read(unitId: number, fc: 3 | 4, address: number, count: number, opts: RequestOptions = {}): Promise<number[]> {
    const bad =
      checkUnit(unitId) ??
      checkRange(address, count, 125) ??
      (fc === 3 || fc === 4 ? undefined : `function code ${fc} is not a register read`);
    if (bad) return Promise.reject(new GatehouseError('INTERNAL', `modbus read refused: ${bad}`, { bus: this.name, unitId }));
    return this.submit(unitId, { kind: 'read', fc, address, count }, opts.priority ?? 'normal') as Promise<number[]>;
  }

  /** Read coils (FC 01) or discrete inputs (FC 02): exactly `count` bits. */
  readBits(unitId: number, fc: 1 | 2, address: number, count: number, opts: RequestOptions = {}): Promise<boolean[]> {
    return this.submit(unitId, { kind: 'bits', fc, address, count }, opts.priority ?? 'normal') as Promise<boolean[]>;
  }

  /** Write coils: one as FC 05, several as FC 15. High priority by default: a siren waits for no poll. */
  async writeCoils(unitId: number, address: number, values: readonly boolean[], opts: RequestOptions = {}): Promise<void> {
    await this.submit(unitId, { kind: 'coils', address, values: [...values] }, opts.priority ?? 'high');
  }

  /** Write multiple registers (FC 16). Defaults to high priority: writes are commands and stops. */
  async write(unitId: number, address: number, values: readonly number[], opts: RequestOptions = {}): Promise<void> {
    const bad =
      checkUnit(unitId) ??
      checkRange(address, values.length, 123) ??
      (values.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffff) ? undefined : 'register values must be integers 0..65535');
    if (bad) throw new GatehouseError('INTERNAL', `modbus write refused: ${bad}`, { bus: this.name, unitId });
    await this.submit(unitId, { kind: 'write', address, values: [...values] }, opts.priority ?? 'high');
  }

  /**
   * Write one register as FC 06 (the register map's "written as FC 06"). A unit answering
   * exception 01 gets the same write as FC 16 at once, and every later one: the value and the
   * effect are the same, only the function code differs.
   */
  async writeSingle(unitId: number, address: number, value: number, opts: RequestOptions = {}): Promise<void> {
    if (this.fc16Only.has(unitId)) return this.write(unitId, address, [value], opts);
    const valueOk = Number.isInteger(value) && value >= 0 && value <= 0xffff;
    const bad = checkUnit(unitId) ?? checkRange(address, 1, 1) ?? (valueOk ? undefined : 'register value must be an integer 0..65535');
    if (bad) throw new GatehouseError('INTERNAL', `modbus write refused: ${bad}`, { bus: this.name, unitId });
    try {
      await this.submit(unitId, { kind: 'write1', address, value }, opts.priority ?? 'high');
    } catch (err) {
      if (!isGatehouseError(err, 'DEVICE_REFUSED') || err.details?.modbusCode !== ILLEGAL_FUNCTION) throw err;
      this.fc16Only.add(unitId);
      this.log.warn(
        { bus: this.name, unitId },
        'modbus unit refuses FC 06 (exception 01): its single-register writes go as FC 16 from now on',
      );
      await this.write(unitId, address, [value], opts);
    }
  }

  isUp(): boolean {
    return this.state === 'open';
  }

  /** Whether requests to this unit currently reach the wire (not dead, link up). */
  isReachable(unitId: number): boolean {
    return this.state === 'open' && !this.health.isDead(unitId);
  }

  stats(): BusStats {
    return { name: this.name, state: this.state, reconnects: this.link.reconnects, queued: this.queue.length, units: this.health.stats() };
  }

  private unit(unitId: number): UnitState {
    return this.health.unit(unitId);
  }

  private submit(unitId: number, op: Op, priority: Priority): Promise<OpResult> {
    const bad = checkBitOp(unitId, op);
    if (bad) return Promise.reject(new GatehouseError('INTERNAL', `modbus request refused: ${bad}`, { bus: this.name, unitId }));
    if (this.state !== 'open')
      return Promise.reject(offlineError(this.name, unitId, this.state === 'stopped' ? 'bus_stopped' : 'bus_down'));
    const u = this.unit(unitId);
    const admitted = this.health.admit(u);
    if ('retryInMs' in admitted) return Promise.reject(offlineError(this.name, unitId, 'unit_dead', { retryInMs: admitted.retryInMs }));
    const { probe } = admitted;
    return new Promise<OpResult>((resolve, reject) => {
      this.insert({
        unitId,
        rank: RANK[priority],
        op,
        attempts: 0,
        maxAttempts: probe ? 1 : this.retries + 1,
        probe,
        busy: 0,
        resolve,
        reject,
      });
      this.pump();
    });
  }

  /** Before the first job of a lower priority: FIFO within a priority, and a retry goes first within its own. */
  private insert(job: Job, front = false): void {
    const i = this.queue.findIndex((q) => (front ? q.rank >= job.rank : q.rank > job.rank));
    if (i < 0) this.queue.push(job);
    else this.queue.splice(i, 0, job);
  }

  private pump(): void {
    if (this.inFlight || this.state !== 'open') return;
    const job = this.queue.shift();
    if (!job) return;
    const token = ++this.token;
    job.attempts++;
    const timeoutMs = job.probe ? this.probeTimeoutMs : this.timeoutMs;
    const timer = this.timers.setTimeout(
      () => this.settle(token, { err: new ModbusTransportError('timeout', `no answer within ${timeoutMs} ms`) }),
      timeoutMs,
    );
    this.inFlight = { job, token, timer };
    // The executor turns a transport that throws synchronously into a rejection.
    const p = new Promise<OpResult>((resolve) => resolve(runOp(this.transport, job.unitId, job.op, timeoutMs)));
    p.then(
      (v) => this.settle(token, { ok: v }),
      (e: unknown) => this.settle(token, { err: classifyModbusSerialError(e) }),
    );
  }

  private settle(token: number, outcome: Outcome): void {
    const flight = this.inFlight;
    // A late answer to an attempt that already timed out (or to a link that is gone) is dropped.
    if (!flight || flight.token !== token) return;
    flight.timer.cancel();
    this.inFlight = undefined;
    const { job } = flight;
    const u = this.unit(job.unitId);
    if (job.probe) u.probing = false;

    if ('ok' in outcome) {
      u.ok++;
      this.health.alive(u);
      job.resolve(outcome.ok);
    } else {
      const err = outcome.err;
      switch (err.kind) {
        case 'exception':
          u.exceptions++;
          this.health.alive(u);
          if (err.modbusCode === SERVER_BUSY && job.busy < BUSY_RETRIES) {
            this.waitOutBusy(job);
            break;
          }
          job.reject(
            new GatehouseError('DEVICE_REFUSED', `unit ${job.unitId} answered with Modbus exception ${err.modbusCode ?? '?'}`, {
              bus: this.name,
              unitId: job.unitId,
              modbusCode: err.modbusCode,
            }),
          );
          break;
        case 'closed':
          job.reject(offlineError(this.name, job.unitId, 'bus_down'));
          if (this.state === 'open') this.link.down(err.message);
          return;
        case 'timeout':
        case 'bad_frame':
          this.failed(u, job, err);
          break;
      }
    }
    this.pump();
  }

  /** The unit is alive but busy: send the same request again later, without spending an attempt. */
  private waitOutBusy(job: Job): void {
    const delay = BUSY_BACKOFF_MS * 2 ** job.busy;
    job.busy++;
    job.attempts--;
    const timer = this.timers.setTimeout(() => {
      this.busyWaits.delete(job);
      if (this.state !== 'open')
        return job.reject(offlineError(this.name, job.unitId, this.state === 'stopped' ? 'bus_stopped' : 'bus_down'));
      this.insert(job, true);
      this.pump();
    }, delay);
    this.busyWaits.set(job, timer);
  }

  private failed(u: UnitState, job: Job, err: ModbusTransportError): void {
    const reason = err.kind === 'timeout' ? 'timeout' : 'bad_frame';
    this.health.failed(u, reason, job.probe);
    if (!u.dead && job.attempts < job.maxAttempts) {
      this.insert(job, true);
      return;
    }
    if (u.dead && !job.probe) {
      job.reject(offlineError(this.name, job.unitId, 'unit_dead', { after: reason }));
      return;
    }
    job.reject(
      err.kind === 'timeout'
        ? new GatehouseError('CMD_TIMEOUT', `unit ${job.unitId} did not answer (${job.attempts} attempt(s) of ${this.timeoutMs} ms)`, {
            bus: this.name,
            unitId: job.unitId,
            attempts: job.attempts,
          })
        : new GatehouseError('CMD_FAILED', `unit ${job.unitId} sent no valid answer: ${err.message}`, {
            bus: this.name,
            unitId: job.unitId,
            attempts: job.attempts,
            kind: 'bad_frame',
          }),
    );
  }

  /** Fails the queued requests of a unit that just died (not its probe). */
  private dropQueued(unitId: number, reason: UnitOfflineReason): void {
    const keep: Job[] = [];
    for (const j of this.queue) {
      if (j.unitId === unitId && !j.probe) j.reject(offlineError(this.name, unitId, 'unit_dead', { after: reason }));
      else keep.push(j);
    }
    this.queue = keep;
  }

  private failAll(reason: 'bus_down' | 'bus_stopped'): void {
    const flight = this.inFlight;
    this.inFlight = undefined;
    this.token++;
    if (flight) {
      flight.timer.cancel();
      if (flight.job.probe) this.unit(flight.job.unitId).probing = false;
      flight.job.reject(offlineError(this.name, flight.job.unitId, reason));
    }
    for (const [j, t] of this.busyWaits) {
      t.cancel();
      j.reject(offlineError(this.name, j.unitId, reason));
    }
    this.busyWaits.clear();
    const queued = this.queue;
    this.queue = [];
    for (const j of queued) {
      if (j.probe) this.unit(j.unitId).probing = false;
      j.reject(offlineError(this.name, j.unitId, reason));
    }
  }

  private linkUp(downForMs: number | null): void {
    this.health.freshLink();
    this.log.info({ bus: this.name, downForMs }, 'modbus bus up');
    this.emit('busUp');
    this.pump();
  }

  private linkDown(reason: string, retryInMs: number): void {
    this.failAll('bus_down');
    this.health.linkLost();
    this.log.warn({ bus: this.name, reason, retryInMs }, 'modbus bus down');
    this.emit('busDown', reason);
  }
}
