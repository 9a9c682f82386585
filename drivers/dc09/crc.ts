/**
 * DC-09 CRC: CRC-16/ARC (polynomial x^16 + x^15 + x^2 + 1 = 0x8005, processed
 * LSB-first so the reflected constant 0xA001 is used, initial value 0, no final XOR).
 * Computed over the bytes from the opening quote of the id token through the end of the
 * message body (timestamp included), i.e. exactly the span the length field counts.
 *
 * Table-driven because the receiver runs it on every message; the tests check it against a
 * bitwise implementation and the published examples.
 */
const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let b = 0; b < 8; b++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

/** CRC of a string taken as latin1 (DC-09 messages are ASCII; anything else fails the check anyway). */
export function dc09Crc(text: string): number {
  let crc = 0;
  for (let i = 0; i < text.length; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ text.charCodeAt(i)) & 0xff]!;
  return crc;
}

/** The 4 upper-case hex digits sent on the wire. */
export function dc09CrcHex(text: string): string {
  return dc09Crc(text).toString(16).toUpperCase().padStart(4, '0');
}
