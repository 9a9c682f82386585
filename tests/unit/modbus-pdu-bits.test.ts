/**
 * Bit function codes 01, 02, 05 and 15: golden PDUs from the MODBUS Application Protocol
 * Specification V1.1b3 (sections 6.1, 6.2, 6.5, 6.11 and the exception example of section
 * 7), and their RTU frames checked against a CRC computed here bit by bit, independently of
 * the table-driven crc16 in rtu-frame.ts.
 */
import { describe, expect, it } from 'vitest';
import { isGatehouseError } from '../../gateway/core/errors.js';
import {
  decodeRequestPdu,
  decodeResponsePdu,
  encodeRequestPdu,
  encodeResponsePdu,
  matchesRequest,
  packBits,
  unpackBits,
  type ModbusRequest,
  type ModbusResponse,
} from '../../drivers/modbus/pdu.js';
import { encodeRtuRequest, encodeRtuResponse, expectedLength, RtuDeframer, unframeRtu } from '../../drivers/modbus/rtu-frame.js';

const h = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** CRC-16/MODBUS the slow way: polynomial 0x8005 reflected (0xA001), init 0xFFFF, no final xor. */
function referenceCrc(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}
const withCrc = (unit: number, pdu: Buffer) => {
  const body = Buffer.concat([Buffer.from([unit]), pdu]);
  const crc = referenceCrc(body);
  return Buffer.concat([body, Buffer.from([crc & 0xff, crc >>> 8])]);
};

/** Spec examples: request PDU, response PDU, and the decoded forms. */
const GOLDEN: { name: string; req: ModbusRequest; reqPdu: string; res: ModbusResponse; resPdu: string }[] = [
  {
    // 6.1: coils 20-38 (address 19 = 0x13, 19 coils); status of coils 27-20 = CD, 35-28 = 6B, 38-36 = 05.
    name: '6.1 read coils',
    req: { fc: 1, address: 0x13, count: 19 },
    reqPdu: '01 0013 0013',
    res: { fc: 1, bits: unpackBits(h('CD 6B 05')) },
    resPdu: '01 03 CD 6B 05',
  },
  {
    // 6.2: discrete inputs 197-218 (address 0xC4, 22 inputs); AC DB 35.
    name: '6.2 read discrete inputs',
    req: { fc: 2, address: 0xc4, count: 22 },
    reqPdu: '02 00C4 0016',
    res: { fc: 2, bits: unpackBits(h('AC DB 35')) },
    resPdu: '02 03 AC DB 35',
  },
  {
    // 6.5: coil 173 (address 0xAC) ON; the normal response echoes the request.
    name: '6.5 write single coil',
    req: { fc: 5, address: 0xac, value: true },
    reqPdu: '05 00AC FF00',
    res: { fc: 5, address: 0xac, value: true },
    resPdu: '05 00AC FF00',
  },
  {
    // 6.11: 10 coils from coil 20 (address 0x13): CD 01 = 1011 0011 / 01 (LSB first).
    name: '6.11 write multiple coils',
    req: { fc: 15, address: 0x13, values: [true, false, true, true, false, false, true, true, true, false] },
    reqPdu: '0F 0013 000A 02 CD 01',
    res: { fc: 15, address: 0x13, count: 10 },
    resPdu: '0F 0013 000A',
  },
];

describe('bit function codes: spec golden PDUs', () => {
  for (const g of GOLDEN) {
    it(g.name, () => {
      expect(encodeRequestPdu(g.req)).toEqual(h(g.reqPdu));
      expect(decodeRequestPdu(h(g.reqPdu))).toEqual(g.req);
      expect(encodeResponsePdu(g.res)).toEqual(h(g.resPdu));
      expect(decodeResponsePdu(h(g.resPdu))).toEqual(g.res);
      expect(matchesRequest(g.req, decodeResponsePdu(h(g.resPdu)))).toBe(true);
    });
  }

  it('6.1 bit order: coil 20 is the LSB of the first byte, coils past 38 are padding', () => {
    const bits = unpackBits(h('CD 6B 05'), 19);
    // CD = 1100 1101: coils 27..20 read from the MSB, so coil 20 (index 0) = 1, 21 = 0, 22 = 1, 23 = 1.
    expect(bits.slice(0, 8)).toEqual([true, false, true, true, false, false, true, true]);
    // 05 holds coils 38..36 = 1 0 1.
    expect(bits.slice(16)).toEqual([true, false, true]);
    expect(packBits(bits)).toEqual(h('CD 6B 05'));
  });

  it('section 7 exception example: read coils at 0x04A1 answered 81 02', () => {
    const req: ModbusRequest = { fc: 1, address: 0x04a1, count: 1 };
    expect(encodeRequestPdu(req)).toEqual(h('01 04A1 0001'));
    const res = decodeResponsePdu(h('81 02'));
    expect(res).toEqual({ fc: 1, exception: 2 });
    expect(matchesRequest(req, res)).toBe(true);
    expect(encodeResponsePdu({ fc: 15, exception: 4 })).toEqual(h('8F 04'));
    expect(decodeResponsePdu(h('85 03'))).toEqual({ fc: 5, exception: 3 });
  });

  it('a server refuses malformed bit requests with the exception to answer', () => {
    const exc = (pdu: string): unknown => {
      try {
        decodeRequestPdu(h(pdu));
      } catch (err) {
        return isGatehouseError(err, 'DEVICE_PROTOCOL') ? err.details?.exception : 'wrong error';
      }
      return 'no error';
    };
    expect(exc('05 00AC 1234')).toBe(3); // neither FF00 nor 0000 (6.5)
    expect(exc('01 0000 0000')).toBe(3); // quantity 0
    expect(exc('02 0000 07D1')).toBe(3); // 2001 > 2000
    expect(exc('0F 0013 000A 01 CD')).toBe(3); // byte count should be 2
    expect(exc('0F 0013 07B1 F7')).toBe(3); // 1969 > 1968
    expect(exc('01 0000 07D0')).toBe('no error'); // 2000 is the maximum
  });

  it('the client refuses what cannot be sent and answers that do not fit', () => {
    expect(() => encodeRequestPdu({ fc: 2, address: 0, count: 2001 })).toThrow(/1-2000/);
    expect(() => encodeRequestPdu({ fc: 15, address: 0, values: [] })).toThrow(/1-1968/);
    expect(() => decodeResponsePdu(h('01 03 CD 6B'))).toThrow(/byte count/);
    expect(() => decodeResponsePdu(h('05 00AC 0001'))).toThrow(/neither/);
    // 19 coils need 3 bytes: an answer with 2 is for another request.
    expect(matchesRequest({ fc: 1, address: 0x13, count: 19 }, { fc: 1, bits: unpackBits(h('CD 6B')) })).toBe(false);
    expect(matchesRequest({ fc: 5, address: 0xac, value: true }, { fc: 5, address: 0xac, value: false })).toBe(false);
    expect(matchesRequest({ fc: 15, address: 0x13, values: [true] }, { fc: 15, address: 0x13, count: 2 })).toBe(false);
  });
});

describe('bit function codes: RTU frames', () => {
  it('every golden request and response carries the independently computed CRC', () => {
    for (const g of GOLDEN) {
      const req = encodeRtuRequest(0x11, g.req);
      expect(req).toEqual(withCrc(0x11, h(g.reqPdu)));
      expect(unframeRtu(req)).toEqual({ unit: 0x11, pdu: h(g.reqPdu) });
      const res = encodeRtuResponse(0x11, g.res);
      expect(res).toEqual(withCrc(0x11, h(g.resPdu)));
      expect(expectedLength(req, 0, 'request')).toBe(req.length);
      expect(expectedLength(res, 0, 'response')).toBe(res.length);
    }
    // An exception to a bit request is 5 bytes too.
    const exc = encodeRtuResponse(0x11, { fc: 2, exception: 2 });
    expect(exc).toEqual(withCrc(0x11, h('82 02')));
    expect(expectedLength(exc, 0, 'response')).toBe(5);
  });

  it('well-known frame: write single coil 173 ON at unit 0x11 is 11 05 00 AC FF 00 4E 8B', () => {
    expect(encodeRtuRequest(0x11, { fc: 5, address: 0xac, value: true })).toEqual(h('11 05 00AC FF00 4E8B'));
  });

  it('the deframer splits a stream of bit responses in any chunking', () => {
    const frames = GOLDEN.map((g) => encodeRtuResponse(7, g.res));
    const stream = Buffer.concat(frames);
    for (let chunk = 1; chunk <= stream.length; chunk++) {
      const d = new RtuDeframer('response');
      const got = [];
      for (let i = 0; i < stream.length; i += chunk) got.push(...d.push(stream.subarray(i, i + chunk)));
      expect(got.map((f) => decodeResponsePdu(f.pdu))).toEqual(GOLDEN.map((g) => g.res));
    }
    const reqs = Buffer.concat(GOLDEN.map((g) => encodeRtuRequest(7, g.req)));
    expect(new RtuDeframer('request').push(reqs).map((f) => decodeRequestPdu(f.pdu))).toEqual(GOLDEN.map((g) => g.req));
  });
});
