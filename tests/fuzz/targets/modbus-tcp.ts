/**
 * Modbus TCP: the MBAP deframer. Properties: never throws; once it calls a stream bad it
 * holds nothing and yields nothing more; it never buffers past one maximum frame; every frame
 * re-frames to the bytes it came from. Input: [3 chunk sizes][stream].
 */
import { MBAP_MAX_LENGTH, TcpDeframer, frameTcp } from '../../../drivers/modbus/tcp-frame.js';
import { chunks, hex, invariant, sameValue, type FuzzTarget } from '../target.js';

const GOLDEN = [
  '0001 0000 0006 01 03 0000 000a',
  '0002 0000 0005 01 03 02 1234',
  '0003 0000 0003 01 83 02',
  '0004 0000 000b 11 10 0001 0002 04 000a 0102',
];

export const target: FuzzTarget = {
  name: 'modbus-tcp',
  seeds: () => [...GOLDEN.map((g) => Uint8Array.of(0, 0, 0, ...hex(g))), Uint8Array.of(2, 9, 1, ...hex(GOLDEN.join('')))],
  fuzz(d) {
    if (d.length < 3) return;
    const deframer = new TcpDeframer();
    let consumed = 0;
    for (const chunk of chunks(d.subarray(3), d.subarray(0, 3))) {
      const wasBad = deframer.bad !== undefined;
      const frames = deframer.push(chunk);
      if (wasBad) invariant(frames.length === 0, 'frames after the stream was called bad');
      for (const f of frames) {
        const wire = frameTcp(f.transactionId, f.unit, f.pdu);
        invariant(wire.length <= 6 + MBAP_MAX_LENGTH, 'frame within MBAP limits');
        sameValue(Uint8Array.from(wire), Uint8Array.from(d.subarray(3 + consumed, 3 + consumed + wire.length)), 'frame(deframe(x)) = x');
        consumed += wire.length;
      }
    }
  },
  maxLength: 1200,
};
