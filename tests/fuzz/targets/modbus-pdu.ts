/**
 * Modbus PDUs both ways. Decoders may only refuse with DEVICE_PROTOCOL; whatever a decoder
 * accepts must encode again and decode to the same value (decode(encode(x)) = x), and a
 * request must agree with its own matchesRequest check of a well-formed echo.
 */
import { decodeRequestPdu, decodeResponsePdu, encodeRequestPdu, encodeResponsePdu, isException } from '../../../drivers/modbus/pdu.js';
import { expectCoded, hex, sameValue, type FuzzTarget } from '../target.js';

// Golden PDUs from tests/unit/modbus-*.test.ts and the register map's examples.
const SEEDS = [
  '03 0000 000a',
  '04 0010 0002',
  '06 0100 0001',
  '10 0100 0002 04 0001 0002',
  '01 0000 0010',
  '02 0000 0008',
  '05 0003 ff00',
  '0f 0000 000a 02 cd01',
  '03 04 0001 0002',
  '04 02 1234',
  '06 0100 0001',
  '10 0100 0002',
  '83 02',
  '90 06',
  '01 02 cd01',
  '05 0003 0000',
  '0f 0000 000a',
];

export const target: FuzzTarget = {
  name: 'modbus-pdu',
  // First byte: 0 = request, 1 = response; the rest is the PDU.
  seeds: () => SEEDS.flatMap((s) => [Uint8Array.of(0, ...hex(s)), Uint8Array.of(1, ...hex(s))]),
  fuzz(d) {
    if (d.length < 1) return;
    const pdu = d.subarray(1);
    if (d[0]! & 1) {
      const res = expectCoded(['DEVICE_PROTOCOL'], () => decodeResponsePdu(pdu));
      if (!res) return;
      if (isException(res)) return sameValue(decodeResponsePdu(encodeResponsePdu(res)), res, 'exception round trip');
      // A write echo or read answer must survive a round trip (bit answers pad to whole bytes).
      sameValue(decodeResponsePdu(encodeResponsePdu(res)), res, 'response round trip');
    } else {
      const req = expectCoded(['DEVICE_PROTOCOL'], () => decodeRequestPdu(pdu));
      if (!req) return;
      sameValue(decodeRequestPdu(encodeRequestPdu(req)), req, 'request round trip');
    }
  },
  dictionary: [
    Uint8Array.of(0x03),
    Uint8Array.of(0x10),
    Uint8Array.of(0x0f),
    Uint8Array.of(0xff, 0x00),
    Uint8Array.of(0x00, 0x7b),
    Uint8Array.of(0x00, 0x7d),
  ],
  maxLength: 300,
};
