/**
 * Modbus RTU framing (Modbus over Serial Line v1.02): address + PDU + CRC-16/MODBUS
 * (reflected poly 0xA001, init 0xFFFF, low byte first on the wire). Pure, no I/O.
 *
 * A real RTU receiver finds frame ends by 3.5 character times of silence. Over a pty or a
 * USB adapter that timing is not kept, so the deframer finds frames by their expected
 * length (from the function code and byte count) and the CRC instead, and resynchronises
 * after garbage or a corrupted frame by sliding one byte at a time. It never yields a frame
 * whose CRC is wrong, never throws, and does work bounded by the bytes it was given.
 */
import { GatehouseError } from '../../gateway/core/errors.js';
import { encodeRequestPdu, encodeResponsePdu, type ModbusRequest, type ModbusResponse } from './pdu.js';

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ bytes[i]!) & 0xff]!;
  return crc;
}

/** The CRC at the end of `frame` matches its content. */
export function crcOk(frame: Uint8Array): boolean {
  if (frame.length < 4) return false;
  const crc = crc16(frame, 0, frame.length - 2);
  return frame[frame.length - 2] === (crc & 0xff) && frame[frame.length - 1] === crc >>> 8;
}

export interface RtuFrame {
  unit: number;
  pdu: Buffer;
}

/** Wraps a PDU for `unit` (0 = broadcast, 1-247). */
export function frameRtu(unit: number, pdu: Uint8Array): Buffer {
  if (!Number.isInteger(unit) || unit < 0 || unit > 247) throw new GatehouseError('CMD_INVALID', `unit id must be 0-247, got ${unit}`);
  const b = Buffer.alloc(pdu.length + 3);
  b[0] = unit;
  b.set(pdu, 1);
  const crc = crc16(b, 0, b.length - 2);
  b[b.length - 2] = crc & 0xff;
  b[b.length - 1] = crc >>> 8;
  return b;
}

export const encodeRtuRequest = (unit: number, req: ModbusRequest): Buffer => frameRtu(unit, encodeRequestPdu(req));
export const encodeRtuResponse = (unit: number, res: ModbusResponse): Buffer => frameRtu(unit, encodeResponsePdu(res));

/** Splits a whole frame into unit and PDU; DEVICE_PROTOCOL when too short or the CRC is wrong. */
export function unframeRtu(frame: Uint8Array): RtuFrame {
  if (frame.length < 4) throw new GatehouseError('DEVICE_PROTOCOL', `RTU frame of ${frame.length} bytes is too short`);
  if (!crcOk(frame)) throw new GatehouseError('DEVICE_PROTOCOL', 'RTU frame CRC mismatch');
  const b = Buffer.from(frame);
  return { unit: b[0]!, pdu: b.subarray(1, b.length - 2) };
}

/** What the deframer receives: requests (a server/slave) or responses (a client/master). */
export type RtuDirection = 'request' | 'response';

/** Every function code the codec knows (pdu.ts). */
export const ALL_FCS: readonly number[] = [1, 2, 3, 4, 5, 6, 15, 16];
/** Register function codes only (a line of cabinets): fewer byte patterns pass for a frame start. */
export const REGISTER_FCS: readonly number[] = [3, 4, 6, 16];

/** Longest RTU frame: 256 bytes (Modbus over Serial Line 2.5.1). */
export const RTU_MAX_FRAME = 256;

/**
 * Length of the frame that starts at `b[at]`, from its function code: a number, 'more' if
 * more bytes are needed to know, or 'invalid' if no frame can start here.
 */
export function expectedLength(
  b: Uint8Array,
  at: number,
  direction: RtuDirection,
  functionCodes: readonly number[] = ALL_FCS,
): number | 'more' | 'invalid' {
  const avail = b.length - at;
  if (avail < 2) return 'more';
  const unit = b[at]!;
  if (unit > 247) return 'invalid';
  const fc = b[at + 1]!;
  if (!functionCodes.includes(fc & 0x7f)) return 'invalid';
  if (direction === 'response') {
    if (fc & 0x80) return [1, 2, 3, 4, 5, 6, 15, 16].includes(fc & 0x7f) ? 5 : 'invalid';
    if (fc === 5 || fc === 6 || fc === 15 || fc === 16) return 8;
    if (fc === 1 || fc === 2 || fc === 3 || fc === 4) {
      if (avail < 3) return 'more';
      const n = b[at + 2]!;
      // Bits come in any whole number of bytes (up to 250 = 2000 bits); registers in pairs.
      if (fc <= 2) return n === 0 || n > 250 ? 'invalid' : 5 + n;
      return n === 0 || n % 2 !== 0 || n > 250 ? 'invalid' : 5 + n;
    }
    return 'invalid';
  }
  if (fc >= 1 && fc <= 6) return 8;
  if (fc === 15 || fc === 16) {
    if (avail < 7) return 'more';
    const n = b[at + 6]!;
    if (fc === 15) return n === 0 || n > 246 ? 'invalid' : 9 + n;
    return n === 0 || n % 2 !== 0 || n > 246 ? 'invalid' : 9 + n;
  }
  return 'invalid';
}

export interface DeframerStats {
  frames: number;
  /** Bytes thrown away while resynchronising (garbage, corrupted frames). */
  droppedBytes: number;
  crcErrors: number;
}

export class RtuDeframer {
  private buf: Buffer = Buffer.alloc(0);
  private expected: { unit: number; fc: number } | undefined;
  readonly stats: DeframerStats = { frames: 0, droppedBytes: 0, crcErrors: 0 };

  /**
   * `functionCodes`: what may appear on this line. Each code accepted is one more way for
   * garbage to look like the start of a long frame (a bit response is any byte count), so a
   * blind master on a register-only line is better off with REGISTER_FCS.
   */
  constructor(
    private readonly direction: RtuDirection,
    private readonly functionCodes: readonly number[] = ALL_FCS,
  ) {}

  /**
   * A master knows which unit and function code it is waiting for: frames from anything else
   * are skipped as noise. It also makes looking ahead past a stuck partial frame safe: without
   * it, a run of payload bytes inside a long answer could pass for a short frame with a good
   * CRC about once in 65,536 candidates, so the deframer only looks ahead when it is set.
   */
  expect(e: { unit: number; fc: number } | undefined): void {
    this.expected = e;
  }

  private lengthAt(at: number): number | 'more' | 'invalid' {
    const e = this.expected;
    if (e && this.buf.length - at >= 2 && (this.buf[at] !== e.unit || (this.buf[at + 1]! & 0x7f) !== e.fc)) return 'invalid';
    return expectedLength(this.buf, at, this.direction, this.functionCodes);
  }

  /** Bytes waiting for the rest of a frame. */
  get pending(): number {
    return this.buf.length;
  }

  /** Forget partial input: call it on a request timeout or a silent gap, when nothing buffered can still be a frame. */
  reset(): void {
    this.stats.droppedBytes += this.buf.length;
    this.buf = Buffer.alloc(0);
  }

  /** Feeds received bytes; returns every complete frame with a good CRC, in order. */
  push(chunk: Uint8Array): RtuFrame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
    const out: RtuFrame[] = [];
    // Each turn consumes a frame, drops at least one byte, or stops: bounded by the input.
    while (this.buf.length >= 4) {
      const len = this.lengthAt(0);
      if (len === 'invalid') {
        this.drop(1);
        continue;
      }
      if (len === 'more' || this.buf.length < len) {
        // A garbage byte can look like the start of a long frame and hold up a good frame
        // behind it; if a complete good frame is already buffered further on, jump to it.
        // Without an expectation the caller's reset() at its timeout clears such a prefix.
        const next = this.expected ? this.findCompleteFrame(1) : -1;
        if (next < 0) break;
        this.drop(next);
        continue;
      }
      if (!crcOk(this.buf.subarray(0, len))) {
        this.stats.crcErrors++;
        this.drop(1);
        continue;
      }
      out.push({ unit: this.buf[0]!, pdu: Buffer.from(this.buf.subarray(1, len - 2)) });
      this.stats.frames++;
      this.buf = this.buf.subarray(len);
    }
    // Nothing longer than a maximal frame can still be waiting for its end.
    if (this.buf.length > RTU_MAX_FRAME) this.drop(this.buf.length - RTU_MAX_FRAME);
    return out;
  }

  private findCompleteFrame(from: number): number {
    for (let at = from; at + 4 <= this.buf.length; at++) {
      const len = this.lengthAt(at);
      if (typeof len === 'number' && at + len <= this.buf.length && crcOk(this.buf.subarray(at, at + len))) return at;
    }
    return -1;
  }

  private drop(n: number): void {
    this.stats.droppedBytes += n;
    this.buf = this.buf.subarray(n);
  }
}
