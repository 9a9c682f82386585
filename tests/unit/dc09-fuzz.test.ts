/**
 * Seeded fuzzing of the DC-09 deframer, parser and processor: ~20k cases each of random
 * bytes, mutated valid messages (plain and encrypted) and random chunkings. Properties:
 * nothing throws, the deframer never holds more than its limit, every answer is a
 * well-formed ACK/NAK/DUH, and an unmodified message survives any chunking.
 */
import { describe, expect, it } from 'vitest';
import { secretsFrom } from '../../config/load.js';
import { parseKeyHex } from '../../drivers/dc09/cipher.js';
import { Dc09Deframer } from '../../drivers/dc09/deframer.js';
import { parseFrame, MAX_MESSAGE_LENGTH } from '../../drivers/dc09/frame.js';
import { encodeMessage, openContent } from '../../drivers/dc09/message.js';
import { decodePayload } from '../../drivers/dc09/payload.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Dc09Processor } from '../../gateway/perimeter/dc09-processor.js';
import { PanelService } from '../../gateway/perimeter/panel-service.js';
import { FakeOutbox, FakeSink, KEY256, SECRETS, panels } from './dc09-fixtures.js';

/** mulberry32: small, seeded, good enough to explore inputs reproducibly. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}

const ALPHABET = '\n\r"[]|#_*,:-/^0123456789ABCDEFNRLKabcri SIA-DCSADM-CIDNULL';
const DATA = [
  '#1234|Nri1/BA001',
  '#1234|1130 01 015',
  '#AB12|Nri0/RP000',
  '',
  '#5678|3401 01 003',
  '|Nti19:44/id1/ri4/RP',
  'Nri1/BB',
  '#1234|NRR|Atest',
];

function mutate(r: ReturnType<typeof rng>, s: string): string {
  const chars = s.split('');
  const n = 1 + r.int(4);
  for (let i = 0; i < n; i++) {
    const at = r.int(chars.length + 1);
    switch (r.int(4)) {
      case 0:
        chars.splice(at, 1);
        break;
      case 1:
        chars.splice(at, 0, r.pick(ALPHABET.split('')));
        break;
      case 2:
        chars[at] = String.fromCharCode(r.int(256));
        break;
      default:
        chars.splice(at, r.int(8));
    }
  }
  return chars.join('');
}

function validMessage(r: ReturnType<typeof rng>, now: number): string {
  const encrypted = r.next() < 0.4;
  const account = encrypted ? 'AB12' : r.pick(['1234', '9999', '5678']);
  const token = r.pick(['SIA-DCS', 'ADM-CID', 'NULL', 'SIA-DCS']);
  const data = r.pick(DATA);
  return encodeMessage(
    { token, encrypted, seq: String(r.int(10000)).padStart(4, '0'), line: '0', account },
    { data, extended: r.next() < 0.2 ? ['X12.5'] : [], timestamp: now - r.int(30_000) },
    encrypted ? parseKeyHex(KEY256) : undefined,
  );
}

describe('DC-09 fuzzing', () => {
  it('the parser, the payload decoders and openContent never throw (20k cases)', async () => {
    const r = rng(0xdc09);
    const key = parseKeyHex(KEY256)!;
    for (let i = 0; i < 20_000; i++) {
      const s =
        r.next() < 0.3
          ? Array.from({ length: r.int(120) }, () => String.fromCharCode(r.int(256))).join('')
          : mutate(r, validMessage(r, 1.7e12));
      const f = parseFrame(s);
      if (f.ok) {
        const c = openContent(f.value, key);
        if (c.ok) decodePayload(f.value.token, c.value.data);
      }
      decodePayload(r.pick(['SIA-DCS', 'ADM-CID']), mutate(r, r.pick(DATA)));
    }
  });

  it('the processor answers every input with ACK, NAK or DUH and never throws (20k cases)', async () => {
    const r = rng(42);
    const clock = new ManualClock();
    const sink = new FakeSink();
    const service = new PanelService({ panels: panels(), sink, outbox: new FakeOutbox(), clock, timers: clock, log: silentLogger() });
    const p = new Dc09Processor({
      panels: panels(),
      secrets: secretsFrom(SECRETS),
      timestampWindow: { pastS: 20, futureS: 40 },
      service,
      clock,
      log: silentLogger(),
    });
    const outcomes: Record<string, number> = {};
    for (let i = 0; i < 20_000; i++) {
      const valid = validMessage(r, clock.now());
      const s = r.next() < 0.5 ? valid : mutate(r, valid);
      const a = await p.handle(s, { transport: 'udp', address: `10.0.${r.int(4)}.${r.int(250)}` });
      outcomes[a.outcome] = (outcomes[a.outcome] ?? 0) + 1;
      const reply = parseFrame(a.reply);
      expect(reply.ok && ['ACK', 'NAK', 'DUH'].includes(reply.value.token)).toBe(true);
    }
    // All four outcomes were reached, so the cases explore the rules, not one path.
    expect(Object.keys(outcomes).sort()).toEqual(['ack', 'duh', 'duplicate', 'nak']);
  });

  it('the deframer never throws, never holds more than its limit, and valid messages survive any chunking (20k chunks)', async () => {
    const r = rng(7);
    const d = new Dc09Deframer();
    const expected: string[] = [];
    const got: string[] = [];
    let stream = '';
    for (let i = 0; i < 3000; i++) {
      const kind = r.int(10);
      if (kind < 6) {
        const m = validMessage(r, 1.7e12);
        expected.push(m);
        stream += m;
      } else if (kind < 8) {
        // Noise without LF or CR (skipped between messages; a CR after a cut message would end it).
        stream += Array.from({ length: r.int(50) }, () => String.fromCharCode(r.int(256)))
          .join('')
          .replace(/[\n\r]/g, '');
      } else if (kind < 9) {
        // An overlong line: refused, resynchronised by the next LF.
        stream += '\n' + 'A'.repeat(MAX_MESSAGE_LENGTH + r.int(5000));
      } else {
        // A message cut short: the next LF starts over.
        stream += '\nABCD0010"SIA-DCS"00';
      }
    }
    const buf = Buffer.from(stream, 'latin1');
    let off = 0;
    let chunks = 0;
    while (off < buf.length) {
      const n = 1 + r.int(r.next() < 0.5 ? 16 : 3000);
      for (const out of d.push(buf.subarray(off, off + n))) if (out.kind === 'message') got.push(out.text);
      expect(d.buffered).toBeLessThanOrEqual(d.maxMessageLength);
      off += n;
      chunks++;
    }
    expect(chunks).toBeGreaterThan(2000);
    expect(got).toEqual(expected);
  });

  it('random bytes through the deframer (20k chunks) stay bounded', async () => {
    const r = rng(99);
    const d = new Dc09Deframer({ maxMessageLength: 512 });
    for (let i = 0; i < 20_000; i++) {
      const chunk = Buffer.from(Array.from({ length: r.int(64) }, () => (r.next() < 0.05 ? 10 : r.next() < 0.05 ? 13 : r.int(256))));
      for (const out of d.push(chunk)) if (out.kind === 'message') expect(out.text.length).toBeLessThanOrEqual(512);
      expect(d.buffered).toBeLessThanOrEqual(512);
    }
  });
});
