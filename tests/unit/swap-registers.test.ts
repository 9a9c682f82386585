/**
 * The battery-swap codec (register map v1.1, docs/cabinet-register-map.md section 10)
 * against golden frames written by hand from the Modbus specification's framing (Modbus
 * Application Protocol v1.1b3 PDUs; Modbus over Serial Line v1.02 RTU framing with the
 * CRC-16 low byte first; MBAP header for TCP). The CRCs were computed outside this
 * repository; none of these bytes come from our encoder.
 */
import { describe, expect, it } from 'vitest';
import { decodeRequestPdu, decodeResponsePdu, encodeRequestPdu, type ModbusRequest } from '../../drivers/modbus/pdu.js';
import { encodeRtuRequest, unframeRtu } from '../../drivers/modbus/rtu-frame.js';
import { frameTcp } from '../../drivers/modbus/tcp-frame.js';
import {
  decodeSlot,
  decodeSwapIdentity,
  decodeSwapPoll,
  decodeSwapStatus,
  encodeSlot,
  encodeSwapCommand,
  needsKindRead,
  swapPollPlan,
  type RegisterWrite,
} from '../../drivers/swap/registers.js';
import { encodeIdentity, encodeStatus } from '../../drivers/cabinet/registers.js';
import { decodeIdentity } from '../../drivers/cabinet/registers.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const asRequest = (w: RegisterWrite): ModbusRequest =>
  w.fc === 6 ? { fc: 6, address: w.address, value: w.values[0]! } : { fc: 16, address: w.address, values: w.values };

describe('swap register map v1.1: golden frames', () => {
  it('open slot 3 for 30 s is one FC 16 request: timeout and command together', () => {
    // unit 01, FC 10, address 1408, quantity 0002, byte count 04, values 001E 0001, CRC CFAC (low byte first)
    const golden = hex('01 10 14 08 00 02 04 00 1E 00 01 AC CF');
    expect(encodeRtuRequest(1, asRequest(encodeSwapCommand({ kind: 'open', slot: 3, timeoutS: 30 })))).toEqual(golden);
    expect(decodeRequestPdu(unframeRtu(golden).pdu)).toEqual({ fc: 16, address: 0x1408, values: [30, 1] });
  });

  it('isolate slot 3 and trigger fire suppression are FC 06 single-register writes', () => {
    expect(encodeRtuRequest(1, asRequest(encodeSwapCommand({ kind: 'isolate', slot: 3 })))).toEqual(hex('01 06 14 09 00 04 5D FB'));
    expect(encodeRtuRequest(1, asRequest(encodeSwapCommand({ kind: 'suppress' })))).toEqual(hex('01 06 10 00 00 03 CD 0B'));
    // Modbus TCP: transaction 0001, protocol 0000, length 0006, unit 01, then the PDU.
    const pdu = encodeRequestPdu(asRequest(encodeSwapCommand({ kind: 'charge', slot: 3, enabled: false })));
    expect(frameTcp(1, 1, pdu)).toEqual(hex('00 01 00 00 00 06 01 06 14 09 00 03'));
  });

  it('reads slot 3 with FC 04 at 0x0430 x24 and decodes the worked example of section 10.7', () => {
    const read = swapPollPlan(3)[1]!;
    expect(read).toEqual({ fc: 4, address: 0x0400, count: 72 });
    expect(encodeRtuRequest(1, { fc: 4, address: 0x0430, count: 24 })).toEqual(hex('01 04 04 30 00 18 F1 3F'));
    const answer = hex(
      '01 04 30' +
        '0001 0000 0001 0001 0000 003E 020C 015E 013B 00BB 005E 0000' +
        '4748 2D50 4143 4B2D 3030 3432 0000 0000 03C0 0001 0000 0000' +
        'C0 7B',
    );
    const res = decodeResponsePdu(unframeRtu(answer).pdu);
    if (!('values' in res)) throw new Error('not a register answer');
    const slot = decodeSlot(res.values, 3);
    expect(slot).toEqual({
      slot: 3,
      doorLocked: true,
      doorOpen: false,
      present: true,
      charger: 'charging',
      faultCode: 0,
      soc: 62,
      voltage: 52.4,
      current: 3.5,
      temperature: 31.5,
      cycles: 187,
      health: 94,
      bmsFaults: 0,
      batteryId: 'GH-PACK-0042',
      energyWh: 960,
      chargeEnabled: true,
      isolated: false,
      openRemainingS: 0,
    });
    expect(encodeSlot(slot)).toEqual(res.values);
  });

  it('a 24-slot poll is 6 requests of whole blocks, none above 125 registers (section 10.6)', () => {
    expect(swapPollPlan(24).map((r) => [r.address, r.count])).toEqual([
      [0x00f0, 16],
      [0x0400, 120],
      [0x0478, 120],
      [0x04f0, 120],
      [0x0568, 120],
      [0x05e0, 96],
    ]);
    expect(swapPollPlan(12).map((r) => [r.address, r.count])).toEqual([
      [0x00f0, 16],
      [0x0400, 120],
      [0x0478, 120],
      [0x04f0, 48],
    ]);
  });
});

describe('swap register map v1.1: kinds and bad values', () => {
  const idWords = (minor: number, ports: number): number[] =>
    encodeIdentity({ vendor: 'ACME', model: 'BSC-12', serial: 'S1', firmware: '1.0', portCount: ports, mapVersion: { major: 1, minor } });

  it('a swap cabinet reports port count 0, so a v1.0 charging reader refuses it; the kind block says swap', () => {
    const words = idWords(1, 0);
    expect(() => decodeIdentity(words)).toThrow(/port count 0/);
    expect(needsKindRead(words)).toBe(true);
    expect(decodeSwapIdentity(words, [2, 12, 0, 0])).toMatchObject({ slotCount: 12, vendor: 'ACME', mapVersion: { major: 1, minor: 1 } });
    expect(() => decodeSwapIdentity(words, [1, 0, 0, 0])).toThrow(/not a battery-swap cabinet/);
    expect(needsKindRead(idWords(0, 12))).toBe(false);
  });

  it('refuses values outside the map with DEVICE_PROTOCOL', () => {
    const base = encodeSlot(
      decodeSlot(
        new Array(24).fill(0).map((_, i) => (i === 21 ? 1 : 0)),
        1,
      ),
    );
    const bad = (i: number, v: number): number[] => base.map((w, j) => (j === i ? v : w));
    expect(() => decodeSlot(bad(3, 9), 1)).toThrow(expect.objectContaining({ code: 'DEVICE_PROTOCOL' }));
    expect(() => decodeSlot(bad(2, 2), 1)).toThrow(/battery present must be 0 or 1/);
    expect(() => decodeSlot(bad(5, 101), 1)).toThrow(/above 100/);
    expect(() => decodeSlot(bad(12, 0x0141), 1)).toThrow(/printable ASCII/);
    const status = encodeStatus({
      mainsVoltage: 230,
      mainsPresent: true,
      temperature: 25,
      smoke: false,
      doorOpen: false,
      fanOn: false,
      powerOn: true,
    });
    expect(decodeSwapStatus(status).suppression).toBe('absent');
    status[9] = 4;
    expect(() => decodeSwapStatus(status)).toThrow(/fire suppression/);
    expect(() => decodeSwapPoll(2, [status])).toThrow(/expected 2 answers/);
  });

  it('refuses commands the map cannot carry before anything goes on the wire', () => {
    expect(() => encodeSwapCommand({ kind: 'open', slot: 3, timeoutS: 0 })).toThrow(expect.objectContaining({ code: 'CMD_INVALID' }));
    expect(() => encodeSwapCommand({ kind: 'open', slot: 13, timeoutS: 30 }, 12)).toThrow(/slot 13/);
  });
});
