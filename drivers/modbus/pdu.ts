/**
 * Modbus PDUs (function code + data, no address and no checksum) for the four function
 * codes the cabinet map uses: 03, 04, 06, 16, and exception responses. Pure; shared by the
 * RTU framer (rtu-frame.ts), the TCP framer (tcp-frame.ts), the gateway and the simulator.
 *
 * Decoders throw only GatehouseError DEVICE_PROTOCOL. When a server receives a request it
 * cannot serve, `details.exception` says which Modbus exception to answer (01 or 03).
 */
import { GatehouseError } from '../../gateway/errors.js';

export type ReadFc = 3 | 4;

export type ModbusRequest = { fc: ReadFc; address: number; count: number } | { fc: 6; address: number; value: number } | { fc: 16; address: number; values: number[] };

export type ModbusResponse =
  | { fc: ReadFc; values: number[] }
  | { fc: 6; address: number; value: number }
  | { fc: 16; address: number; count: number }
  /** `fc` is the function code of the request (without the 0x80 bit). */
  | { fc: number; exception: number };

export const MAX_READ = 125;
export const MAX_WRITE = 123;

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

const bad = (message: string, exception?: number): GatehouseError => new GatehouseError('DEVICE_PROTOCOL', message, exception === undefined ? undefined : { exception });

function checkU16(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new GatehouseError('CMD_INVALID', `${what} must be a 16-bit unsigned integer, got ${v}`);
}

export function isException(r: ModbusResponse): r is { fc: number; exception: number } {
  return 'exception' in r;
}

export function encodeRequestPdu(req: ModbusRequest): Buffer {
  checkU16(req.address, 'address');
  switch (req.fc) {
    case 3:
    case 4: {
      if (!Number.isInteger(req.count) || req.count < 1 || req.count > MAX_READ) throw new GatehouseError('CMD_INVALID', `read count must be 1-${MAX_READ}, got ${req.count}`);
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
  }
}

/** Server side: what a request PDU asks. */
export function decodeRequestPdu(pdu: Uint8Array): ModbusRequest {
  const b = Buffer.from(pdu.buffer, pdu.byteOffset, pdu.byteLength);
  if (b.length < 1) throw bad('empty PDU');
  const fc = b[0]!;
  if (fc !== 3 && fc !== 4 && fc !== 6 && fc !== 16) throw bad(`function code ${fc} is not supported`, 1);
  if (fc === 16) {
    if (b.length < 6) throw bad('FC 16 request too short', 3);
    const count = b.readUInt16BE(3);
    const byteCount = b[5]!;
    if (count < 1 || count > MAX_WRITE || byteCount !== 2 * count || b.length !== 6 + byteCount) throw bad('FC 16 quantity, byte count and length disagree', 3);
    const values: number[] = [];
    for (let i = 0; i < count; i++) values.push(b.readUInt16BE(6 + 2 * i));
    return { fc, address: b.readUInt16BE(1), values };
  }
  if (b.length !== 5) throw bad(`FC ${fc} request must be 5 bytes, got ${b.length}`, 3);
  const address = b.readUInt16BE(1);
  const x = b.readUInt16BE(3);
  if (fc === 6) return { fc, address, value: x };
  if (x < 1 || x > MAX_READ) throw bad(`read quantity ${x} is outside 1-${MAX_READ}`, 3);
  return { fc, address, count: x };
}

export function encodeResponsePdu(res: ModbusResponse): Buffer {
  if (isException(res)) return Buffer.from([(res.fc | 0x80) & 0xff, res.exception & 0xff]);
  switch (res.fc) {
    case 3:
    case 4: {
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
  if (fc === 6 || fc === 16) {
    if (b.length !== 5) throw bad(`FC ${fc} response must be 5 bytes`);
    const address = b.readUInt16BE(1);
    return fc === 6 ? { fc, address, value: b.readUInt16BE(3) } : { fc, address, count: b.readUInt16BE(3) };
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
    case 3:
    case 4:
      return (res as { values: number[] }).values.length === req.count;
    case 6:
      return (res as { address: number; value: number }).address === req.address && (res as { value: number }).value === req.value;
    case 16:
      return (res as { address: number; count: number }).address === req.address && (res as { count: number }).count === req.values.length;
  }
}
