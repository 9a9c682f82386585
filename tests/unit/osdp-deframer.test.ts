/**
 * Streaming deframer: mark bytes, noise, split and merged chunks, resynchronisation after a
 * bad check, and a seeded fuzz run proving it never throws, never yields a packet whose check
 * failed and never buffers more than its cap. Golden packets: see osdp-frame.test.ts for
 * sources ([LIBOSDP-PHY] goToMain/libosdp tests/unit-tests/test-cp-phy.c, [NET-ACK]
 * bytedreamer/OSDP.Net src/OSDP.Net.Tests/Messages/ReplyTest.cs, [SIA-E] via
 * goToMain/libosdp tests/unit-tests/test-sc-sia-vectors.c).
 */
import { describe, expect, it } from 'vitest';
import { OsdpDeframer, type DeframerOutput } from '../../drivers/osdp/deframer.js';
import { encodeFrame } from '../../drivers/osdp/frame.js';
import { Cmd, Reply, Scs, type OsdpFrame } from '../../drivers/osdp/types.js';

const hex = (s: string): Uint8Array =>
  Uint8Array.from(
    s
      .split(/[\s-]+/)
      .filter(Boolean)
      .map((x) => parseInt(x, 16)),
  );
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

const POLL = hex('53 65 08 00 04 60 60 90'); // [LIBOSDP-PHY]
const ID = hex('53 65 09 00 04 61 00 d9 7a'); // [LIBOSDP-PHY]
const ACK = hex('53 80 08 00 05 40 68 9F'); // [NET-ACK]
const COMSET_CHECKSUM = hex('53 7F 0C 00 00 6E 00 80 25 00 00 0F'); // [SIA-E]

function referenceCrc(bytes: Uint8Array): number {
  let crc = 0x1d0f;
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      const top = ((crc >> 15) ^ (byte >> bit)) & 1;
      crc = (crc << 1) & 0xffff;
      if (top) crc ^= 0x1021;
    }
  }
  return crc;
}
function referenceCheckOk(packet: Uint8Array): boolean {
  if (packet[4]! & 0x04) {
    const crc = referenceCrc(packet.subarray(0, -2));
    return packet.at(-2) === (crc & 0xff) && packet.at(-1) === crc >> 8;
  }
  const sum = packet.subarray(0, -1).reduce((a, b) => a + b, 0);
  return packet.at(-1) === (256 - (sum % 256)) % 256;
}

const frames = (out: DeframerOutput[]): Uint8Array[] => out.flatMap((o) => (o.kind === 'frame' ? [o.raw] : []));
const errors = (out: DeframerOutput[]): string[] => out.flatMap((o) => (o.kind === 'error' ? [o.error] : []));

describe('OsdpDeframer', () => {
  it('yields a packet preceded by the 0xFF mark byte', () => {
    const d = new OsdpDeframer();
    const out = d.push(concat(hex('FF'), POLL));
    expect(frames(out)).toEqual([POLL]);
    expect(out[0]!.kind === 'frame' && out[0]!.frame.code).toBe(Cmd.POLL);
    expect(d.buffered).toBe(0);
    expect(d.skippedBytes).toBe(1);
  });

  it('skips several mark bytes and noise (without SOM) silently', () => {
    const d = new OsdpDeframer();
    const out = d.push(concat(hex('FF FF FF 00 12 FE'), ACK, hex('FF FF')));
    expect(out).toHaveLength(1);
    expect(frames(out)).toEqual([ACK]);
  });

  it('assembles a packet fed byte by byte', () => {
    const d = new OsdpDeframer();
    const stream = concat(hex('FF'), ID, hex('FF'), ACK);
    const out: DeframerOutput[] = [];
    for (const byte of stream) out.push(...d.push(Uint8Array.of(byte)));
    expect(frames(out)).toEqual([ID, ACK]);
    expect(errors(out)).toEqual([]);
  });

  it('yields two packets from one chunk, and a third split across chunks', () => {
    const d = new OsdpDeframer();
    const out1 = d.push(concat(POLL, COMSET_CHECKSUM, ACK.subarray(0, 3)));
    expect(frames(out1)).toEqual([POLL, COMSET_CHECKSUM]);
    expect(d.buffered).toBe(3);
    expect(frames(d.push(ACK.subarray(3)))).toEqual([ACK]);
  });

  it('drops a packet with a bad CRC, reports it, and resynchronises on the next SOM', () => {
    const bad = POLL.slice();
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0x01;
    const d = new OsdpDeframer();
    const out = d.push(concat(bad, ACK));
    expect(errors(out)).toEqual(['check']);
    expect(frames(out)).toEqual([ACK]);
  });

  it('finds a real packet that starts inside a false one (noise SOM with a plausible LEN)', () => {
    // 53 0A 0C 00: a "packet" of 12 bytes whose body swallows the start of the real POLL.
    const d = new OsdpDeframer();
    const out = d.push(concat(hex('53 0A 0C 00'), POLL, ACK));
    expect(frames(out)).toEqual([POLL, ACK]);
    expect(errors(out)).toContain('check');
  });

  it('rejects an impossible LEN at once instead of waiting for it', () => {
    const d = new OsdpDeframer();
    const out = d.push(concat(hex('53 e5 ff ff 04 40 e7 a1'), ACK)); // [LIBOSDP-PHY] oversized
    expect(errors(out)[0]).toBe('length');
    expect(frames(out)).toEqual([ACK]);
    const small = new OsdpDeframer();
    expect(errors(small.push(hex('53 e5 06 00 04 40 e7 a1')))).toEqual(['length']); // [LIBOSDP-PHY] undersized
  });

  it('drops a packet with a good check but malformed SCB as a whole', () => {
    const f: OsdpFrame = {
      address: 1,
      reply: false,
      sqn: 0,
      crc: true,
      code: Cmd.POLL,
      data: new Uint8Array(),
      scb: { type: Scs.SCS_11, data: hex('00') },
    };
    const packet = encodeFrame(f);
    packet[6] = 0x42; // unknown SCB type; fix the CRC so only the SCB is wrong
    const crc = referenceCrc(packet.subarray(0, -2));
    packet[packet.length - 2] = crc & 0xff;
    packet[packet.length - 1] = crc >> 8;
    const d = new OsdpDeframer();
    const out = d.push(concat(packet, ACK));
    expect(errors(out)).toEqual(['scb']);
    expect(frames(out)).toEqual([ACK]);
  });

  it('reset() forgets a partial packet (inter-character timeout)', () => {
    const d = new OsdpDeframer();
    d.push(POLL.subarray(0, 5));
    expect(d.buffered).toBe(5);
    d.reset();
    expect(d.buffered).toBe(0);
    expect(frames(d.push(ACK))).toEqual([ACK]);
  });

  it('enforces a configured maximum and keeps its buffer within it', () => {
    const d = new OsdpDeframer({ maxPacketLength: 32 });
    const big = encodeFrame({ address: 1, reply: true, sqn: 1, crc: true, code: Reply.RAW, data: new Uint8Array(40) });
    const out = d.push(concat(big, ACK));
    expect(errors(out)[0]).toBe('length');
    expect(frames(out)).toEqual([ACK]);
    expect(() => new OsdpDeframer({ maxPacketLength: 3 })).toThrow(RangeError);
  });

  it('handles a chunk larger than its buffer', () => {
    const d = new OsdpDeframer({ maxPacketLength: 16 });
    const many = concat(...Array.from({ length: 50 }, () => concat(hex('FF'), POLL)));
    const out = d.push(many);
    expect(frames(out)).toHaveLength(50);
  });
});

/** mulberry32: small seeded PRNG so a failure is reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('OsdpDeframer fuzz', () => {
  it('20k random and mutated streams: never throws, never yields a failed check, buffer stays bounded', () => {
    const rand = prng(0x05d9);
    const int = (n: number): number => Math.floor(rand() * n);
    const randomBytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => (rand() < 0.1 ? 0x53 : int(256)));
    const validFrame = (): Uint8Array =>
      encodeFrame({
        address: int(128),
        reply: rand() < 0.5,
        sqn: int(4) as 0 | 1 | 2 | 3,
        crc: rand() < 0.7,
        code: int(256),
        data: randomBytes(int(40)),
        ...(rand() < 0.3 ? { scb: { type: 0x15 + int(4), data: new Uint8Array() }, mac: randomBytes(4) } : {}),
      });
    const mutate = (bytes: Uint8Array): Uint8Array => {
      const copy = Array.from(bytes);
      const edits = 1 + int(3);
      for (let e = 0; e < edits; e++) {
        const at = int(copy.length + 1);
        const op = int(3);
        if (op === 0 && copy.length > 0) copy[at % copy.length] = int(256);
        else if (op === 1) copy.splice(at, 0, int(256));
        else copy.splice(at, 1);
      }
      return Uint8Array.from(copy);
    };

    const max = 256;
    let yielded = 0;
    for (let c = 0; c < 20_000; c++) {
      const d = new OsdpDeframer({ maxPacketLength: c % 2 ? max : 1440 });
      const parts: Uint8Array[] = [];
      const pieces = 1 + int(4);
      const validSent: Uint8Array[] = [];
      for (let p = 0; p < pieces; p++) {
        const kind = int(4);
        if (kind === 0) parts.push(randomBytes(int(64)));
        else if (kind === 1) parts.push(mutate(validFrame()));
        else if (kind === 2) parts.push(hex('FF'));
        else {
          const f = validFrame();
          validSent.push(f);
          parts.push(f);
        }
      }
      const stream = concat(...parts);
      let at = 0;
      while (at < stream.length) {
        const size = 1 + int(rand() < 0.5 ? 4 : 80);
        const out = d.push(stream.subarray(at, at + size));
        at += size;
        expect(d.buffered).toBeLessThanOrEqual(d.maxPacketLength);
        for (const o of out) {
          if (o.kind !== 'frame') continue;
          yielded++;
          if (!referenceCheckOk(o.raw)) throw new Error(`case ${c}: yielded a packet whose check fails`);
          if ((o.raw[2]! | (o.raw[3]! << 8)) !== o.raw.length) throw new Error(`case ${c}: LEN mismatch`);
        }
      }
      // A final valid packet after a quiet period (reset) is always recovered.
      d.reset();
      const tail = d.push(POLL);
      if (frames(tail).length !== 1) throw new Error(`case ${c}: no recovery after reset`);
    }
    expect(yielded).toBeGreaterThan(5_000);
  });
});
