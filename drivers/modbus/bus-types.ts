/**
 * The public types of the Modbus bus (bus.ts) and the request checks that run before
 * anything reaches the wire; apart so the scheduler file stays about scheduling.
 */
import type { Clock, Timers } from '../../gateway/core/clock.js';
import { GatehouseError } from '../../gateway/core/errors.js';
import type { Logger } from '../../gateway/core/log.js';
import type { ModbusTransport, ModbusTransportError, TransportConfig } from './transport.js';

/** One request as the bus queues it; `run` puts it on the transport. */
export type Op =
  | { kind: 'read'; fc: 3 | 4; address: number; count: number }
  | { kind: 'write'; address: number; values: readonly number[] }
  /** FC 06: what a register map that says "written as FC 06" means. */
  | { kind: 'write1'; address: number; value: number }
  | { kind: 'bits'; fc: 1 | 2; address: number; count: number }
  | { kind: 'coils'; address: number; values: readonly boolean[] };

export type OpResult = number[] | boolean[];

/** One request as the bus queues it, with its attempts. */
export interface Job {
  unitId: number;
  rank: number;
  op: Op;
  attempts: number;
  maxAttempts: number;
  probe: boolean;
  /** Times the unit answered exception 06 (busy) to this request. */
  busy: number;
  resolve: (v: OpResult) => void;
  reject: (e: GatehouseError) => void;
}

export interface UnitState extends UnitStats {
  probeDelay: number;
  probing: boolean;
}

export type Outcome = { ok: OpResult } | { err: ModbusTransportError };

/** Exception 06 answers to one request that are waited out before it fails as DEVICE_REFUSED. */
export const BUSY_RETRIES = 3;
/** First wait after exception 06; doubles per retry (50, 100, 200 ms). */
export const BUSY_BACKOFF_MS = 50;
export const ILLEGAL_FUNCTION = 1;
export const SERVER_BUSY = 6;

export type Priority = 'high' | 'normal' | 'low';
export const RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

export type BusState = 'idle' | 'opening' | 'open' | 'down' | 'stopped';
export type UnitOfflineReason = 'timeout' | 'bad_frame' | 'bus_down';

export interface Backoff {
  minMs: number;
  maxMs: number;
}

export interface ModbusBusOptions {
  transport: TransportConfig | ModbusTransport;
  /** For logs and error details, e.g. the config id of the line. */
  name?: string;
  /** Per attempt. */
  timeoutMs?: number;
  /**
   * Per probe of a dead unit. Every probe holds the whole line for this long, so it is
   * much shorter than timeoutMs (default min(timeoutMs, 250)): a live cabinet answers a
   * full poll block well inside it, and the healthy units barely notice a dead one.
   */
  probeTimeoutMs?: number;
  /** Extra attempts after a timeout or a bad frame (not after a Modbus exception: the unit answered). */
  retries?: number;
  /** Consecutive failed attempts after which a unit is dead and only probed. */
  deadAfter?: number;
  /** Reopen delay after the link is lost, and probe delay of a dead unit; both double up to maxMs. */
  backoff?: Partial<Backoff>;
  /** An open (TCP connect, serial open) that takes longer than this has failed. */
  openTimeoutMs?: number;
  clock: Clock;
  timers: Timers;
  log: Logger;
}

export interface RequestOptions {
  priority?: Priority;
}

export interface UnitStats {
  unitId: number;
  ok: number;
  timeouts: number;
  badFrames: number;
  exceptions: number;
  consecutiveFailures: number;
  /** Monotonic ms of the last valid answer (an exception counts: the unit is alive). */
  lastOkAt: number | null;
  dead: boolean;
  /** null until the unit has answered or been declared dead once. */
  online: boolean | null;
  nextProbeAt: number | null;
}

export interface BusStats {
  name: string;
  state: BusState;
  reconnects: number;
  queued: number;
  units: UnitStats[];
}

export interface BusEvents {
  unitOnline: [unitId: number];
  unitOffline: [unitId: number, reason: UnitOfflineReason];
  busUp: [];
  busDown: [reason: string];
}

export function checkUnit(unitId: number): string | undefined {
  return Number.isInteger(unitId) && unitId >= 0 && unitId <= 255 ? undefined : `unit id ${unitId} is not 0..255`;
}

export function checkRange(address: number, count: number, max: number): string | undefined {
  if (!Number.isInteger(address) || address < 0 || address > 0xffff) return `address ${address} is not 0..65535`;
  if (!Number.isInteger(count) || count < 1 || count > max) return `count ${count} is not 1..${max}`;
  if (address + count > 0x10000) return 'range runs past register 65535';
  return undefined;
}

/** Checks of a bit read (FC 01/02, up to 2000) or a coil write (FC 05/15, up to 1968). */
export function checkBitOp(unitId: number, op: Op): string | undefined {
  if (op.kind === 'bits')
    return (
      checkUnit(unitId) ??
      checkRange(op.address, op.count, 2000) ??
      (op.fc === 1 || op.fc === 2 ? undefined : `function code ${op.fc as number} is not a bit read`)
    );
  if (op.kind === 'coils')
    return (
      checkUnit(unitId) ??
      checkRange(op.address, op.values.length, 1968) ??
      (op.values.every((v) => typeof v === 'boolean') ? undefined : 'coil values must be booleans')
    );
  return undefined;
}

export type OfflineReason = 'bus_down' | 'bus_stopped' | 'unit_dead';

export function offlineError(bus: string, unitId: number, reason: OfflineReason, extra: Record<string, unknown> = {}): GatehouseError {
  const what =
    reason === 'unit_dead' ? `unit ${unitId} is not answering` : reason === 'bus_down' ? `bus ${bus} is down` : `bus ${bus} is stopped`;
  return new GatehouseError('DEVICE_OFFLINE', what, { bus, unitId, reason, ...extra });
}
