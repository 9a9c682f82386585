/**
 * One OSDP packet <-> OsdpFrame (spec 5.7 "Packet structure"):
 *
 *   SOM 0x53 | ADDR (bit 7 = reply) | LEN LSB | LEN MSB | CTRL | [SCB: len, type, data...]
 *   | CODE | DATA... | [MAC 4 bytes, SCS_15..18 only] | checksum (1) or CRC-16 LSB first (2)
 *
 * LEN counts the whole packet from SOM to the last check byte. CTRL bits 0-1 carry the
 * sequence number, bit 2 selects CRC (1) or checksum (0), bit 3 says an SCB is present.
 * The optional 0xFF mark byte sent before SOM on the wire is not part of the packet; the
 * deframer strips it and encodeFrame never emits it (the transport adds it when configured).
 *
 * Pure: bytes in, bytes out.
 */
import { GatehouseError } from '../../gateway/core/errors.js';
import { checksum8, crc16 } from './crc.js';
import { REPLY_BIT, SOM, type OsdpFrame, type OsdpFrameError } from './types.js';

export const HEADER_LENGTH = 5;
export const MAC_LENGTH = 4;
/** SOM + ADDR + LEN(2) + CTRL + CODE + checksum. */
export const MIN_PACKET_LENGTH = 7;
/** Largest packet we accept by default; the spec lets a PD announce up to 1440 (osdp_PDCAP function 10). */
export const DEFAULT_MAX_PACKET_LENGTH = 1440;
/** The LEN field is 16 bits. */
export const MAX_ENCODABLE_LENGTH = 0xffff;

const CTRL_SQN_MASK = 0x03;
const CTRL_CRC = 0x04;
const CTRL_SCB = 0x08;

/** SCS_15..SCS_18 (annex D) carry a 4-byte MAC after the data. */
export function scbHasMac(scbType: number): boolean {
  return scbType >= 0x15 && scbType <= 0x18;
}

/** SCS_11..SCS_18 are the only security block types OSDP 2.2 defines. */
export function isKnownScbType(scbType: number): boolean {
  return scbType >= 0x11 && scbType <= 0x18;
}

export interface EncodeOptions {
  /**
   * For SCS_15..18 frames: called with every byte from SOM up to (not including) the MAC;
   * returns the MAC (at least 4 bytes; the first 4 are sent). Overrides `frame.mac`.
   */
  mac?: (prefix: Uint8Array) => Uint8Array;
}

export type DecodeResult = { ok: true; frame: OsdpFrame; raw: Uint8Array } | { ok: false; error: OsdpFrameError; detail: string };

function encodeError(what: string): GatehouseError {
  return new GatehouseError('INTERNAL', `OSDP encodeFrame: ${what}`);
}

/** Total packet length of `f` once encoded. */
export function encodedLength(f: OsdpFrame): number {
  const scbLength = f.scb ? 2 + f.scb.data.length : 0;
  const macLength = f.scb && scbHasMac(f.scb.type) ? MAC_LENGTH : 0;
  return HEADER_LENGTH + scbLength + 1 + f.data.length + macLength + (f.crc ? 2 : 1);
}

/**
 * Encodes one packet. Throws GatehouseError('INTERNAL') on a frame that cannot exist
 * (address out of range, MAC missing for SCS_15..18, ...): that is a bug in the caller.
 */
export function encodeFrame(f: OsdpFrame, options: EncodeOptions = {}): Uint8Array {
  if (!Number.isInteger(f.address) || f.address < 0 || f.address > 0x7f) throw encodeError(`address ${f.address} out of range 0-127`);
  if (!Number.isInteger(f.code) || f.code < 0 || f.code > 0xff) throw encodeError(`code ${f.code} out of range`);
  if (f.sqn !== 0 && f.sqn !== 1 && f.sqn !== 2 && f.sqn !== 3) throw encodeError(`sqn ${String(f.sqn)} out of range 0-3`);
  const withMac = f.scb !== undefined && scbHasMac(f.scb.type);
  if (f.scb) {
    if (!Number.isInteger(f.scb.type) || f.scb.type < 0 || f.scb.type > 0xff) throw encodeError(`SCB type ${f.scb.type} out of range`);
    if (f.scb.data.length > 0xfd) throw encodeError(`SCB data of ${f.scb.data.length} bytes does not fit the SCB length byte`);
  }
  if (!withMac && f.mac !== undefined) throw encodeError('a MAC is only sent with SCS_15..18');
  const total = encodedLength(f);
  if (total > MAX_ENCODABLE_LENGTH) throw encodeError(`packet of ${total} bytes exceeds the 16-bit LEN field`);

  const out = new Uint8Array(total);
  out[0] = SOM;
  out[1] = f.address | (f.reply ? REPLY_BIT : 0);
  out[2] = total & 0xff;
  out[3] = total >> 8;
  out[4] = f.sqn | (f.crc ? CTRL_CRC : 0) | (f.scb ? CTRL_SCB : 0);
  let at = HEADER_LENGTH;
  if (f.scb) {
    out[at++] = 2 + f.scb.data.length;
    out[at++] = f.scb.type;
    out.set(f.scb.data, at);
    at += f.scb.data.length;
  }
  out[at++] = f.code;
  out.set(f.data, at);
  at += f.data.length;
  if (withMac) {
    const mac = options.mac ? options.mac(out.subarray(0, at)) : f.mac;
    if (!mac || mac.length < MAC_LENGTH) throw encodeError(`SCS_${f.scb!.type.toString(16)} needs a ${MAC_LENGTH}-byte MAC`);
    out.set(mac.subarray(0, MAC_LENGTH), at);
    at += MAC_LENGTH;
  }
  if (f.crc) {
    const crc = crc16(out, 0, at);
    out[at++] = crc & 0xff;
    out[at++] = crc >> 8;
  } else {
    out[at++] = checksum8(out, 0, at);
  }
  return out;
}

/**
 * The bytes a MAC covers (annex D.4: from SOM up to, not including, the MAC) of an
 * encoded SCS_15..18 packet, or undefined when the packet carries no MAC or is malformed.
 * A view into `packet`, not a copy.
 */
export function macInput(packet: Uint8Array): Uint8Array | undefined {
  const layout = macLayout(packet);
  return layout ? packet.subarray(0, layout.macOffset) : undefined;
}

/** Where the MAC of an encoded SCS_15..18 packet sits: [macOffset, macOffset + 4). */
export function macLayout(packet: Uint8Array): { macOffset: number } | undefined {
  if (packet.length < MIN_PACKET_LENGTH || packet[0] !== SOM) return undefined;
  const ctrl = packet[4] as number;
  if (!(ctrl & CTRL_SCB)) return undefined;
  const scbType = packet[6];
  if (scbType === undefined || !scbHasMac(scbType)) return undefined;
  const macOffset = packet.length - (ctrl & CTRL_CRC ? 2 : 1) - MAC_LENGTH;
  const scbEnd = HEADER_LENGTH + (packet[5] as number);
  return macOffset > scbEnd ? { macOffset } : undefined;
}

/** Reads LEN from a buffer that starts with SOM (at least 4 bytes). */
export function packetLengthField(bytes: Uint8Array, offset = 0): number {
  return (bytes[offset + 2] as number) | ((bytes[offset + 3] as number) << 8);
}

/**
 * Decodes exactly one packet (no mark byte, nothing after the check character).
 * Never throws: every problem of the input is a coded `error`:
 * - 'length': too short, LEN disagrees with the byte count or exceeds `maxLength`,
 *   or the body is too short for its SCB/code/MAC;
 * - 'header': no SOM;
 * - 'check': checksum or CRC mismatch (the check is verified before the body is parsed);
 * - 'scb': a malformed or unknown security control block.
 */
export function decodeFrame(bytes: Uint8Array, maxLength: number = DEFAULT_MAX_PACKET_LENGTH): DecodeResult {
  if (bytes.length < MIN_PACKET_LENGTH)
    return fail('length', `packet of ${bytes.length} bytes is shorter than the minimum ${MIN_PACKET_LENGTH}`);
  if (bytes[0] !== SOM) return fail('header', `first byte 0x${hex(bytes[0] as number)} is not SOM 0x53`);
  const declared = packetLengthField(bytes);
  if (declared !== bytes.length) return fail('length', `LEN field says ${declared} bytes, packet has ${bytes.length}`);
  if (declared > maxLength) return fail('length', `LEN ${declared} exceeds the maximum ${maxLength}`);

  const ctrl = bytes[4] as number;
  const useCrc = (ctrl & CTRL_CRC) !== 0;
  const checkLength = useCrc ? 2 : 1;
  const bodyEnd = bytes.length - checkLength;
  if (useCrc) {
    const expected = crc16(bytes, 0, bodyEnd);
    const received = (bytes[bodyEnd] as number) | ((bytes[bodyEnd + 1] as number) << 8);
    if (expected !== received) return fail('check', `CRC 0x${hex(received, 4)} received, 0x${hex(expected, 4)} computed`);
  } else {
    const expected = checksum8(bytes, 0, bodyEnd);
    const received = bytes[bodyEnd] as number;
    if (expected !== received) return fail('check', `checksum 0x${hex(received)} received, 0x${hex(expected)} computed`);
  }

  let at = HEADER_LENGTH;
  let scb: OsdpFrame['scb'];
  if (ctrl & CTRL_SCB) {
    const scbLength = bytes[at] as number;
    if (scbLength < 2) return fail('scb', `SCB length ${scbLength} is below the minimum 2`);
    if (at + scbLength >= bodyEnd) return fail('scb', `SCB of ${scbLength} bytes leaves no room for the command/reply code`);
    const type = bytes[at + 1] as number;
    if (!isKnownScbType(type)) return fail('scb', `unknown SCB type 0x${hex(type)}`);
    scb = { type, data: bytes.slice(at + 2, at + scbLength) };
    at += scbLength;
  }
  let dataEnd = bodyEnd;
  let mac: Uint8Array | undefined;
  if (scb && scbHasMac(scb.type)) {
    dataEnd = bodyEnd - MAC_LENGTH;
    if (dataEnd <= at)
      return fail('length', `SCS_${hex(scb.type)} packet of ${bytes.length} bytes has no room for code and ${MAC_LENGTH}-byte MAC`);
    mac = bytes.slice(dataEnd, bodyEnd);
  }
  const addressByte = bytes[1] as number;
  const frame: OsdpFrame = {
    address: addressByte & ~REPLY_BIT & 0xff,
    reply: (addressByte & REPLY_BIT) !== 0,
    sqn: (ctrl & CTRL_SQN_MASK) as OsdpFrame['sqn'],
    crc: useCrc,
    code: bytes[at] as number,
    data: bytes.slice(at + 1, dataEnd),
  };
  if (scb) frame.scb = scb;
  if (mac) frame.mac = mac;
  return { ok: true, frame, raw: bytes };
}

function fail(error: OsdpFrameError, detail: string): DecodeResult {
  return { ok: false, error, detail };
}

function hex(n: number, width = 2): string {
  return n.toString(16).toUpperCase().padStart(width, '0');
}
