/**
 * SIA DC-09 messages: the TCP deframer, frame parsing (length, CRC, header), AES decryption
 * and content parsing, then the payload decoders. Everything reports bad input as a result,
 * never a throw; the deframer never holds more than its limit; a message that parses and
 * opens re-encodes to one that parses and opens to the same content.
 * Mode (first byte): bit 0 writes the right CRC and length in front of the body, bit 1 also
 * encrypts the content with the account's key (so decryption succeeds and what is inside gets
 * fuzzed), bit 2 feeds the message through the deframer in chunks sized by the next 3 bytes.
 */
import { encryptContent } from '../../../drivers/dc09/cipher.js';
import { dc09CrcHex } from '../../../drivers/dc09/crc.js';
import { Dc09Deframer } from '../../../drivers/dc09/deframer.js';
import { parseFrame, MAX_MESSAGE_LENGTH } from '../../../drivers/dc09/frame.js';
import { encodeMessage, openContent } from '../../../drivers/dc09/message.js';
import { decodePayload } from '../../../drivers/dc09/payload.js';
import { chunks, invariant, sameValue, text, type FuzzTarget } from '../target.js';

// Published messages (tests/unit/dc09-codec.test.ts: the DC-09 specification, dc09rs and pysiaalarm).
const GOLDEN = [
  '\n87CD0037"ADM-CID"9876R579BDFL789ABC#12345A[#12345A|1110 00 129]\r',
  '\nCE110032"SIA-DCS"9876R579BDFL789ABC#12345A[#12345A|NFA129]\r',
  '\nF4D20029"SIA-DCS"0001RF3L77#1234[#1234|NRR|Atest]\r',
  '\n96ED0016"SIA-DCS"0001L0#1234[]\r',
  '\nE4410025"NAK"0000R0L0A0[]_16:20:01,09-24-2025\r',
  '76D80055"*NULL"0000R0L0#AAAB[B4BC8B40D0E6D959D6BEA78E88CC0B2155741A3C44FBB96D476A3E557CAD64D9',
  '43580023"SIA-DCS"0084L0#AAA[#AAA|Nri1/XC12]',
  '85DF0078"*SIA-DCS"4480L0#EA1984[83F153789366885D5F83DD5A8D19F691DE6602D5D71342E244C040C5D10D89040444068312750F38DF7E63AD3DE8AD5A',
];
/** pysiaalarm's test key of account EA1984 (an Ajax hub). */
const KEY = Buffer.from('3BD7E66AA9E2F190', 'latin1');
const fixedRandom = (n: number): Uint8Array => new Uint8Array(n).fill(0x5a);
const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

function withCrc(body: string): string {
  return `\n${dc09CrcHex(body)}${body.length.toString(16).toUpperCase().padStart(4, '0')}${body}\r`;
}

function check(message: string): void {
  const f = parseFrame(message);
  if (!f.ok) return;
  const c = openContent(f.value, KEY);
  if (!c.ok) return;
  const p = decodePayload(f.value.token, c.value.data);
  invariant(typeof p.ok === 'boolean', 'decodePayload returns a result');
  if (c.value.data.length > 200 || c.value.extended.some((x) => x.length > 200)) return;
  // Round trip: what we parsed, encoded again, parses to the same header and content.
  const again = encodeMessage(f.value, c.value, f.value.encrypted ? KEY : undefined, fixedRandom);
  const f2 = parseFrame(again);
  invariant(f2.ok, `re-encoded message parses: ${f2.ok ? '' : f2.detail}`);
  const c2 = openContent(f2.value, KEY);
  invariant(c2.ok, `re-encoded content opens: ${c2.ok ? '' : c2.detail}`);
  sameValue(c2.value, c.value, 'decode(encode(content)) = content');
  sameValue(
    [f2.value.token, f2.value.seq, f2.value.account, f2.value.encrypted],
    [f.value.token, f.value.seq, f.value.account, f.value.encrypted],
    'header round trip',
  );
}

export const target: FuzzTarget = {
  name: 'dc09-message',
  seeds: () => [
    ...GOLDEN.map((g) => Uint8Array.of(0, 0, 0, 0, ...text(g))),
    ...GOLDEN.map((g) => Uint8Array.of(5, 7, 3, 11, ...text(g))),
    Uint8Array.of(1, 0, 0, 0, ...text('"SIA-DCS"0002L0#1234[#1234|Nri1/BA001|AService visit][X012E34][Y045N12]_08:40:47,07-08-2020')),
    Uint8Array.of(3, 0, 0, 0, ...text('#1234|Nri1/BA001]_08:40:47,07-08-2020')),
    Uint8Array.of(3, 0, 0, 0, ...text('#1234|1130 01 015][Vhttp://cam/1]_08:40:47,07-08-2020')),
  ],
  fuzz(d) {
    if (d.length < 4) return;
    const mode = d[0]!;
    let message = latin1(d.subarray(4));
    if (mode & 2) {
      // The rest is the plain content of an encrypted SIA-DCS message from account EA1984.
      message = withCrc(`"*${mode & 8 ? 'ADM-CID' : 'SIA-DCS'}"0001L0#EA1984[${encryptContent(message, KEY, fixedRandom)}`);
    } else if (mode & 1) {
      message = withCrc(message);
    }
    if (message.length > MAX_MESSAGE_LENGTH + 2) message = message.slice(0, MAX_MESSAGE_LENGTH + 2);
    check(message);
    if (mode & 4) {
      const deframer = new Dc09Deframer({ maxMessageLength: mode & 16 ? 64 : MAX_MESSAGE_LENGTH });
      for (const chunk of chunks(text(message), d.subarray(1, 4))) {
        for (const out of deframer.push(chunk)) if (out.kind === 'message') check(out.text);
        invariant(deframer.buffered <= deframer.maxMessageLength, `deframer holds ${deframer.buffered} characters`);
      }
    }
  },
  dictionary: [
    '"SIA-DCS"',
    '"ADM-CID"',
    '"*SIA-DCS"',
    '"NULL"',
    '"ACK"',
    '"NAK"',
    '#1234',
    '[',
    ']',
    '|',
    '/',
    'Nri',
    'ri',
    'id',
    'ti',
    '_08:40:47,07-08-2020',
    '[X',
    '[Y',
    '[V',
    '[M',
    '[H',
    '[I',
    'L0',
    'R0',
    '\n',
    '\r',
    'BA',
    'FA',
    'OP',
    'CL',
    '|A',
    '1130',
    '3130',
  ],
  // Longer inputs add no coverage (the 64-character deframer of mode bit 4 reaches the
  // overflow paths) and made the loop ~10x slower as the corpus drifted towards 4 KB.
  maxLength: 1500,
};
