/**
 * Finding the units on a Modbus line (`gatehouse discover --modbus`): one unit id after the
 * other, one request at a time, each with a short timeout so a silent id costs little.
 *
 * A unit is identified by what it answers:
 * - a Gatehouse-map cabinet by the signature 0x4743 at input register 0, then its whole
 *   identification block (vendor, model, serial, firmware, ports, map version);
 * - a digital input module by its discrete inputs (FC 02: 16 or 8 of them) and its relay
 *   outputs as coils (FC 01);
 * - anything else that answers — a Modbus exception included — is present but not ours.
 * Silence, and the gateway exceptions 0x0A/0x0B of a TCP-to-RTU gateway with nobody
 * behind the id, mean no unit.
 */
import { decodeIdentity } from '../cabinet/registers.js';
import { IDENTITY, SIGNATURE } from '../cabinet/register-map.js';
import type { CabinetIdentity } from '../cabinet/types.js';
import { ModbusTransportError, type ModbusTransport } from './transport.js';

export type ScannedUnit =
  | { unitId: number; kind: 'cabinet'; identity: CabinetIdentity }
  | { unitId: number; kind: 'input-module'; channels: 8 | 16; coils: number }
  | { unitId: number; kind: 'other'; note: string };

export interface ScanOptions {
  units: readonly number[];
  /** Per unit id, for the first request: what a silent id costs. */
  probeTimeoutMs: number;
  /** For the reads that follow an answer (the identity block is 32 registers). */
  readTimeoutMs: number;
  /** Told after each unit id, with what answered there (undefined: nothing). */
  onUnit?(unitId: number, index: number, unit: ScannedUnit | undefined): void;
  /** Checked before each unit id: true ends the scan with what was found so far. */
  stopped?(): boolean;
}

export interface ScanResult {
  found: ScannedUnit[];
  /** Unit ids asked. */
  scanned: number;
  interrupted: boolean;
}

/** Exceptions a Modbus gateway answers for an id with no unit behind it. */
const GATEWAY_PATH_UNAVAILABLE = 0x0a;
const GATEWAY_TARGET_FAILED = 0x0b;

type Answer<T> = { ok: T } | { exception: number } | { silent: true } | { garbled: string };

async function ask<T>(fn: () => Promise<T>): Promise<Answer<T>> {
  try {
    return { ok: await fn() };
  } catch (err) {
    if (!(err instanceof ModbusTransportError)) throw err;
    if (err.kind === 'exception') return { exception: err.modbusCode ?? 0 };
    if (err.kind === 'timeout') return { silent: true };
    // The line itself went away (adapter unplugged, TCP reset): the scan cannot go on.
    if (err.kind === 'closed') throw err;
    return { garbled: err.message };
  }
}

/** What one unit id answers, or undefined when nothing is there. */
export async function identifyUnit(
  t: ModbusTransport,
  unitId: number,
  opts: Pick<ScanOptions, 'probeTimeoutMs' | 'readTimeoutMs'>,
): Promise<ScannedUnit | undefined> {
  let first = await ask(() => t.read(unitId, 4, IDENTITY.address, 1, opts.probeTimeoutMs));
  // One more try after a garbled answer: a late reply to the previous id can collide with it.
  if ('garbled' in first) first = await ask(() => t.read(unitId, 4, IDENTITY.address, 1, opts.probeTimeoutMs));
  if ('silent' in first) return undefined;
  if ('exception' in first && (first.exception === GATEWAY_PATH_UNAVAILABLE || first.exception === GATEWAY_TARGET_FAILED)) return undefined;
  if ('garbled' in first) return { unitId, kind: 'other', note: `answers garbled frames (${first.garbled}): check --baud and --parity` };
  if ('ok' in first && first.ok[0] === SIGNATURE) {
    const block = await ask(() => t.read(unitId, 4, IDENTITY.address, IDENTITY.count, opts.readTimeoutMs));
    if (!('ok' in block))
      return {
        unitId,
        kind: 'other',
        note: `has the Gatehouse cabinet signature but its identification block is unreadable (${describe(block)})`,
      };
    try {
      return { unitId, kind: 'cabinet', identity: decodeIdentity(block.ok) };
    } catch (err) {
      return { unitId, kind: 'other', note: `has the Gatehouse cabinet signature but ${(err as Error).message}` };
    }
  }
  let channels: 8 | 16 | undefined;
  for (const n of [16, 8] as const) {
    const bits = await ask(() => t.readBits(unitId, 2, 0, n, opts.readTimeoutMs));
    if ('ok' in bits) {
      channels = n;
      break;
    }
  }
  if (channels === undefined) {
    const why = 'ok' in first ? `input register 0 reads 0x${first.ok[0]!.toString(16).padStart(4, '0')}` : describe(first);
    return { unitId, kind: 'other', note: `not a Gatehouse cabinet (${why}) and no discrete inputs at 0` };
  }
  let coils = 0;
  for (const n of [16, 8, 4, 2, 1]) {
    if ('ok' in (await ask(() => t.readBits(unitId, 1, 0, n, opts.readTimeoutMs)))) {
      coils = n;
      break;
    }
  }
  return { unitId, kind: 'input-module', channels, coils };
}

function describe(a: Answer<unknown>): string {
  if ('exception' in a) return `exception ${String(a.exception).padStart(2, '0')}`;
  if ('silent' in a) return 'no answer';
  if ('garbled' in a) return `garbled answer: ${a.garbled}`;
  return 'answered';
}

/** Scans `opts.units` in order; a line that goes away rejects (ModbusTransportError 'closed'). */
export async function scanUnits(t: ModbusTransport, opts: ScanOptions): Promise<ScanResult> {
  const found: ScannedUnit[] = [];
  let scanned = 0;
  for (const [index, unitId] of opts.units.entries()) {
    if (opts.stopped?.()) return { found, scanned, interrupted: true };
    const unit = await identifyUnit(t, unitId, opts);
    scanned++;
    if (unit) found.push(unit);
    opts.onUnit?.(unitId, index, unit);
  }
  return { found, scanned, interrupted: false };
}
