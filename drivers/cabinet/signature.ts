/**
 * The identification block every Gatehouse cabinet starts with (register map section 3,
 * 0x0000 × 32: signature "GC", map major.minor, vendor, model, serial, firmware), and the
 * word helpers both cabinet codecs decode with: the charging cabinet (registers.ts) and the
 * battery-swap cabinet (drivers/swap/registers.ts) read the same block and tell their kinds
 * apart after it. Pure functions; anything outside the map is DEVICE_PROTOCOL, never a guess.
 */
import { GatehouseError } from '../../gateway/core/errors.js';
import { IDENTITY, MAP_VERSION, SIGNATURE } from './register-map.js';
import type { CabinetIdentity } from './types.js';

/** A value the map cannot carry, read from a cabinet. */
export const protocol = (message: string, details?: Record<string, unknown>): GatehouseError =>
  new GatehouseError('DEVICE_PROTOCOL', message, details);
/** A command the map cannot carry, refused before anything goes on the wire. */
export const invalid = (message: string, details?: Record<string, unknown>): GatehouseError =>
  new GatehouseError('CMD_INVALID', message, details);

/** One read of a poll plan, and one write carrying a command (FC 06 for a single register, 16 for several). */
export interface RegisterRead {
  fc: 3 | 4;
  address: number;
  count: number;
}
export interface RegisterWrite {
  fc: 6 | 16;
  address: number;
  values: number[];
}

/** A block of the wrong length or with a value that is no 16-bit word cannot be placed at addresses. */
export function checkWords(words: readonly number[], count: number, what: string): void {
  if (words.length !== count) throw protocol(`${what}: expected ${count} registers, got ${words.length}`);
  for (let i = 0; i < count; i++) {
    const w = words[i]!;
    if (!Number.isInteger(w) || w < 0 || w > 0xffff) throw protocol(`${what}: register ${i} is not a 16-bit word`, { index: i });
  }
}

export const s16 = (v: number): number => (v >= 0x8000 ? v - 0x10000 : v);
export const u32 = (w: readonly number[], i: number): number => w[i]! * 0x10000 + w[i + 1]!;

export function bool(w: readonly number[], i: number, what: string): boolean {
  const v = w[i]!;
  if (v !== 0 && v !== 1) throw protocol(`${what} must be 0 or 1, got ${v}`, { raw: v });
  return v === 1;
}

/** ASCII, first character in the high byte, registers in ascending order, NUL-padded. */
export function text(w: readonly number[], offset: number, words: number, what: string): string {
  let s = '';
  let ended = false;
  for (let i = offset; i < offset + words; i++) {
    for (const c of [w[i]! >> 8, w[i]! & 0xff]) {
      if (c === 0) {
        ended = true;
        continue;
      }
      // Text after a NUL or outside printable ASCII would be shown to installers as garbage.
      if (ended || c < 0x20 || c > 0x7e) throw protocol(`${what} is not NUL-padded printable ASCII`);
      s += String.fromCharCode(c);
    }
  }
  return s;
}

/** The inverse of text(): characters beyond the field are cut, unprintable ones become '?'. */
export function textWords(s: string, words: number): number[] {
  const out: number[] = [];
  const ch = (c: number): number => (Number.isNaN(c) ? 0 : c >= 0x20 && c <= 0x7e ? c : 0x3f);
  for (let i = 0; i < words; i++) out.push((ch(s.charCodeAt(2 * i)) << 8) | ch(s.charCodeAt(2 * i + 1)));
  return out;
}

/** The identity block as read; its `portCount` is register 0x0003 as is: 0 on a swap cabinet (section 10.1). */
export type CabinetSignature = CabinetIdentity;

/** Whether an identity block carries the Gatehouse signature at all (discovery tells ours from other makers' units). */
export function hasSignature(words: readonly number[]): boolean {
  return words[IDENTITY.signature] === SIGNATURE;
}

/**
 * The identification block of any Gatehouse cabinet. A new minor only adds registers, so any
 * 1.x is read; a new major may move the ones we read and is refused.
 */
export function decodeSignature(words: readonly number[]): CabinetSignature {
  checkWords(words, IDENTITY.count, 'identity block');
  if (!hasSignature(words))
    throw protocol('not a Gatehouse cabinet (signature at 0x0000 is not 0x4743)', { signature: words[IDENTITY.signature] });
  const major = words[IDENTITY.major]!;
  const minor = words[IDENTITY.minor]!;
  if (major !== MAP_VERSION.major)
    throw protocol(`register map ${major}.${minor} is not supported (this gateway reads ${MAP_VERSION.major}.x)`, { major, minor });
  return {
    vendor: text(words, IDENTITY.vendor.offset, IDENTITY.vendor.words, 'vendor'),
    model: text(words, IDENTITY.model.offset, IDENTITY.model.words, 'model'),
    serial: text(words, IDENTITY.serial.offset, IDENTITY.serial.words, 'serial'),
    firmware: text(words, IDENTITY.firmware.offset, IDENTITY.firmware.words, 'firmware'),
    mapVersion: { major, minor },
    portCount: words[IDENTITY.portCount]!,
  };
}
