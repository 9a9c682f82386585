/**
 * Card numbers. osdp_RAW carries `bits` significant bits packed MSB first (the first bit
 * read is bit 7 of byte 0; trailing pad bits of the last byte are zero). The gateway, the
 * credential store and the platform name a card by one canonical string: the uppercase hex
 * of those bits read as one unsigned integer, zero-padded to ceil(bits/4) digits. So a
 * 26-bit Wiegand card is 7 hex digits, whatever the padding in the RAW bytes was.
 */

/** The canonical card number of a RAW read. Throws when `data` holds fewer than `bits` bits. */
export function cardHexFromRaw(bits: number, data: Uint8Array): string {
  if (!Number.isInteger(bits) || bits < 1) throw new RangeError(`card bit count must be a positive integer, got ${bits}`);
  if (data.length * 8 < bits) throw new RangeError(`card data holds ${data.length * 8} bits, ${bits} announced`);
  let value = 0n;
  for (let i = 0; i < bits; i++) {
    const bit = (data[i >> 3]! >> (7 - (i & 7))) & 1;
    value = (value << 1n) | BigInt(bit);
  }
  return value
    .toString(16)
    .toUpperCase()
    .padStart(Math.ceil(bits / 4), '0');
}

/** The RAW bytes (MSB first, zero pad bits) of a canonical card number; the inverse of cardHexFromRaw. */
export function rawFromCardHex(hex: string, bits: number): Uint8Array {
  if (!Number.isInteger(bits) || bits < 1) throw new RangeError(`card bit count must be a positive integer, got ${bits}`);
  if (!/^[0-9a-fA-F]+$/.test(hex)) throw new RangeError(`card number must be hex digits, got "${hex}"`);
  const value = BigInt(`0x${hex}`);
  // Leading zero digits are allowed (that is how the canonical form pads), a value too wide is not.
  if (value >> BigInt(bits) !== 0n) throw new RangeError(`card number ${hex} does not fit in ${bits} bits`);
  const out = new Uint8Array(Math.ceil(bits / 8));
  for (let i = 0; i < bits; i++) {
    if ((value >> BigInt(bits - 1 - i)) & 1n) out[i >> 3]! |= 0x80 >> (i & 7);
  }
  return out;
}
