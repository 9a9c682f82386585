/**
 * OSDP streaming deframer and packet decoder. Properties: the deframer never throws and never
 * holds more than its limit; every packet it yields decodes alike on its own and encodes back
 * to the same frame (decode(encode(x)) = x). Mode bit 0 repairs LEN and
 * the check character so the fuzzer gets past the CRC into the SCB and body parsing.
 * Input: [mode][3 chunk sizes][bytes].
 */
import { checksum8, crc16 } from '../../../drivers/osdp/crc.js';
import { OsdpDeframer } from '../../../drivers/osdp/deframer.js';
import { decodeFrame, encodeFrame } from '../../../drivers/osdp/frame.js';
import type { OsdpFrame } from '../../../drivers/osdp/types.js';
import { chunks, hex, invariant, sameValue, type FuzzTarget } from '../target.js';

// Golden packets of tests/unit/osdp-frame.test.ts and osdp-deframer.test.ts (SIA Annex E, libosdp, OSDP.Net).
const GOLDEN = [
  '53 7F 0D 00 04 6E 00 80 25 00 00 6E 38',
  '53 00 09 00 04 61 00 C0 66',
  '53 7F 0C 00 00 6E 00 80 25 00 00 0F',
  '53 00 08 00 00 61 00 44',
  '53 65 08 00 04 60 60 90',
  '53 65 09 00 04 61 00 d9 7a',
  '53 65 10 00 04 76 01 02 03 04 05 06 07 08 0d 20',
  '53 e5 14 00 04 45 a1 a2 a3 b1 c1 d1 d2 d3 d4 e1 e2 e3 f8 d9',
  '53 e5 0b 00 05 46 04 04 01 b3 ec',
  '53 e5 08 00 06 40 b0 f0',
  '53 80 08 00 05 40 68 9F',
  'FF FF 53 00 09 00 04 61 00 C0 66',
];

/** Sets SOM, LEN and the check character so the packet passes the integrity checks. */
export function repairPacket(p: Uint8Array): Uint8Array {
  if (p.length < 7) return p;
  const out = p.slice(0, Math.min(p.length, 1440));
  out[0] = 0x53;
  out[2] = out.length & 0xff;
  out[3] = out.length >> 8;
  if (out[4]! & 0x04) {
    const crc = crc16(out, 0, out.length - 2);
    out[out.length - 2] = crc & 0xff;
    out[out.length - 1] = crc >> 8;
  } else {
    out[out.length - 1] = checksum8(out, 0, out.length - 1);
  }
  return out;
}

function reencoded(frame: OsdpFrame, max: number): OsdpFrame | string {
  const again = decodeFrame(encodeFrame(frame), max);
  return again.ok ? again.frame : `${again.error}: ${again.detail}`;
}

export const target: FuzzTarget = {
  name: 'osdp-frame',
  seeds: () => GOLDEN.flatMap((g) => [Uint8Array.of(0, 0, 0, 0, ...hex(g)), Uint8Array.of(1, 3, 1, 7, ...hex(g))]),
  fuzz(d) {
    if (d.length < 4) return;
    const mode = d[0]!;
    const body = mode & 1 ? repairPacket(d.subarray(4)) : d.subarray(4);
    const max = mode & 2 ? 64 : 1440;
    const direct = decodeFrame(body, max);
    // Not byte equality: the reserved CTRL bits (0x70) are ignored on decode, as the spec allows.
    if (direct.ok) sameValue(reencoded(direct.frame, max), direct.frame, 'decode(encode(frame)) = frame');
    const deframer = new OsdpDeframer({ maxPacketLength: max });
    for (const chunk of chunks(body, d.subarray(1, 4))) {
      for (const out of deframer.push(chunk)) {
        invariant(deframer.buffered <= max, `deframer holds ${deframer.buffered} > ${max} bytes`);
        if (out.kind !== 'frame') continue;
        const again = decodeFrame(out.raw, max);
        invariant(again.ok, 'a packet the deframer yields decodes on its own');
        sameValue(again.frame, out.frame, 'deframer and decodeFrame agree');
        sameValue(reencoded(out.frame, max), out.frame, 'decode(encode(frame)) = frame');
      }
      invariant(deframer.buffered <= max, `deframer holds ${deframer.buffered} > ${max} bytes`);
    }
  },
  dictionary: [
    Uint8Array.of(0x53),
    Uint8Array.of(0xff),
    Uint8Array.of(0x04),
    Uint8Array.of(0x0c),
    Uint8Array.of(0x02, 0x15),
    Uint8Array.of(0x02, 0x17),
    Uint8Array.of(0x03, 0x11, 0x01),
  ],
  maxLength: 1600,
};
