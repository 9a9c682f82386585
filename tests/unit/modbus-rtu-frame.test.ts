/**
 * Modbus RTU and TCP framing against golden frames published outside this project, then
 * fuzzed. Sources of the golden bytes (CRCs as published, never computed by our encoder):
 * - `01 03 00 00 00 0A C5 CD`: the classic "read 10 holding registers from unit 1" frame.
 * - `01 03 00 00 00 02 C4 0B`: a sensor vendor's RS-485 read example.
 * - `11 03 00 6B 00 03 76 87`: Modbus Application Protocol spec §6.3 example (read holding
 *   registers 108-110) on unit 0x11, as published by Simply Modbus.
 * - `11 03 06 02 2B 00 00 00 64 C8 BA`: the spec's response to it (registers 555, 0, 100)
 *   on unit 0x11; the CRC was checked with a separate bitwise CRC implementation in Python.
 * - `01 03 30 0C 00 01 4B 09` / `01 03 02 00 01 79 84` and `01 10 30 0D 00 01 02 00 01 56 8E`
 *   / `01 10 30 0D 00 01 9F 0A`: an instrument vendor's manual (Applent AT381x, §12.3).
 * - MBAP frames: a robot vendor's Modbus TCP documentation (uFactory).
 * Frames published with a wrong CRC (found while collecting these) are kept as negative cases.
 */
import { describe, expect, it } from 'vitest';
import { isGatehouseError } from '../../gateway/core/errors.js';
import {
  decodeRequestPdu,
  decodeResponsePdu,
  encodeRequestPdu,
  encodeResponsePdu,
  matchesRequest,
  type ModbusRequest,
} from '../../drivers/modbus/pdu.js';
import {
  crc16,
  crcOk,
  encodeRtuRequest,
  encodeRtuResponse,
  REGISTER_FCS,
  RtuDeframer,
  unframeRtu,
  type RtuDirection,
} from '../../drivers/modbus/rtu-frame.js';
import { frameTcp, TcpDeframer } from '../../drivers/modbus/tcp-frame.js';
import { seededRandom } from '../../sim/smartlock/random.js';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('golden RTU frames', () => {
  it('the classic read request: 01 03 00 00 00 0A C5 CD', () => {
    expect(encodeRtuRequest(1, { fc: 3, address: 0, count: 10 })).toEqual(h('01 03 00 00 00 0A C5 CD'));
    expect(crc16(h('01 03 00 00 00 0A'))).toBe(0xcdc5);
    const f = unframeRtu(h('01 03 00 00 00 0A C5 CD'));
    expect(f.unit).toBe(1);
    expect(decodeRequestPdu(f.pdu)).toEqual({ fc: 3, address: 0, count: 10 });
  });

  it('more published requests', () => {
    expect(encodeRtuRequest(1, { fc: 3, address: 0, count: 2 })).toEqual(h('01 03 00 00 00 02 C4 0B'));
    expect(encodeRtuRequest(0x11, { fc: 3, address: 0x6b, count: 3 })).toEqual(h('11 03 00 6B 00 03 76 87'));
    expect(encodeRtuRequest(1, { fc: 3, address: 0x300c, count: 1 })).toEqual(h('01 03 30 0C 00 01 4B 09'));
    expect(encodeRtuRequest(1, { fc: 16, address: 0x300d, values: [1] })).toEqual(h('01 10 30 0D 00 01 02 00 01 56 8E'));
    expect(decodeRequestPdu(unframeRtu(h('01 10 30 0D 00 01 02 00 01 56 8E')).pdu)).toEqual({ fc: 16, address: 0x300d, values: [1] });
  });

  it('published responses, including the spec example for registers 108-110', () => {
    expect(encodeRtuResponse(0x11, { fc: 3, values: [0x022b, 0, 0x64] })).toEqual(h('11 03 06 02 2B 00 00 00 64 C8 BA'));
    expect(decodeResponsePdu(unframeRtu(h('11 03 06 02 2B 00 00 00 64 C8 BA')).pdu)).toEqual({ fc: 3, values: [555, 0, 100] });
    expect(decodeResponsePdu(unframeRtu(h('01 03 02 00 01 79 84')).pdu)).toEqual({ fc: 3, values: [1] });
    expect(decodeResponsePdu(unframeRtu(h('01 10 30 0D 00 01 9F 0A')).pdu)).toEqual({ fc: 16, address: 0x300d, count: 1 });
    expect(decodeResponsePdu(unframeRtu(h('01 10 30 0C 00 01 CE CA')).pdu)).toEqual({ fc: 16, address: 0x300c, count: 1 });
    expect(encodeRtuResponse(1, { fc: 16, address: 0x300d, count: 1 })).toEqual(h('01 10 30 0D 00 01 9F 0A'));
  });

  it('frames published with a wrong CRC are rejected', () => {
    for (const bad of [
      '01 03 00 6B 00 03 76 87',
      '01 06 00 6B 00 03 09 76',
      '01 03 06 00 0A 01 02 00 00 C5 CD',
      '01 10 30 0C 00 01 02 00 01 FA C8',
    ]) {
      expect(crcOk(h(bad))).toBe(false);
      expect(() => unframeRtu(h(bad))).toThrow(/CRC/);
      expect(new RtuDeframer('request').push(h(bad))).toEqual([]);
    }
  });

  it('exception responses and FC 06 / FC 04', () => {
    const exc = encodeRtuResponse(10, { fc: 4, exception: 2 });
    expect(exc.subarray(0, 3)).toEqual(h('0A 84 02'));
    expect(decodeResponsePdu(unframeRtu(exc).pdu)).toEqual({ fc: 4, exception: 2 });
    expect(encodeRequestPdu({ fc: 6, address: 1, value: 3 })).toEqual(h('06 0001 0003'));
    expect(encodeResponsePdu({ fc: 4, values: [0xabcd] })).toEqual(h('04 02 AB CD'));
    expect(decodeResponsePdu(h('06 0001 0003'))).toEqual({ fc: 6, address: 1, value: 3 });
  });

  it('request PDUs a server must refuse carry the exception to answer', () => {
    const exc = (pdu: string): unknown => {
      try {
        decodeRequestPdu(h(pdu));
      } catch (err) {
        return isGatehouseError(err, 'DEVICE_PROTOCOL') ? err.details?.exception : 'wrong error';
      }
      return 'no error';
    };
    expect(exc('07')).toBe(1);
    expect(exc('03 0000 0000')).toBe(3);
    expect(exc('03 0000 007E')).toBe(3);
    expect(exc('10 0000 0002 03 0001 0002')).toBe(3);
  });

  it('matchesRequest tells a stale answer from the one expected', () => {
    const req: ModbusRequest = { fc: 4, address: 0xf0, count: 2 };
    expect(matchesRequest(req, { fc: 4, values: [1, 2] })).toBe(true);
    expect(matchesRequest(req, { fc: 4, values: [1] })).toBe(false);
    expect(matchesRequest(req, { fc: 3, values: [1, 2] })).toBe(false);
    expect(matchesRequest(req, { fc: 4, exception: 4 })).toBe(true);
  });
});

describe('golden TCP frames', () => {
  it('MBAP read, response and write', () => {
    expect(frameTcp(1, 1, encodeRequestPdu({ fc: 3, address: 3, count: 2 }))).toEqual(h('00 01 00 00 00 06 01 03 00 03 00 02'));
    expect(frameTcp(1, 1, encodeRequestPdu({ fc: 16, address: 3, values: [1234, 3456] }))).toEqual(
      h('00 01 00 00 00 0B 01 10 00 03 00 02 04 04 D2 0D 80'),
    );
    const d = new TcpDeframer();
    const resp = h('00 01 00 00 00 07 01 03 04 00 05 00 06');
    expect(d.push(resp.subarray(0, 5))).toEqual([]);
    const [f] = d.push(resp.subarray(5));
    expect(f).toMatchObject({ transactionId: 1, unit: 1 });
    expect(decodeResponsePdu(f!.pdu)).toEqual({ fc: 3, values: [5, 6] });
    d.push(h('47 45 54 20 2F 20 48 54 54 50'));
    expect(d.bad).toMatch(/not a Modbus TCP frame/);
  });
});

describe('streaming deframer', () => {
  it('splits a stream in any chunking, skipping garbage before, between and inside', () => {
    const a = h('11 03 06 02 2B 00 00 00 64 C8 BA');
    const b = h('01 03 02 00 01 79 84');
    const corrupted = Buffer.from(a);
    corrupted[4] = corrupted[4]! ^ 0x01;
    const stream = Buffer.concat([h('FF 00 13'), a, h('03'), corrupted, b, a]);
    for (let chunk = 1; chunk <= stream.length; chunk++) {
      // Register codes only: with bit responses allowed, `06 02 2B` inside the corrupted frame
      // claims a 48-byte frame and, blind, the deframer rightly waits for it.
      const d = new RtuDeframer('response', REGISTER_FCS);
      const got = [];
      for (let i = 0; i < stream.length; i += chunk) got.push(...d.push(stream.subarray(i, i + chunk)));
      expect(got.map((f) => f.unit)).toEqual([0x11, 1, 0x11]);
      expect(decodeResponsePdu(got[2]!.pdu)).toEqual({ fc: 3, values: [555, 0, 100] });
    }
  });

  it('a garbage byte that looks like a long frame does not hold up the expected answer behind it', () => {
    const d = new RtuDeframer('response');
    d.expect({ unit: 1, fc: 3 });
    // 01 03 F0 claims a 245-byte frame; the real answer follows at once.
    expect(d.push(Buffer.concat([h('01 03 F0'), h('01 03 02 00 01 79 84')])).map((f) => f.unit)).toEqual([1]);
    // Without an expectation it waits (no look-ahead into what may be payload) until reset().
    const blind = new RtuDeframer('response');
    expect(blind.push(Buffer.concat([h('01 03 F0'), h('01 03 02 00 01 79 84')]))).toEqual([]);
    blind.reset();
    expect(blind.push(h('01 03 02 00 01 79 84'))).toHaveLength(1);
  });

  it('with an expectation, answers from other units or functions are skipped', () => {
    const d = new RtuDeframer('response');
    d.expect({ unit: 0x11, fc: 3 });
    const got = d.push(Buffer.concat([h('01 03 02 00 01 79 84'), h('11 03 06 02 2B 00 00 00 64 C8 BA')]));
    expect(got.map((f) => f.unit)).toEqual([0x11]);
    d.expect({ unit: 10, fc: 4 });
    const exc = encodeRtuResponse(10, { fc: 4, exception: 2 });
    expect(d.push(exc).map((f) => decodeResponsePdu(f.pdu))).toEqual([{ fc: 4, exception: 2 }]);
  });

  it('a long answer arriving byte by byte is never cut by a look-ahead inside its payload', () => {
    const random = seededRandom(3);
    for (let round = 0; round < 300; round++) {
      const values = Array.from({ length: 112 }, () => Math.floor(random() * 65536));
      const frame = encodeRtuResponse(1, { fc: 4, values });
      const d = new RtuDeframer('response');
      d.expect({ unit: 1, fc: 4 });
      const got = [];
      for (const byte of frame) got.push(...d.push(Buffer.from([byte])));
      expect(got).toHaveLength(1);
      expect(decodeResponsePdu(got[0]!.pdu)).toEqual({ fc: 4, values });
    }
  });

  it('requests: FC 16 length from its byte count', () => {
    const d = new RtuDeframer('request');
    const frames = d.push(Buffer.concat([h('01 10 30 0D 00 01 02 00 01 56 8E'), h('01 03 00 00 00 0A C5 CD')]));
    expect(frames.map((f) => decodeRequestPdu(f.pdu).fc)).toEqual([16, 3]);
    d.push(h('01 03 00'));
    expect(d.pending).toBe(3);
    d.reset();
    expect(d.pending).toBe(0);
  });
});

describe('fuzz', () => {
  const valid = (random: () => number): Buffer => {
    const unit = 1 + Math.floor(random() * 247);
    const pick = Math.floor(random() * 6);
    const values = Array.from({ length: 1 + Math.floor(random() * 40) }, () => Math.floor(random() * 65536));
    switch (pick) {
      case 0:
        return encodeRtuRequest(unit, { fc: 4, address: Math.floor(random() * 65536), count: 1 + Math.floor(random() * 125) });
      case 1:
        return encodeRtuRequest(unit, { fc: 16, address: Math.floor(random() * 65536), values });
      case 2:
        return encodeRtuResponse(unit, { fc: 3, values });
      case 3:
        return encodeRtuResponse(unit, { fc: 6, address: values[0]!, value: values.at(-1)! });
      case 4:
        return encodeRtuResponse(unit, { fc: 4, exception: 1 + Math.floor(random() * 6) });
      default:
        return encodeRtuRequest(unit, { fc: 6, address: values[0]!, value: values.at(-1)! });
    }
  };

  const mutate = (b: Buffer, random: () => number): Buffer => {
    const out = Buffer.from(b);
    const kind = Math.floor(random() * 4);
    if (kind === 0) {
      const i = Math.floor(random() * out.length);
      out[i] = out[i]! ^ (1 << Math.floor(random() * 8));
    }
    if (kind === 1) return out.subarray(0, Math.floor(random() * out.length));
    if (kind === 2) return Buffer.concat([out, Buffer.from([Math.floor(random() * 256)])]);
    if (kind === 3) out[Math.floor(random() * out.length)] = Math.floor(random() * 256);
    return out;
  };

  function deframeAll(direction: RtuDirection, stream: Buffer, random: () => number) {
    const d = new RtuDeframer(direction);
    const frames = [];
    for (let i = 0; i < stream.length;) {
      const n = 1 + Math.floor(random() * 64);
      frames.push(...d.push(stream.subarray(i, i + n)));
      i += n;
    }
    return { frames, d };
  }

  it('random bytes and mutated frames: no throw but coded errors, no hang, never a bad-CRC frame', () => {
    const random = seededRandom(20261121);
    const started = Date.now();
    let decoded = 0;
    for (let round = 0; round < 1500; round++) {
      const parts: Buffer[] = [];
      for (let i = 0; i < 6; i++) {
        const r = random();
        if (r < 0.35) parts.push(valid(random));
        else if (r < 0.75) parts.push(mutate(valid(random), random));
        else parts.push(Buffer.from(Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256))));
      }
      const stream = Buffer.concat(parts);
      for (const direction of ['request', 'response'] as const) {
        const { frames } = deframeAll(direction, stream, random);
        for (const f of frames) {
          // Re-frame what came out and check the CRC independently of the deframer's own check.
          const raw = Buffer.concat([Buffer.from([f.unit]), f.pdu]);
          let crc = 0xffff;
          for (const byte of raw) {
            crc ^= byte;
            for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
          }
          expect(stream.includes(Buffer.concat([raw, Buffer.from([crc & 0xff, crc >>> 8])]))).toBe(true);
          try {
            if (direction === 'request') decodeRequestPdu(f.pdu);
            else decodeResponsePdu(f.pdu);
            decoded++;
          } catch (err) {
            if (!isGatehouseError(err, 'DEVICE_PROTOCOL')) throw err;
          }
        }
      }
      // The decoders alone, on arbitrary bytes.
      const junk = mutate(valid(random), random);
      for (const fn of [decodeRequestPdu, decodeResponsePdu, unframeRtu]) {
        try {
          fn(junk);
        } catch (err) {
          if (!isGatehouseError(err, 'DEVICE_PROTOCOL')) throw err;
        }
      }
    }
    expect(decoded).toBeGreaterThan(1000);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('every valid frame survives being surrounded by noise (resynchronisation)', () => {
    const random = seededRandom(7);
    for (let round = 0; round < 500; round++) {
      const frame = valid(random);
      const isRequest = frame[1] === 16 || (frame.length === 8 && (frame[1] === 4 || frame[1] === 6));
      // Noise that cannot itself contain a valid frame: short runs of bytes above 247 mostly.
      const noise = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 10) }, () => 248 + Math.floor(random() * 8)));
      const d = new RtuDeframer(isRequest ? 'request' : 'response');
      const got = [...d.push(noise), ...d.push(frame)];
      expect(got.length, frame.toString('hex')).toBe(1);
      expect(d.stats.droppedBytes).toBe(noise.length);
    }
  });

  it('an endless stream of garbage keeps the buffer bounded', () => {
    const random = seededRandom(99);
    const d = new RtuDeframer('response');
    for (let i = 0; i < 2000; i++) {
      d.push(Buffer.from(Array.from({ length: 100 }, () => Math.floor(random() * 256))));
      expect(d.pending).toBeLessThanOrEqual(256);
    }
  });
});
