/**
 * OSDP command and reply payload decoders. Decoders refuse bad bytes with DEVICE_PROTOCOL
 * only; whatever one accepts must encode and decode to the same value. Input: [decoder][data].
 */
import * as m from '../../../drivers/osdp/messages.js';
import { cardHexFromRaw } from '../../../drivers/osdp/card.js';
import { expectCoded, sameValue, type FuzzTarget } from '../target.js';

type Case = [name: string, check: (data: Uint8Array) => void];

/** decode, then decode(encode(decoded)) must equal decoded. */
function roundTrip<T>(decode: (d: Uint8Array) => T, encode: (v: T) => Uint8Array): (d: Uint8Array) => void {
  return (data) => {
    const v = expectCoded(['DEVICE_PROTOCOL'], () => decode(data));
    if (v === undefined) return;
    sameValue(decode(encode(v)), v, 'decode(encode(x)) = x');
  };
}
const decodeOnly =
  (decode: (d: Uint8Array) => unknown) =>
  (data: Uint8Array): void =>
    void expectCoded(['DEVICE_PROTOCOL'], () => decode(data));

const CASES: Case[] = [
  ['POLL', decodeOnly((d) => m.decodeEmptyCommand('osdp_POLL', d))],
  ['ID', decodeOnly(m.decodeIdRequest)],
  ['CAP', decodeOnly(m.decodeCapRequest)],
  ['OUT', roundTrip(m.decodeOut, m.encodeOutRecords)],
  ['LED', roundTrip(m.decodeLed, m.encodeLedRecords)],
  ['BUZ', roundTrip(m.decodeBuzzer, m.encodeBuzzerRecord)],
  ['KEYSET', roundTrip(m.decodeKeyset, m.encodeKeyset)],
  ['CHLNG', roundTrip(m.decodeChallenge, m.encodeChallenge)],
  ['SCRYPT', roundTrip(m.decodeServerCryptogram, m.encodeServerCryptogram)],
  ['ACK', decodeOnly((d) => m.decodeEmptyReply('osdp_ACK', d))],
  ['NAK', roundTrip(m.decodeNak, (n) => m.encodeNak(n.code, n.data))],
  ['PDID', roundTrip(m.decodePdid, m.encodePdid)],
  ['PDCAP', roundTrip(m.decodePdcap, m.encodePdcap)],
  ['LSTATR', roundTrip(m.decodeLocalStatus, m.encodeLocalStatus)],
  ['ISTATR', decodeOnly((d) => m.decodePointStatus('osdp_ISTATR', d))],
  ['OSTATR', decodeOnly((d) => m.decodePointStatus('osdp_OSTATR', d))],
  [
    'RAW',
    (data) => {
      const raw = expectCoded(['DEVICE_PROTOCOL'], () => m.decodeRaw(data));
      if (!raw) return;
      sameValue(m.decodeRaw(m.encodeRaw(raw)), raw, 'decode(encode(raw)) = raw');
      expectCoded(['DEVICE_PROTOCOL', 'CMD_INVALID'], () => cardHexFromRaw(raw.bits, raw.data));
    },
  ],
  ['KEYPAD', roundTrip(m.decodeKeypad, m.encodeKeypad)],
  ['CCRYPT', roundTrip(m.decodeCcrypt, m.encodeCcrypt)],
  ['RMAC_I', roundTrip(m.decodeRmacI, m.encodeRmacI)],
  [
    'OUT->control',
    (data) => {
      for (const r of expectCoded(['DEVICE_PROTOCOL'], () => m.decodeOut(data)) ?? []) m.outRecordToControl(r);
    },
  ],
  [
    'LED->control',
    (data) => {
      for (const r of expectCoded(['DEVICE_PROTOCOL'], () => m.decodeLed(data)) ?? []) m.ledRecordToControl(r);
    },
  ],
  [
    'BUZ->control',
    (data) => {
      const r = expectCoded(['DEVICE_PROTOCOL'], () => m.decodeBuzzer(data));
      if (r) m.buzzerRecordToControl(r);
    },
  ],
];

const seed = (name: string, bytes: Uint8Array): Uint8Array =>
  Uint8Array.of(
    CASES.findIndex(([n]) => n === name),
    ...bytes,
  );

export const target: FuzzTarget = {
  name: 'osdp-payloads',
  // Payloads of the golden packets in tests/unit/osdp-messages.test.ts.
  seeds: () => [
    seed('ID', Uint8Array.of(0)),
    seed('CAP', Uint8Array.of(0)),
    seed('POLL', new Uint8Array(0)),
    seed('OUT', Uint8Array.of(0, 2, 0x0a, 0)),
    seed('LED', Uint8Array.of(0, 0, 1, 5, 5, 1, 2, 0, 0, 1, 5, 5, 1, 2, 0x2c, 1)),
    seed('BUZ', Uint8Array.of(0, 2, 5, 5, 3)),
    seed('KEYSET', Uint8Array.of(1, 16, ...new Uint8Array(16).fill(0x30))),
    seed('CHLNG', Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)),
    seed('NAK', Uint8Array.of(5, 0x11)),
    seed('PDID', Uint8Array.of(0xa1, 0xa2, 0xa3, 0xb1, 0xc1, 0xd1, 0xd2, 0xd3, 0xd4, 0xe1, 0xe2, 0xe3)),
    seed('PDCAP', Uint8Array.of(3, 1, 1, 4, 4, 1, 5, 2, 1, 6, 0, 0, 7, 0, 0, 8, 1, 0, 9, 1, 1, 10, 194, 1, 14, 0, 0, 15, 0, 0, 16, 1, 0)),
    seed('LSTATR', Uint8Array.of(0, 1)),
    seed('ISTATR', Uint8Array.of(0, 1, 1, 0)),
    seed('RAW', Uint8Array.of(0, 1, 26, 0, 0x02, 0x1f, 0x40, 0x80)),
    seed('KEYPAD', Uint8Array.of(0, 4, 0x31, 0x32, 0x33, 0x0d)),
    seed('CCRYPT', new Uint8Array(32).fill(7)),
    seed('RMAC_I', new Uint8Array(16).fill(9)),
  ],
  fuzz(d) {
    if (d.length < 1) return;
    CASES[d[0]! % CASES.length]![1](d.subarray(1));
  },
  maxLength: 512,
};
