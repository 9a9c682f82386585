/**
 * Payloads of the PD -> CP replies we use (spec section 7). The CP decodes them (hostile
 * input: every length is checked), the simulated PD encodes them.
 */
import type { PdIdentity } from './types.js';
import { checkByte, checkBytes, expectLength, expectRecords, invalidArgument, protocolError } from './messages-common.js';

/** osdp_ACK and osdp_BUSY carry no data (7.1, 7.16). */
export function decodeEmptyReply(name: string, data: Uint8Array): void {
  expectLength(name, data, 0);
}

// --- osdp_NAK (7.2) -------------------------------------------------------------------

export interface Nak {
  /** NakCode. */
  code: number;
  /** Optional detail (for code 0x05 the unsupported SCB type, for example). */
  data: Uint8Array;
}
export function encodeNak(code: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(1 + data.length);
  out[0] = checkByte('osdp_NAK', 'error code', code);
  out.set(data, 1);
  return out;
}
export function decodeNak(data: Uint8Array): Nak {
  if (data.length < 1) throw protocolError('osdp_NAK', 'no error code');
  return { code: data[0] as number, data: data.slice(1) };
}

// --- osdp_PDID (7.3) ------------------------------------------------------------------

/** vendor OUI (3), model, version, serial (u32 LE), firmware major, minor, build. */
export function encodePdid(id: PdIdentity): Uint8Array {
  if (!/^[0-9a-fA-F]{6}$/.test(id.vendor)) throw invalidArgument('osdp_PDID', `vendor "${id.vendor}" is not 6 hex digits`);
  const firmware = id.firmware.split('.').map(Number);
  if (firmware.length !== 3 || firmware.some((n) => !Number.isInteger(n) || n < 0 || n > 0xff)) {
    throw invalidArgument('osdp_PDID', `firmware "${id.firmware}" is not "major.minor.build" of bytes`);
  }
  if (!Number.isInteger(id.serial) || id.serial < 0 || id.serial > 0xffffffff)
    throw invalidArgument('osdp_PDID', `serial ${id.serial} is not a u32`);
  const out = new Uint8Array(12);
  out.set(Buffer.from(id.vendor, 'hex'), 0);
  out[3] = checkByte('osdp_PDID', 'model', id.model);
  out[4] = checkByte('osdp_PDID', 'version', id.version);
  new DataView(out.buffer).setUint32(5, id.serial, true);
  out.set(firmware, 9);
  return out;
}
export function decodePdid(data: Uint8Array): PdIdentity {
  expectLength('osdp_PDID', data, 12);
  return {
    vendor: Buffer.from(data.subarray(0, 3)).toString('hex').toUpperCase(),
    model: data[3] as number,
    version: data[4] as number,
    serial: new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(5, true),
    firmware: `${data[9]}.${data[10]}.${data[11]}`,
  };
}

// --- osdp_PDCAP (7.4) -----------------------------------------------------------------

export interface Capability {
  /** Function code, spec table 7.4 (e.g. 1 contact status monitoring, 4 reader LED control, 9 communication security). */
  function: number;
  compliance: number;
  count: number;
}
export function encodePdcap(caps: readonly Capability[]): Uint8Array {
  const out = new Uint8Array(caps.length * 3);
  caps.forEach((c, i) => {
    out[i * 3] = checkByte('osdp_PDCAP', 'function', c.function);
    out[i * 3 + 1] = checkByte('osdp_PDCAP', 'compliance', c.compliance);
    out[i * 3 + 2] = checkByte('osdp_PDCAP', 'count', c.count);
  });
  return out;
}
export function decodePdcap(data: Uint8Array): Capability[] {
  const count = expectRecords('osdp_PDCAP', data, 3);
  return Array.from({ length: count }, (_, i) => ({
    function: data[i * 3] as number,
    compliance: data[i * 3 + 1] as number,
    count: data[i * 3 + 2] as number,
  }));
}

// --- osdp_LSTATR, osdp_ISTATR, osdp_OSTATR (7.5-7.7) -----------------------------------

/** tamper: the PD's tamper switch is open; power: the PD reports a power failure. */
export interface LocalStatus {
  tamper: boolean;
  power: boolean;
}
export function encodeLocalStatus(s: LocalStatus): Uint8Array {
  return Uint8Array.of(s.tamper ? 1 : 0, s.power ? 1 : 0);
}
export function decodeLocalStatus(data: Uint8Array): LocalStatus {
  expectLength('osdp_LSTATR', data, 2);
  return { tamper: data[0] !== 0, power: data[1] !== 0 };
}

/** One byte per input/output: 0 inactive, 1 active. */
export function encodePointStatus(points: readonly boolean[]): Uint8Array {
  return Uint8Array.from(points, (p) => (p ? 1 : 0));
}
export function decodePointStatus(name: 'osdp_ISTATR' | 'osdp_OSTATR', data: Uint8Array): boolean[] {
  return Array.from(data, (b, i) => {
    if (b > 1) throw protocolError(name, `point ${i} has status ${b}, expected 0 or 1`);
    return b === 1;
  });
}

// --- osdp_RAW (7.10) ------------------------------------------------------------------

export interface RawCard {
  reader: number;
  /** 0 = raw bit array, 1 = Wiegand. */
  format: number;
  bits: number;
  /** ceil(bits / 8) bytes, MSB first. */
  data: Uint8Array;
}
export function encodeRaw(card: RawCard): Uint8Array {
  if (!Number.isInteger(card.bits) || card.bits < 0 || card.bits > 0xffff)
    throw invalidArgument('osdp_RAW', `bit count ${card.bits} out of range`);
  checkBytes('osdp_RAW', 'card data', card.data, Math.ceil(card.bits / 8));
  const out = new Uint8Array(4 + card.data.length);
  out[0] = checkByte('osdp_RAW', 'reader', card.reader);
  out[1] = checkByte('osdp_RAW', 'format', card.format);
  out[2] = card.bits & 0xff;
  out[3] = card.bits >> 8;
  out.set(card.data, 4);
  return out;
}
export function decodeRaw(data: Uint8Array): RawCard {
  if (data.length < 4) throw protocolError('osdp_RAW', `expected at least 4 bytes, got ${data.length}`);
  const bits = (data[2] as number) | ((data[3] as number) << 8);
  const expected = Math.ceil(bits / 8);
  if (bits === 0) throw protocolError('osdp_RAW', 'bit count is 0');
  if (data.length - 4 !== expected) throw protocolError('osdp_RAW', `${bits} bits need ${expected} data bytes, got ${data.length - 4}`);
  return { reader: data[0] as number, format: data[1] as number, bits, data: data.slice(4) };
}

// --- osdp_KEYPAD (7.12) ---------------------------------------------------------------

/** Keys are ASCII digits, with '*' sent as 0x7F and '#' as 0x0D (spec 7.12). */
const STAR = 0x7f;
const HASH = 0x0d;

export interface KeypadEntry {
  reader: number;
  keys: string;
}
export function encodeKeypad(entry: KeypadEntry): Uint8Array {
  if (entry.keys.length > 0xff) throw invalidArgument('osdp_KEYPAD', `${entry.keys.length} keys do not fit a count byte`);
  const out = new Uint8Array(2 + entry.keys.length);
  out[0] = checkByte('osdp_KEYPAD', 'reader', entry.reader);
  out[1] = entry.keys.length;
  for (let i = 0; i < entry.keys.length; i++) {
    const ch = entry.keys[i] as string;
    if (ch === '*') out[2 + i] = STAR;
    else if (ch === '#') out[2 + i] = HASH;
    else if (ch >= '0' && ch <= '9') out[2 + i] = ch.charCodeAt(0);
    else throw invalidArgument('osdp_KEYPAD', `key "${ch}" is not 0-9, * or #`);
  }
  return out;
}
export function decodeKeypad(data: Uint8Array): KeypadEntry {
  if (data.length < 2) throw protocolError('osdp_KEYPAD', `expected at least 2 bytes, got ${data.length}`);
  const count = data[1] as number;
  if (data.length !== 2 + count) throw protocolError('osdp_KEYPAD', `count says ${count} keys, ${data.length - 2} present`);
  let keys = '';
  for (let i = 0; i < count; i++) {
    const b = data[2 + i] as number;
    if (b === STAR) keys += '*';
    else if (b === HASH) keys += '#';
    else if (b >= 0x30 && b <= 0x39) keys += String.fromCharCode(b);
    else throw protocolError('osdp_KEYPAD', `key byte 0x${b.toString(16)} at ${i} is not a digit, * or #`);
  }
  return { reader: data[0] as number, keys };
}

// --- secure channel set-up replies (7.19, 7.20) -----------------------------------------

/** osdp_CCRYPT: the PD's cUID, its random RND.B and the client cryptogram. */
export interface ClientCryptogram {
  cuid: Uint8Array;
  rndB: Uint8Array;
  cryptogram: Uint8Array;
}
export function encodeCcrypt(c: ClientCryptogram): Uint8Array {
  const out = new Uint8Array(32);
  out.set(checkBytes('osdp_CCRYPT', 'cUID', c.cuid, 8), 0);
  out.set(checkBytes('osdp_CCRYPT', 'RND.B', c.rndB, 8), 8);
  out.set(checkBytes('osdp_CCRYPT', 'client cryptogram', c.cryptogram, 16), 16);
  return out;
}
export function decodeCcrypt(data: Uint8Array): ClientCryptogram {
  expectLength('osdp_CCRYPT', data, 32);
  return { cuid: data.slice(0, 8), rndB: data.slice(8, 16), cryptogram: data.slice(16, 32) };
}

/** osdp_RMAC_I: the initial reply MAC, 16 bytes. */
export function encodeRmacI(rmac: Uint8Array): Uint8Array {
  return checkBytes('osdp_RMAC_I', 'R-MAC-I', rmac, 16).slice();
}
export function decodeRmacI(data: Uint8Array): Uint8Array {
  expectLength('osdp_RMAC_I', data, 16);
  return data.slice();
}
