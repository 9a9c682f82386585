/**
 * Payload codecs of messages.ts, both directions, against payloads published outside this
 * project where they exist:
 * - [NET-OUT] bytedreamer/OSDP.Net src/OSDP.Net.Tests/Messages/OutputControlCommandTest.cs
 * - [NET-LED] bytedreamer/OSDP.Net src/OSDP.Net.Tests/Model/CommandData/ReaderLedControlsTest.cs
 * - [NET-BUZ] bytedreamer/OSDP.Net src/OSDP.Net.Tests/Model/CommandData/ReaderBuzzerControlTest.cs
 *   and src/OSDP.Net.Tests/Tracing/PacketDecodingTest.cs (whole BUZ and PDID packets)
 * - [NET-KEYSET] bytedreamer/OSDP.Net src/OSDP.Net.Tests/Messages/EncryptionKeySetCommandTest.cs
 * - [NET-CCRYPT] bytedreamer/OSDP.Net src/OSDP.Net.Tests/Model/ReplyData/ChallengeResponseTest.cs
 * - [NET-CAP] bytedreamer/OSDP.Net src/OSDP.Net.Tests/Model/ReplyData/DeviceCapabilitiesTest.cs
 *   (PDCAP "from Dennis' Brivo keypad", a real device)
 * - [NET-RAW] bytedreamer/OSDP.Net src/OSDP.Net.Tests/Model/ReplyData/RawCardDataTest.cs
 * - [NET-KEYPAD] bytedreamer/OSDP.Net src/OSDP.Net.Tests/Model/ReplyData/KeypadDataTest.cs
 * - [LIBOSDP] goToMain/libosdp tests/unit-tests/test-cp-fsm.c (PDID, PDCAP) and test-cp-phy.c
 *   (CHLNG, BUZ payloads)
 * - [CONF] Security-Industry-Association/libosdp-conformance README.md ("Present card" RAW payload)
 * Where no published payload exists (LSTATR, ISTATR/OSTATR, NAK data, RMAC_I) the layout is
 * checked byte by byte against the spec tables cited in the test name.
 */
import { describe, expect, it } from 'vitest';
import { isGatehouseError } from '../../gateway/core/errors.js';
import { decodeFrame } from '../../drivers/osdp/frame.js';
import * as m from '../../drivers/osdp/messages.js';
import { NakCode } from '../../drivers/osdp/types.js';

const hex = (s: string): Uint8Array =>
  Uint8Array.from(
    s
      .split(/[\s-]+/)
      .filter(Boolean)
      .map((x) => parseInt(x, 16)),
  );
const payloadOf = (packet: string): Uint8Array => {
  const r = decodeFrame(hex(packet));
  if (!r.ok) throw new Error(r.detail);
  return r.frame.data;
};
function expectProtocolError(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(isGatehouseError(err, 'DEVICE_PROTOCOL')).toBe(true);
    return;
  }
  throw new Error('expected a DEVICE_PROTOCOL error');
}

describe('commands', () => {
  it('POLL/LSTAT/ISTAT/OSTAT are empty; ID and CAP carry 0x00 (6.1-6.7; SIA Annex E CRC example 2 is osdp_ID 00)', () => {
    expect(m.encodeEmptyCommand()).toEqual(new Uint8Array());
    expect(() => m.decodeEmptyCommand('osdp_POLL', new Uint8Array())).not.toThrow();
    expectProtocolError(() => m.decodeEmptyCommand('osdp_POLL', hex('00')));
    expect(m.encodeIdRequest()).toEqual(payloadOf('53 65 09 00 04 61 00 d9 7a')); // [LIBOSDP] test-cp-phy.c
    expect(m.decodeIdRequest(hex('00'))).toBe(0);
    expect(m.encodeCapRequest()).toEqual(hex('00'));
    expect(m.decodeCapRequest(hex('00'))).toBe(0);
    expectProtocolError(() => m.decodeIdRequest(hex('')));
    expectProtocolError(() => m.decodeCapRequest(hex('00 00')));
  });

  it('OUT [NET-OUT]: 00 03 64 00 01 06 78 00 decodes and re-encodes', () => {
    const data = payloadOf('53-00-10-00-06-68-00-03-64-00-01-06-78-00-0B-5B');
    const records = m.decodeOut(data);
    expect(records).toEqual([
      { output: 0, code: m.OutCode.PERMANENT_OFF_ALLOW_TIMED, timer: 100 },
      { output: 1, code: m.OutCode.TEMPORARY_OFF_RESUME, timer: 120 },
    ]);
    expect(m.encodeOutRecords(records)).toEqual(data);
    expect(m.outRecordToControl(records[0]!)).toEqual({ output: 0, action: 'off' });
    expect(m.outRecordToControl(records[1]!)).toBeUndefined(); // "temporary off" has no OutputControl
  });

  it('OUT maps OutputControl to spec 6.8 codes and back', () => {
    const data = m.encodeOut([
      { output: 0, action: 'off' },
      { output: 1, action: 'on' },
      { output: 2, action: 'pulse-on', ms: 3000 },
      { output: 3, action: 'pulse-on', ms: 20 },
    ]);
    expect(data).toEqual(hex('00 01 00 00  01 02 00 00  02 05 1E 00  03 05 01 00'));
    expect(m.decodeOut(data).map(m.outRecordToControl)).toEqual([
      { output: 0, action: 'off' },
      { output: 1, action: 'on' },
      { output: 2, action: 'pulse-on', ms: 3000 },
      { output: 3, action: 'pulse-on', ms: 100 }, // rounded up to one 100 ms tick
    ]);
    expect(() => m.encodeOut([{ output: 0, action: 'pulse-on', ms: 7_000_000 }])).toThrow(/exceeds/);
    expect(() => m.encodeOut([])).toThrow();
    expectProtocolError(() => m.decodeOut(hex('00 01 00')));
    expectProtocolError(() => m.decodeOut(hex('')));
    expectProtocolError(() => m.decodeOut(hex('00 07 00 00')));
  });

  it('LED [NET-LED]: two 14-byte records decode and re-encode', () => {
    const data = hex('02 03 02 01 02 06 00 04 00 01 02 06 04 03  05 06 02 01 02 06 00 04 00 01 02 06 04 03');
    const records = m.decodeLed(data);
    expect(records[0]).toEqual({
      reader: 2,
      led: 3,
      tempCode: 2,
      tempOn: 1,
      tempOff: 2,
      tempOnColor: m.LedColorCode.cyan,
      tempOffColor: m.LedColorCode.off,
      tempTimer: 4,
      permCode: 1,
      permOn: 2,
      permOff: 6,
      permOnColor: m.LedColorCode.blue,
      permOffColor: m.LedColorCode.amber,
    });
    expect(records[1]!.reader).toBe(5);
    expect(records[1]!.led).toBe(6);
    expect(m.encodeLedRecords(records)).toEqual(data);
    expect(m.ledRecordToControl(records[0]!)).toBeUndefined(); // cyan is not one of our colours
  });

  it('LED maps LedControl (spec 6.10 field order) and back', () => {
    const steadyGreen = m.encodeLed([{ led: 0, color: 'green' }]);
    expect(steadyGreen).toEqual(hex('00 00 00 00 00 00 00 00 00 01 01 00 02 00'));
    const flashRed = m.encodeLed([{ led: 1, color: 'red', ms: 2000, blink: { onMs: 200, offMs: 300 } }], 3);
    expect(flashRed).toEqual(hex('03 01 02 02 03 01 00 14 00 00 00 00 00 00'));
    for (const c of [
      { led: 0, color: 'green' as const },
      { led: 1, color: 'red' as const, ms: 2000, blink: { onMs: 200, offMs: 300 } },
      { led: 2, color: 'amber' as const, blink: { onMs: 500, offMs: 500 } },
      { led: 3, color: 'off' as const },
      { led: 4, color: 'blue' as const, ms: 1500 },
    ]) {
      expect(m.ledRecordToControl(m.decodeLed(m.encodeLed([c]))[0]!)).toEqual(c);
    }
    expectProtocolError(() => m.decodeLed(new Uint8Array(13)));
    expectProtocolError(() => m.decodeLed(hex('00 00 03 00 00 00 00 00 00 00 00 00 00 00')));
  });

  it('BUZ [NET-BUZ]: 00 02 05 02 01 and the traced packet payload 00 02 02 02 01', () => {
    expect(m.decodeBuzzer(hex('00 02 05 02 01'))).toEqual({ reader: 0, tone: 2, on: 5, off: 2, count: 1 });
    const traced = payloadOf('53-00-0D-00-06-6A-00-02-02-02-01-59-92');
    expect(m.decodeBuzzer(traced)).toEqual({ reader: 0, tone: 2, on: 2, off: 2, count: 1 });
    expect(m.encodeBuzzerRecord(m.decodeBuzzer(traced))).toEqual(traced);
    expect(m.encodeBuzzer({ onMs: 500, offMs: 200, count: 1 })).toEqual(hex('00 02 05 02 01'));
    expect(m.encodeBuzzer({ onMs: 0, offMs: 0, count: 0 })).toEqual(hex('00 01 00 00 00')); // tone 1 = off
    expect(m.buzzerRecordToControl(m.decodeBuzzer(hex('00 02 05 02 01')))).toEqual({ onMs: 500, offMs: 200, count: 1 });
    // [LIBOSDP] test-cp-phy.c builds a BUZ with payload 02 05 0a 14 28 only to test framing: tone 5
    // does not exist (spec 6.11: 0, 1, 2), so as a payload it must be rejected.
    expectProtocolError(() => m.decodeBuzzer(hex('02 05 0a 14 28')));
    expectProtocolError(() => m.decodeBuzzer(hex('00 02 05 02')));
  });

  it('KEYSET [NET-KEYSET]: key type 1, length 16, key', () => {
    const key = hex('00 01 02 03 04 05 06 07 00 01 02 03 04 05 06 07');
    const data = payloadOf('53-00-1A-00-06-75-01-10-00-01-02-03-04-05-06-07-00-01-02-03-04-05-06-07-CF-A3');
    expect(payloadOf('53-00-19-00-02-75-01-10-00-01-02-03-04-05-06-07-00-01-02-03-04-05-06-07-D4')).toEqual(data);
    expect(m.encodeKeyset(key)).toEqual(data);
    expect(m.decodeKeyset(data)).toEqual(key);
    expectProtocolError(() => m.decodeKeyset(hex('02 10').slice()));
    const wrongType = data.slice();
    wrongType[0] = 2;
    expectProtocolError(() => m.decodeKeyset(wrongType));
    const wrongLength = data.slice();
    wrongLength[1] = 15;
    expectProtocolError(() => m.decodeKeyset(wrongLength));
    expect(() => m.encodeKeyset(new Uint8Array(15))).toThrow();
  });

  it('CHLNG [LIBOSDP] and SCRYPT', () => {
    const rndA = payloadOf('53 65 10 00 04 76 01 02 03 04 05 06 07 08 0d 20');
    expect(m.decodeChallenge(rndA)).toEqual(hex('01 02 03 04 05 06 07 08'));
    expect(m.encodeChallenge(hex('01 02 03 04 05 06 07 08'))).toEqual(rndA);
    expectProtocolError(() => m.decodeChallenge(new Uint8Array(7)));
    const cryptogram = Uint8Array.from({ length: 16 }, (_, i) => i);
    expect(m.decodeServerCryptogram(m.encodeServerCryptogram(cryptogram))).toEqual(cryptogram);
    expectProtocolError(() => m.decodeServerCryptogram(new Uint8Array(17)));
  });
});

describe('replies', () => {
  it('ACK/BUSY are empty; NAK carries its code and optional data (7.2)', () => {
    expect(() => m.decodeEmptyReply('osdp_ACK', new Uint8Array())).not.toThrow();
    expectProtocolError(() => m.decodeEmptyReply('osdp_BUSY', hex('01')));
    for (const code of Object.values(NakCode)) expect(m.decodeNak(m.encodeNak(code))).toEqual({ code, data: new Uint8Array() });
    expect(m.encodeNak(NakCode.SECURITY_BLOCK_UNSUPPORTED, hex('17'))).toEqual(hex('05 17'));
    expect(m.decodeNak(hex('05 17'))).toEqual({ code: 5, data: hex('17') });
    expectProtocolError(() => m.decodeNak(hex('')));
  });

  it('PDID [NET-BUZ trace reply] and [LIBOSDP] resp_id', () => {
    const net = payloadOf('53-80-14-00-06-45-00-0E-E3-10-10-00-00-74-97-23-06-06-1B-88');
    const id = m.decodePdid(net);
    expect(id).toEqual({ vendor: '000EE3', model: 0x10, version: 0x10, serial: 0x97740000, firmware: '35.6.6' });
    expect(m.encodePdid(id)).toEqual(net);
    const lib = payloadOf('53 e5 14 00 04 45 a1 a2 a3 b1 c1 d1 d2 d3 d4 e1 e2 e3 f8 d9');
    expect(m.decodePdid(lib)).toEqual({ vendor: 'A1A2A3', model: 0xb1, version: 0xc1, serial: 0xd4d3d2d1, firmware: '225.226.227' });
    expect(m.encodePdid(m.decodePdid(lib))).toEqual(lib);
    expectProtocolError(() => m.decodePdid(lib.subarray(1)));
    expect(() => m.encodePdid({ vendor: 'xyz', model: 1, version: 1, serial: 1, firmware: '1.2.3' })).toThrow();
  });

  it('PDCAP [NET-CAP] real Brivo keypad and [LIBOSDP] resp_cap', () => {
    const brivo = Uint8Array.of(3, 1, 1, 4, 4, 1, 5, 2, 1, 6, 0, 0, 7, 0, 0, 8, 1, 0, 9, 1, 1, 10, 194, 1, 14, 0, 0, 15, 0, 0, 16, 1, 0);
    const caps = m.decodePdcap(brivo);
    expect(caps.map((c) => c.function)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16]);
    expect(caps[6]).toEqual({ function: 9, compliance: 1, count: 1 }); // AES-128, default key
    expect(caps[7]).toEqual({ function: 10, compliance: 194, count: 1 }); // receive buffer 450 = 0x01C2 LE
    expect(m.encodePdcap(caps)).toEqual(brivo);
    expect(m.decodePdcap(payloadOf('53 e5 0b 00 05 46 04 04 01 b3 ec'))).toEqual([{ function: 4, compliance: 4, count: 1 }]);
    expectProtocolError(() => m.decodePdcap(hex('01 02'))); // OSDP.Net ThrowsWhenDataWrongLength
  });

  it('LSTATR (7.5: tamper, power), ISTATR/OSTATR (7.6/7.7: one byte per point)', () => {
    expect(m.decodeLocalStatus(hex('01 00'))).toEqual({ tamper: true, power: false });
    expect(m.encodeLocalStatus({ tamper: false, power: true })).toEqual(hex('00 01'));
    expectProtocolError(() => m.decodeLocalStatus(hex('01')));
    expect(m.decodePointStatus('osdp_ISTATR', hex('00 01 01 00'))).toEqual([false, true, true, false]);
    expect(m.encodePointStatus([true, false])).toEqual(hex('01 00'));
    expect(m.decodePointStatus('osdp_OSTATR', hex(''))).toEqual([]);
    expectProtocolError(() => m.decodePointStatus('osdp_OSTATR', hex('00 02')));
  });

  it('RAW [NET-RAW] 16 bits and [CONF] 75 bits', () => {
    const raw = m.decodeRaw(hex('05 00 10 00 12 ab'));
    expect(raw).toEqual({ reader: 5, format: 0, bits: 16, data: hex('12 ab') });
    expect(m.encodeRaw(raw)).toEqual(hex('05 00 10 00 12 ab'));
    const conf = m.decodeRaw(hex('00 00 4b 00 09 a4 49 4a a3 27 4c d5 2b c0'));
    expect(conf.bits).toBe(75);
    expect(conf.data).toHaveLength(10);
    expectProtocolError(() => m.decodeRaw(hex('05 00 10 00 12'))); // too few data bytes
    expectProtocolError(() => m.decodeRaw(hex('05 00 10 00 12 ab cd'))); // too many
    expectProtocolError(() => m.decodeRaw(hex('05 00 00 00')));
    expectProtocolError(() => m.decodeRaw(hex('05 00 10')));
    expect(() => m.encodeRaw({ reader: 0, format: 1, bits: 26, data: new Uint8Array(3) })).toThrow();
  });

  it('KEYPAD (7.12: ASCII digits, 0x7F = *, 0x0D = #)', () => {
    expect(m.decodeKeypad(hex('01 06 31 32 33 34 7F 0D'))).toEqual({ reader: 1, keys: '1234*#' });
    expect(m.encodeKeypad({ reader: 1, keys: '1234*#' })).toEqual(hex('01 06 31 32 33 34 7F 0D'));
    expect(m.decodeKeypad(hex('01 00'))).toEqual({ reader: 1, keys: '' }); // [NET-KEYPAD] ParseNoData
    // [NET-KEYPAD] ParseData uses key bytes 00..04, which are not keys under spec 7.12 (ASCII):
    // documented must-reject.
    expectProtocolError(() => m.decodeKeypad(hex('01 05 00 01 02 03 04')));
    expectProtocolError(() => m.decodeKeypad(hex('01 03 31 32')));
    expectProtocolError(() => m.decodeKeypad(hex('01')));
    expect(() => m.encodeKeypad({ reader: 0, keys: 'A' })).toThrow();
  });

  it('CCRYPT [NET-CCRYPT] and RMAC_I', () => {
    const data = hex('01-02-03-04-05-06-07-08-11-22-33-44-55-66-77-88-00-10-20-30-40-50-60-70-80-90-A0-B0-C0-D0-E0-F0');
    const c = m.decodeCcrypt(data);
    expect(c.cuid).toEqual(hex('01 02 03 04 05 06 07 08'));
    expect(c.rndB).toEqual(hex('11 22 33 44 55 66 77 88'));
    expect(c.cryptogram).toEqual(hex('00 10 20 30 40 50 60 70 80 90 A0 B0 C0 D0 E0 F0'));
    expect(m.encodeCcrypt(c)).toEqual(data);
    expectProtocolError(() => m.decodeCcrypt(data.subarray(1)));
    const rmac = Uint8Array.from({ length: 16 }, (_, i) => 0xf0 - i);
    expect(m.decodeRmacI(m.encodeRmacI(rmac))).toEqual(rmac);
    expectProtocolError(() => m.decodeRmacI(rmac.subarray(4)));
  });
});

describe('hostile payloads', () => {
  it('every decoder throws only DEVICE_PROTOCOL on random data', () => {
    let seed = 0x1234;
    const next = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) >>> 24;
    const decoders: Array<(d: Uint8Array) => unknown> = [
      (d) => m.decodeEmptyCommand('x', d),
      m.decodeIdRequest,
      m.decodeCapRequest,
      m.decodeOut,
      m.decodeLed,
      m.decodeBuzzer,
      m.decodeKeyset,
      m.decodeChallenge,
      m.decodeServerCryptogram,
      (d) => m.decodeEmptyReply('x', d),
      m.decodeNak,
      m.decodePdid,
      m.decodePdcap,
      m.decodeLocalStatus,
      (d) => m.decodePointStatus('osdp_ISTATR', d),
      m.decodeRaw,
      m.decodeKeypad,
      m.decodeCcrypt,
      m.decodeRmacI,
    ];
    for (let n = 0; n < 3000; n++) {
      const data = Uint8Array.from({ length: next() % 48 }, next);
      for (const decode of decoders) {
        try {
          decode(data);
        } catch (err) {
          if (!isGatehouseError(err, 'DEVICE_PROTOCOL')) throw err;
        }
      }
    }
  });
});
