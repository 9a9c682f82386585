/**
 * Modbus PDUs (function code + data, no address and no checksum) for the function codes
 * the gateway uses: registers 03, 04, 06, 16 (cabinets) and bits 01, 02, 05, 15 (digital
 * input modules: coils and discrete inputs), and exception responses. Pure; shared by the
 * RTU framer (rtu-frame.ts), the TCP framer (tcp-frame.ts), the gateway and the simulator.
 *
 * Decoders throw only GatehouseError DEVICE_PROTOCOL. When a server receives a request it
 * cannot serve, `details.exception` says which Modbus exception to answer (01 or 03).
 */
import { GatehouseError } from '../../gateway/core/errors.js';

export type ReadFc = 3 | 4;
/** Read coils (01) or discrete inputs (02). */
export type BitReadFc = 1 | 2;

export type ModbusRequest =
  | { fc: ReadFc; address: number; count: number }
  | { fc: 6; address: number; value: number }
  | { fc: 16; address: number; values: number[] }
  | { fc: BitReadFc; address: number; count: number }
  | { fc: 5; address: number; value: boolean }
  | { fc: 15; address: number; values: boolean[] };

export type ModbusResponse =
  | { fc: ReadFc; values: number[] }
  | { fc: 6; address: number; value: number }
  | { fc: 16; address: number; count: number }
  /** Whole bytes of bits, LSB of the first byte first: a multiple of 8, padded with false. */
  | { fc: BitReadFc; bits: boolean[] }
  | { fc: 5; address: number; value: boolean }
  | { fc: 15; address: number; count: number }
  /** `fc` is the function code of the request (without the 0x80 bit). */
  | { fc: number; exception: number };

export const MAX_READ = 125;
export const MAX_WRITE = 123;
/** Spec limits for bits: 2000 read (0x7D0), 1968 written (0x7B0) — what fits a 253-byte PDU. */
export const MAX_READ_BITS = 2000;
export const MAX_WRITE_BITS = 1968;
/** FC 05 values: ON is 0xFF00, OFF 0x0000, anything else is illegal (spec 6.5). */
const COIL_ON = 0xff00;

/** Packs bits LSB-first into ceil(n/8) bytes (spec 6.1: the first bit is the LSB of the first byte). */
export function packBits(bits: readonly boolean[]): Buffer {
  const b = Buffer.alloc(Math.ceil(bits.length / 8));
  bits.forEach((on, i) => {
    if (on) b[i >> 3] = b[i >> 3]! | (1 << (i & 7));
  });
  return b;
}

export function unpackBits(bytes: Uint8Array, count = bytes.length * 8): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < count; i++) out.push(((bytes[i >> 3]! >> (i & 7)) & 1) === 1);
  return out;
}

export const EXCEPTION_NAMES: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target failed to respond',
};

const bad = (message: string, exception?: number): GatehouseError =>
  new GatehouseError('DEVICE_PROTOCOL', message, exception === undefined ? undefined : { exception });

function checkU16(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff)
    throw new GatehouseError('CMD_INVALID', `${what} must be a 16-bit unsigned integer, got ${v}`);
}

export function isException(r: ModbusResponse): r is { fc: number; exception: number } {
  return 'exception' in r;
}

export function encodeRequestPdu(req: ModbusRequest): Buffer {
  checkU16(req.address, 'address');
  switch (req.fc) {
    case 1:
    case 2:
    case 3:
    case 4: {
      const max = req.fc <= 2 ? MAX_READ_BITS : MAX_READ;
      if (!Number.isInteger(req.count) || req.count < 1 || req.count > max)
        throw new GatehouseError('CMD_INVALID', `read count must be 1-${max}, got ${req.count}`);
      const b = Buffer.alloc(5);
      b[0] = req.fc;
      b.writeUInt16BE(req.address, 1);
      b.writeUInt16BE(req.count, 3);
      return b;
    }
    case 6: {
      checkU16(req.value, 'value');
      const b = Buffer.alloc(5);
      b[0] = 6;
      b.writeUInt16BE(req.address, 1);
      b.writeUInt16BE(req.value, 3);
      return b;
    }
    case 16: {
      const n = req.values.length;
      if (n < 1 || n > MAX_WRITE) throw new GatehouseError('CMD_INVALID', `write count must be 1-${MAX_WRITE}, got ${n}`);
      const b = Buffer.alloc(6 + 2 * n);
      b[0] = 16;
      b.writeUInt16BE(req.address, 1);
      b.writeUInt16BE(n, 3);
      b[5] = 2 * n;
      req.values.forEach((v, i) => {
        checkU16(v, `value ${i}`);
        b.writeUInt16BE(v, 6 + 2 * i);
      });
      return b;
    }
    case 5: {
      const b = Buffer.alloc(5);
      b[0] = 5;
      b.writeUInt16BE(req.address, 1);
      b.writeUInt16BE(req.value ? COIL_ON : 0, 3);
      return b;
    }
    case 15: {
      const n = req.values.length;
      if (n < 1 || n > MAX_WRITE_BITS) throw new GatehouseError('CMD_INVALID', `coil count must be 1-${MAX_WRITE_BITS}, got ${n}`);
      const packed = packBits(req.values);
      const b = Buffer.alloc(6 + packed.length);
      b[0] = 15;
      b.writeUInt16BE(req.address, 1);
      b.writeUInt16BE(n, 3);
      b[5] = packed.length;
      b.set(packed, 6);
      return b;
    }
  }
}

/** Server side: what a request PDU asks. */
export function decodeRequestPdu(pdu: Uint8Array): ModbusRequest {
  const b = Buffer.from(pdu.buffer, pdu.byteOffset, pdu.byteLength);
  if (b.length < 1) throw bad('empty PDU');
  const fc = b[0]!;
  if (![1, 2, 3, 4, 5, 6, 15, 16].includes(fc)) throw bad(`function code ${fc} is not supported`, 1);
  if (fc === 15) {
    if (b.length < 6) throw bad('FC 15 request too short', 3);
    const count = b.readUInt16BE(3);
    const byteCount = b[5]!;
    if (count < 1 || count > MAX_WRITE_BITS || byteCount !== Math.ceil(count / 8) || b.length !== 6 + byteCount)
      throw bad('FC 15 quantity, byte count and length disagree', 3);
    return { fc, address: b.readUInt16BE(1), values: unpackBits(b.subarray(6), count) };
  }
  if (fc === 16) {
    if (b.length < 6) throw bad('FC 16 request too short', 3);
    const count = b.readUInt16BE(3);
    const byteCount = b[5]!;
    if (count < 1 || count > MAX_WRITE || byteCount !== 2 * count || b.length !== 6 + byteCount)
      throw bad('FC 16 quantity, byte count and length disagree', 3);
    const values: number[] = [];
    for (let i = 0; i < count; i++) values.push(b.readUInt16BE(6 + 2 * i));
    return { fc, address: b.readUInt16BE(1), values };
  }
  if (b.length !== 5) throw bad(`FC ${fc} request must be 5 bytes, got ${b.length}`, 3);
  const address = b.readUInt16BE(1);
  const x = b.readUInt16BE(3);
  if (fc === 6) return { fc, address, value: x };
  if (fc === 5) {
    if (x !== COIL_ON && x !== 0) throw bad(`FC 05 value 0x${x.toString(16)} is neither 0xFF00 nor 0x0000`, 3);
    return { fc, address, value: x === COIL_ON };
  }
  const max = fc <= 2 ? MAX_READ_BITS : MAX_READ;
  if (x < 1 || x > max) throw bad(`read quantity ${x} is outside 1-${max}`, 3);
  return { fc: fc as 1 | 2 | 3 | 4, address, count: x };
}

export function encodeResponsePdu(res: ModbusResponse): Buffer {
  if (isException(res)) return Buffer.from([(res.fc | 0x80) & 0xff, res.exception & 0xff]);
  switch (res.fc) {
    case 1:
    case 2: {
      const packed = packBits((res as { bits: boolean[] }).bits);
      return Buffer.concat([Buffer.from([res.fc, packed.length]), packed]);
    }
    case 5: {
      const r = res as { address: number; value: boolean };
      const b = Buffer.alloc(5);
      b[0] = 5;
      b.writeUInt16BE(r.address, 1);
      b.writeUInt16BE(r.value ? COIL_ON : 0, 3);
      return b;
    }
    case 15:
    case 3:
    case 4: {
      if (res.fc === 15) {
        const r = res as { address: number; count: number };
        const b = Buffer.alloc(5);
        b[0] = 15;
        b.writeUInt16BE(r.address, 1);
        b.writeUInt16BE(r.count, 3);
        return b;
      }
      const { values } = res as { values: number[] };
      const b = Buffer.alloc(2 + 2 * values.length);
      b[0] = res.fc;
      b[1] = 2 * values.length;
      values.forEach((v, i) => b.writeUInt16BE(v & 0xffff, 2 + 2 * i));
      return b;
    }
    case 6: {
      const r = res as { address: number; value: number };
      const b = Buffer.alloc(5);
      b[0] = 6;
      b.writeUInt16BE(r.address, 1);
      b.writeUInt16BE(r.value, 3);
      return b;
    }
    case 16: {
      const r = res as { address: number; count: number };
      const b = Buffer.alloc(5);
      b[0] = 16;
      b.writeUInt16BE(r.address, 1);
      b.writeUInt16BE(r.count, 3);
      return b;
    }
    default:
      throw new GatehouseError('INTERNAL', `cannot encode a response for FC ${(res as { fc: number }).fc}`);
  }
}

/** Client side: what a response PDU says. An exception is a value, not a throw: the caller decides what it means. */
export function decodeResponsePdu(pdu: Uint8Array): ModbusResponse {
  const b = Buffer.from(pdu.buffer, pdu.byteOffset, pdu.byteLength);
  if (b.length < 2) throw bad('response PDU too short');
  const fc = b[0]!;
  if (fc & 0x80) {
    if (b.length !== 2) throw bad('exception response must be 2 bytes');
    return { fc: fc & 0x7f, exception: b[1]! };
  }
  if (fc === 3 || fc === 4) {
    const n = b[1]!;
    if (n % 2 !== 0 || n === 0 || n > 2 * MAX_READ || b.length !== 2 + n) throw bad(`FC ${fc} byte count ${n} does not match the response`);
    const values: number[] = [];
    for (let i = 0; i < n / 2; i++) values.push(b.readUInt16BE(2 + 2 * i));
    return { fc, values };
  }
  if (fc === 1 || fc === 2) {
    const n = b[1]!;
    if (n === 0 || b.length !== 2 + n) throw bad(`FC ${fc} byte count ${n} does not match the response`);
    return { fc, bits: unpackBits(b.subarray(2)) };
  }
  if (fc === 5 || fc === 6 || fc === 15 || fc === 16) {
    if (b.length !== 5) throw bad(`FC ${fc} response must be 5 bytes`);
    const address = b.readUInt16BE(1);
    const x = b.readUInt16BE(3);
    if (fc === 5) {
      if (x !== COIL_ON && x !== 0) throw bad(`FC 05 echo value 0x${x.toString(16)} is neither 0xFF00 nor 0x0000`);
      return { fc, address, value: x === COIL_ON };
    }
    return fc === 6 ? { fc, address, value: x } : fc === 15 ? { fc: 15, address, count: x } : { fc: 16, address, count: x };
  }
  throw bad(`function code ${fc} is not supported`);
}

/**
 * Does `res` answer `req`? A response for another function code, another address or
 * another size is a stale or foreign frame, never data for this request.
 */
export function matchesRequest(req: ModbusRequest, res: ModbusResponse): boolean {
  if (res.fc !== req.fc) return false;
  if (isException(res)) return true;
  switch (req.fc) {
    case 1:
    case 2:
      // Bits come in whole bytes: the byte count is what can be checked.
      return (res as { bits: boolean[] }).bits.length === 8 * Math.ceil(req.count / 8);
    case 5:
      return (res as { address: number }).address === req.address && (res as { value: boolean }).value === req.value;
    case 15:
      return (res as { address: number; count: number }).address === req.address && (res as { count: number }).count === req.values.length;
    case 3:
    case 4:
      return (res as { values: number[] }).values.length === req.count;
    case 6:
      return (res as { address: number; value: number }).address === req.address && (res as { value: number }).value === req.value;
    case 16:
      return (res as { address: number; count: number }).address === req.address && (res as { count: number }).count === req.values.length;
  }
}
