/**
 * The public types of the Modbus bus (bus.ts) and the request checks that run before
 * anything reaches the wire; apart so the scheduler file stays about scheduling.
 */
import type { Clock, Timers } from '../../gateway/clock.js';
import type { Logger } from '../../gateway/log.js';
import type { ModbusTransport, TransportConfig } from './transport.js';

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
