import { describe, expect, it } from 'vitest';
import { cardHexFromRaw, rawFromCardHex } from '../../drivers/osdp/card.js';

describe('OSDP card numbers', () => {
  it('reads 26-bit Wiegand bits MSB first as one unsigned integer', () => {
    // 26 bits: 1000 0000 0000 0000 0000 0000 01 -> 0x2000001, padded to 7 digits.
    const data = Uint8Array.from([0x80, 0x00, 0x00, 0x40]);
    expect(cardHexFromRaw(26, data)).toBe('2000001');
  });

  it('zero-pads to ceil(bits/4) digits and uses uppercase', () => {
    expect(cardHexFromRaw(26, Uint8Array.from([0x00, 0x00, 0x2b, 0x00]))).toBe('00000AC');
    expect(cardHexFromRaw(32, Uint8Array.from([0xde, 0xad, 0xbe, 0xef]))).toBe('DEADBEEF');
    expect(cardHexFromRaw(1, Uint8Array.from([0x80]))).toBe('1');
  });

  it('ignores pad bits beyond `bits`', () => {
    expect(cardHexFromRaw(4, Uint8Array.from([0xaf]))).toBe('A');
  });

  it('round-trips for common formats and wide cards', () => {
    for (const [hex, bits] of [
      ['2000001', 26],
      ['1ABCDEF', 26],
      ['00000001', 32],
      ['0123456789ABCDEF01', 72],
      ['7FFFFFFFF', 35],
      ['0', 1],
    ] as const) {
      expect(cardHexFromRaw(bits, rawFromCardHex(hex, bits))).toBe(hex);
    }
  });

  it('packs MSB first with zero pad bits', () => {
    expect([...rawFromCardHex('2000001', 26)]).toEqual([0x80, 0x00, 0x00, 0x40]);
    expect([...rawFromCardHex('deadbeef', 32)]).toEqual([0xde, 0xad, 0xbe, 0xef]);
  });

  it('refuses numbers wider than the bit count, non-hex input and short data', () => {
    expect(() => rawFromCardHex('4000000', 26)).toThrow(/does not fit/);
    expect(() => rawFromCardHex('12G', 26)).toThrow(/hex/);
    expect(() => cardHexFromRaw(26, Uint8Array.from([1, 2, 3]))).toThrow(/holds 24 bits/);
    expect(() => cardHexFromRaw(0, Uint8Array.from([1]))).toThrow();
  });
});
