/**
 * What a fuzz target is, and the invariant helpers targets share. A target's `fuzz` gets one
 * input; anything it throws is a finding, so targets catch exactly the coded errors their
 * codec documents (expectCoded) and turn every broken property into an InvariantViolation.
 */
import { isDeepStrictEqual } from 'node:util';
import { GatehouseError, type ErrorCode } from '../../gateway/core/errors.js';

export interface FuzzTarget {
  /** Also the corpus folder: tests/fuzz/corpus/<name>/. */
  name: string;
  /** Golden inputs (the unit tests' frames) the fuzzer starts from besides the corpus. */
  seeds: () => Uint8Array[];
  fuzz: (data: Uint8Array) => void;
  /** Tokens the mutator splices in (keywords, field markers, magic numbers). */
  dictionary?: readonly (string | Uint8Array)[];
  /** Longest input tried (default 4096 bytes). */
  maxLength?: number;
}

export class InvariantViolation extends Error {
  override name = 'InvariantViolation';
}

export function invariant(condition: unknown, what: string): asserts condition {
  if (!condition) throw new InvariantViolation(what);
}

export function sameValue(a: unknown, b: unknown, what: string): void {
  if (!isDeepStrictEqual(a, b)) throw new InvariantViolation(`${what}: ${String(JSON.stringify(a))} != ${String(JSON.stringify(b))}`);
}

/**
 * Runs `fn`; a GatehouseError whose code is in `codes` is the codec refusing bad input and is
 * fine (returns undefined). Anything else thrown is rethrown: a finding.
 */
export function expectCoded<T>(codes: readonly ErrorCode[], fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (e instanceof GatehouseError && codes.includes(e.code)) return undefined;
    throw e;
  }
}

/** Splits `data` into chunks whose sizes come from `sizes` (so the fuzzer also explores chunking). */
export function* chunks(data: Uint8Array, sizes: Uint8Array): Generator<Uint8Array> {
  let at = 0;
  let i = 0;
  while (at < data.length) {
    const n = sizes.length ? 1 + (sizes[i++ % sizes.length]! % 64) : data.length;
    yield data.subarray(at, at + n);
    at += n;
  }
}

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
export const text = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
