/**
 * The two OSDP check characters (spec 5.7, annex A):
 * - CRC-16/AUG-CCITT: polynomial 0x1021, initial value 0x1D0F, no reflection, no final XOR,
 *   transmitted least significant byte first;
 * - the 8-bit checksum: the two's complement of the sum of all bytes, so that the sum of the
 *   packet including its checksum is 0 modulo 256.
 * Both cover every byte from SOM up to (not including) the check character.
 */

const CRC_POLY = 0x1021;
export const CRC_INIT = 0x1d0f;

/** Table-driven for speed: a serial line at 115200 Bd still sees every byte pass through here. */
const CRC_TABLE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let crc = n << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ CRC_POLY) & 0xffff : (crc << 1) & 0xffff;
    table[n] = crc;
  }
  return table;
})();

/** CRC-16 of `bytes[start, end)` as OSDP computes it. */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = CRC_INIT;
  for (let i = start; i < end; i++) {
    crc = ((crc << 8) ^ (CRC_TABLE[((crc >> 8) ^ (bytes[i] as number)) & 0xff] as number)) & 0xffff;
  }
  return crc;
}

/** 8-bit checksum of `bytes[start, end)`: two's complement of the byte sum. */
export function checksum8(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum = (sum + (bytes[i] as number)) & 0xff;
  return (0x100 - sum) & 0xff;
}
