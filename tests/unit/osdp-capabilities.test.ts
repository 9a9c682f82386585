/**
 * osdp_PDCAP read from bytes written by others: a whole reply frame from libosdp's CP state
 * machine test (tests/unit-tests/test-cp-fsm.c, `resp_cap`) and the capability payload of a
 * Brivo keypad captured in OSDP.Net's DeviceCapabilitiesTest; then the rules for what such a
 * reader may be sent.
 */
import { describe, expect, it } from 'vitest';
import { summariseCapabilities, unsupportedBy } from '../../drivers/osdp/capabilities.js';
import { decodePdcap } from '../../drivers/osdp/cp-codec.js';
import { OsdpDeframer } from '../../drivers/osdp/deframer.js';
import { Reply } from '../../drivers/osdp/types.js';

/** libosdp test-cp-fsm.c resp_cap: mark byte, PD 0x65 replying, CRC, SQN 1, PDCAP {LED, tri-colour, 1}. */
const LIBOSDP_PDCAP_FRAME = Uint8Array.of(0xff, 0x53, 0xe5, 0x0b, 0x00, 0x05, 0x46, 0x04, 0x04, 0x01, 0xb3, 0xec);
/** OSDP.Net DeviceCapabilitiesTest `_rawCapsFromDennisBrivoKeypad`. */
const BRIVO_PDCAP = Uint8Array.of(3, 1, 1, 4, 4, 1, 5, 2, 1, 6, 0, 0, 7, 0, 0, 8, 1, 0, 9, 1, 1, 10, 194, 1, 14, 0, 0, 15, 0, 0, 16, 1, 0);

describe('osdp_PDCAP from other implementations', () => {
  it("libosdp's PDCAP reply frame deframes (CRC checked) and reads as one tri-colour LED, nothing else", () => {
    const out = new OsdpDeframer().push(LIBOSDP_PDCAP_FRAME);
    expect(out).toHaveLength(1);
    const f = out[0]!;
    if (f.kind !== 'frame') throw new Error(`not a frame: ${JSON.stringify(f)}`);
    expect(f.frame).toMatchObject({ address: 0x65, reply: true, sqn: 1, crc: true, code: Reply.PDCAP });
    const records = decodePdcap(f.frame.data);
    expect(records).toEqual([{ function: 4, compliance: 4, count: 1 }]);
    const caps = summariseCapabilities(records);
    expect(caps).toMatchObject({
      ledColors: ['off', 'red', 'green', 'amber'],
      leds: 1,
      buzzer: false,
      text: null,
      inputs: 0,
      outputs: 0,
      secureChannel: false,
    });
    expect(unsupportedBy(caps, { led: 'amber' })).toBeUndefined();
    expect(unsupportedBy(caps, { led: 'blue' })).toMatch(/cannot show blue/);
    expect(unsupportedBy(caps, { buzzer: true })).toMatch(/no buzzer/);
  });

  it('a broken CRC on that frame is refused (the golden bytes are what is checked)', () => {
    const bad = Uint8Array.from(LIBOSDP_PDCAP_FRAME);
    bad[bad.length - 1] = bad.at(-1)! ^ 0x01;
    expect(new OsdpDeframer().push(bad).filter((o) => o.kind === 'frame')).toEqual([]);
  });

  it("a Brivo keypad's capabilities: tri-colour LED, timed buzzer, no text, CRC, secure channel with the install key, 450-byte buffer", () => {
    const caps = summariseCapabilities(decodePdcap(BRIVO_PDCAP));
    expect(caps).toMatchObject({
      ledColors: ['off', 'red', 'green', 'amber'],
      leds: 1,
      buzzer: true,
      text: null,
      crc: true,
      secureChannel: true,
      defaultKey: true,
      receiveBufferBytes: 194 + 256,
      osdpVersion: 1,
    });
    expect(caps.raw).toHaveLength(11);
    expect(unsupportedBy(caps, { text: true })).toMatch(/no text display/);
    expect(unsupportedBy(caps, { buzzer: true })).toBeUndefined();
  });

  it('a PDCAP that is not whole 3-byte records is refused', () => {
    expect(() => decodePdcap(BRIVO_PDCAP.subarray(0, 10))).toThrow();
  });

  it('LED rules: none, single colour (any colour lights it), bi-colour; buzzer and text by compliance and count', () => {
    const caps = (...records: [number, number, number][]) =>
      summariseCapabilities(records.map(([fn, compliance, count]) => ({ function: fn, compliance, count })));
    expect(unsupportedBy(caps([4, 0, 0]), { led: 'red' })).toMatch(/no LED control/);
    expect(unsupportedBy(caps(), { led: 'off' })).toMatch(/no LED control/);
    expect(unsupportedBy(caps([4, 1, 1]), { led: 'green' })).toBeUndefined();
    expect(unsupportedBy(caps([4, 3, 1]), { led: 'green' })).toBeUndefined();
    expect(unsupportedBy(caps([4, 3, 1]), { led: 'amber' })).toMatch(/cannot show amber/);
    expect(unsupportedBy(caps([5, 1, 0]), { buzzer: true })).toMatch(/no buzzer/);
    expect(caps([6, 2, 1]).text).toEqual({ displays: 1, rows: 2, columns: 16 });
    expect(unsupportedBy(caps([6, 2, 1]), { text: true })).toBeUndefined();
    // Nothing known yet (no PDCAP read): everything is sent, as before.
    expect(unsupportedBy(undefined, { buzzer: true })).toBeUndefined();
  });
});
