/**
 * Modbus RTU: the streaming deframer (both directions, with and without an expected answer)
 * and unframeRtu. Properties: nothing throws but DEVICE_PROTOCOL from unframeRtu; the deframer
 * keeps at most one maximum frame of partial input after a push; every frame it yields has a
 * good CRC and re-frames to the same bytes. Mode bit 0 appends a correct CRC to the input.
 * Input: [mode][3 chunk sizes][bytes].
 */
import { RTU_MAX_FRAME, RtuDeframer, crc16, crcOk, frameRtu, unframeRtu } from '../../../drivers/modbus/rtu-frame.js';
import { chunks, expectCoded, hex, invariant, sameValue, type FuzzTarget } from '../target.js';

// Golden RTU frames from tests/unit/modbus-rtu-frame.test.ts (Modbus over serial line spec examples).
const GOLDEN = [
  '01 03 00 00 00 0a c5 cd',
  '11 03 00 6b 00 03 76 87',
  '01 03 04 00 01 00 02 2a 32',
  '01 83 02 c0 f1',
  '01 06 00 01 00 03 98 0b',
  '01 10 00 01 00 02 04 00 0a 01 02 92 30',
];

export const target: FuzzTarget = {
  name: 'modbus-rtu',
  seeds: () => GOLDEN.flatMap((g) => [Uint8Array.of(0, 0, 0, 0, ...hex(g)), Uint8Array.of(3, 2, 5, 1, ...hex(g).subarray(0, -2))]),
  fuzz(d) {
    if (d.length < 4) return;
    const mode = d[0]!;
    let bytes = d.subarray(4);
    if (mode & 1) {
      const crc = crc16(bytes);
      bytes = Uint8Array.of(...bytes, crc & 0xff, crc >> 8);
    }
    const f = expectCoded(['DEVICE_PROTOCOL'], () => unframeRtu(bytes));
    if (f) invariant(crcOk(bytes), 'unframeRtu accepted a bad CRC');
    const deframer = new RtuDeframer(mode & 2 ? 'response' : 'request', mode & 4 ? [3, 4, 6, 16] : undefined);
    if (mode & 8 && bytes.length >= 2) deframer.expect({ unit: bytes[0]!, fc: bytes[1]! & 0x7f });
    for (const chunk of chunks(bytes, d.subarray(1, 4))) {
      for (const frame of deframer.push(chunk)) {
        const wire = frameRtu(frame.unit, frame.pdu);
        invariant(crcOk(wire), 'frame yielded with a good CRC');
        sameValue(unframeRtu(wire), frame, 'unframe(frame(x)) = x');
      }
      invariant(deframer.pending <= Math.max(RTU_MAX_FRAME, chunk.length) + RTU_MAX_FRAME, `deframer holds ${deframer.pending} bytes`);
    }
  },
  dictionary: [Uint8Array.of(0x01, 0x03), Uint8Array.of(0x01, 0x10), Uint8Array.of(0x01, 0x83), Uint8Array.of(0x0f), Uint8Array.of(0x04)],
  maxLength: 1200,
};
