/**
 * Modbus TCP framing (MBAP header: transaction id, protocol id 0, length, unit id) around
 * a PDU. Pure, no I/O. The deframer trusts the length field but bounds it, so a peer that
 * sends garbage is detected (`bad`) and the connection can be dropped rather than buffered
 * forever: TCP has no resynchronisation point the way RTU has a CRC.
 */
import { GatehouseError } from '../../gateway/core/errors.js';

export interface TcpFrame {
  transactionId: number;
  unit: number;
  pdu: Buffer;
}

/** PDU at most 253 bytes, so length (unit + PDU) at most 254. */
export const MBAP_MAX_LENGTH = 254;

export function frameTcp(transactionId: number, unit: number, pdu: Uint8Array): Buffer {
  if (pdu.length < 1 || pdu.length > MBAP_MAX_LENGTH - 1)
    throw new GatehouseError('CMD_INVALID', `PDU of ${pdu.length} bytes does not fit an MBAP frame`);
  const b = Buffer.alloc(7 + pdu.length);
  b.writeUInt16BE(transactionId & 0xffff, 0);
  b.writeUInt16BE(0, 2);
  b.writeUInt16BE(pdu.length + 1, 4);
  b[6] = unit & 0xff;
  b.set(pdu, 7);
  return b;
}

export class TcpDeframer {
  private buf: Buffer = Buffer.alloc(0);
  /** Set once the stream held something that is not MBAP; the caller should close the connection. */
  bad: string | undefined;

  push(chunk: Uint8Array): TcpFrame[] {
    if (this.bad) return [];
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
    const out: TcpFrame[] = [];
    while (this.buf.length >= 7) {
      const protocol = this.buf.readUInt16BE(2);
      const length = this.buf.readUInt16BE(4);
      if (protocol !== 0 || length < 2 || length > MBAP_MAX_LENGTH) {
        this.bad = `not a Modbus TCP frame (protocol ${protocol}, length ${length})`;
        this.buf = Buffer.alloc(0);
        return out;
      }
      if (this.buf.length < 6 + length) break;
      out.push({ transactionId: this.buf.readUInt16BE(0), unit: this.buf[6]!, pdu: Buffer.from(this.buf.subarray(7, 6 + length)) });
      this.buf = this.buf.subarray(6 + length);
    }
    return out;
  }
}
