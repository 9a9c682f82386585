/**
 * SIA DC-09 data blocks: SIA DCS (event codes, modifiers, text blocks, several events per
 * message) and Contact ID. Decoders answer a result, never throw; every event they produce
 * has a code and a known kind, except the one event of a SIA message of text alone (code '',
 * kind 'other', the text kept: docs/INTERFACES.md). First byte: 0 = SIA-DCS, 1 = ADM-CID, 2 = decodePayload with a
 * fuzzed token.
 */
import { decodeContactId, decodePayload, decodeSiaDcs } from '../../../drivers/dc09/payload.js';
import { invariant, text, type FuzzTarget } from '../target.js';

const KINDS = new Set(['alarm', 'restore', 'trouble', 'open', 'close', 'bypass', 'test', 'other']);
// Data blocks of the unit tests (tests/unit/dc09-codec.test.ts, dc09-processor.test.ts) and the DC-09 examples.
const SIA = [
  '#1234|Nri1/BA001',
  '#12345A|NFA129',
  '#1234|NRR|Atest',
  '#AAA|Nri1/XC12',
  '#1234|Nti19:44/id1/ri4/RP',
  '#1234|NRR|AService visit',
  'Nri1/BB',
  '#AB12|Nri0/RP000',
  '#1234|Nri2/BA003/BA004/FA005',
];
const CID = [
  '#12345A|1110 00 129',
  '#1234|1130 01 015',
  '#5678|3401 01 003',
  '#1234|1602 00 000',
  '#1234|1116 01 001',
  '#1234|1353 00 000',
];

export const target: FuzzTarget = {
  name: 'dc09-payload',
  seeds: () => [
    ...SIA.map((s) => Uint8Array.of(0, ...text(s))),
    ...CID.map((s) => Uint8Array.of(1, ...text(s))),
    Uint8Array.of(2, ...text('SIA-DCS|#1234|Nri1/BA001')),
  ],
  fuzz(d) {
    if (d.length < 1) return;
    const s = Buffer.from(d.subarray(1)).toString('latin1');
    let r;
    switch (d[0]! % 3) {
      case 0:
        r = decodeSiaDcs(s);
        break;
      case 1:
        r = decodeContactId(s);
        break;
      default: {
        const bar = s.indexOf('|');
        r = decodePayload(bar < 0 ? s : s.slice(0, bar), bar < 0 ? '' : s.slice(bar + 1));
      }
    }
    invariant(typeof r.ok === 'boolean', 'a result');
    if (!r.ok) return;
    for (const e of r.value) {
      invariant(typeof e.code === 'string', 'every event has a code field');
      const textOnly = e.code === '' && e.kind === 'other' && e.protocol === 'SIA-DCS' && e.text.length > 0;
      invariant(e.code.length > 0 || (textOnly && r.value.length === 1), 'every event has a code, but a message of text alone');
      invariant(KINDS.has(e.kind), `known kind, got ${String(e.kind)}`);
    }
  },
  dictionary: [
    '#',
    '|',
    '/',
    'N',
    'ri',
    'id',
    'ti',
    'pi',
    'BA',
    'BR',
    'FA',
    'OP',
    'CL',
    'RP',
    'RR',
    'XC',
    '|A',
    'A',
    '1',
    '3',
    '6',
    '1130',
    '3130',
    '1602',
    '1116',
    '1353',
    ' 00 ',
    ' 01 ',
  ],
  maxLength: 600,
};
