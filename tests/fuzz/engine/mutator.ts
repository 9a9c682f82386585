/**
 * Input mutations after libFuzzer's MutationDispatcher: byte/bit flips, inserts and erases,
 * integer tweaks (binary and ASCII), copies within the input, cross-over with another corpus
 * entry and dictionary words. Several are stacked per input. Seeded, so a run is repeatable.
 */

export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  /** xorshift32: fast and good enough to pick mutations. */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }
  chance(oneIn: number): boolean {
    return this.below(oneIn) === 0;
  }
}

const INTERESTING_8 = [0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, 0x10, 0x20, 0x40, 0x64];
const INTERESTING_16 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x3e8, 0x7fff, 0x8000, 0xffff];
const INTERESTING_32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000];

type Mutation = (data: Uint8Array, r: Random, ctx: MutationContext) => Uint8Array;

export interface MutationContext {
  maxLength: number;
  dictionary: readonly Uint8Array[];
  /** Another corpus entry, for cross-over. */
  other: () => Uint8Array;
}

function splice(data: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length - remove + insert.length);
  out.set(data.subarray(0, at), 0);
  out.set(insert, at);
  out.set(data.subarray(at + remove), at + insert.length);
  return out;
}

const eraseBytes: Mutation = (d, r) => {
  if (d.length < 2) return d;
  const n = 1 + r.below(Math.min(d.length - 1, r.chance(4) ? 64 : 4));
  return splice(d, r.below(d.length - n + 1), n, new Uint8Array(0));
};

const insertByte: Mutation = (d, r) => splice(d, r.below(d.length + 1), 0, Uint8Array.of(r.below(256)));

const insertRepeated: Mutation = (d, r) => {
  const fill = r.chance(2) ? r.below(256) : r.chance(2) ? 0 : 0xff;
  return splice(d, r.below(d.length + 1), 0, new Uint8Array(1 + r.below(r.chance(8) ? 512 : 16)).fill(fill));
};

const changeByte: Mutation = (d, r) => {
  if (!d.length) return insertByte(d, r, undefined as never);
  const out = d.slice();
  out[r.below(out.length)] = r.chance(3) ? INTERESTING_8[r.below(INTERESTING_8.length)]! : r.below(256);
  return out;
};

const changeBit: Mutation = (d, r) => {
  if (!d.length) return d;
  const out = d.slice();
  const at = r.below(out.length);
  out[at] = out[at]! ^ (1 << r.below(8));
  return out;
};

const shuffleBytes: Mutation = (d, r) => {
  if (d.length < 2) return d;
  const out = d.slice();
  const n = 2 + r.below(Math.min(8, out.length - 1));
  const at = r.below(out.length - n + 1);
  for (let i = n - 1; i > 0; i--) {
    const j = r.below(i + 1);
    const t = out[at + i]!;
    out[at + i] = out[at + j]!;
    out[at + j] = t;
  }
  return out;
};

const changeBinaryInteger: Mutation = (d, r) => {
  const width = [1, 2, 4][r.below(3)]!;
  if (d.length < width) return d;
  const out = d.slice();
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const at = r.below(out.length - width + 1);
  const little = r.chance(2);
  const delta = r.chance(2) ? 1 + r.below(16) : -(1 + r.below(16));
  if (width === 1) out[at] = r.chance(2) ? (out[at]! + delta) & 0xff : INTERESTING_8[r.below(INTERESTING_8.length)]!;
  else if (width === 2) {
    const v = r.chance(2) ? (view.getUint16(at, little) + delta) & 0xffff : INTERESTING_16[r.below(INTERESTING_16.length)]!;
    view.setUint16(at, v, little);
  } else {
    const v = r.chance(2) ? (view.getUint32(at, little) + delta) >>> 0 : INTERESTING_32[r.below(INTERESTING_32.length)]!;
    view.setUint32(at, v, little);
  }
  return out;
};

/** Finds a run of ASCII digits and replaces the number with a nearby or extreme one. */
const changeAsciiInteger: Mutation = (d, r) => {
  const start = r.below(d.length);
  let b = -1;
  for (let i = start; i < d.length; i++)
    if (d[i]! >= 0x30 && d[i]! <= 0x39) {
      b = i;
      break;
    }
  if (b < 0) return d;
  let e = b;
  while (e < d.length && d[e]! >= 0x30 && d[e]! <= 0x39) e++;
  const v = Number(Buffer.from(d.subarray(b, e)).toString('latin1'));
  const choices = [v + 1, v - 1, v * 2, Math.floor(v / 2), 0, 9, 99, 999, 9999, 65535, 4294967296, r.below(100000)];
  const text = String(Math.max(0, choices[r.below(choices.length)]!));
  return splice(d, b, e - b, Buffer.from(text, 'latin1'));
};

const copyPart: Mutation = (d, r) => {
  if (d.length < 2) return d;
  const n = 1 + r.below(Math.min(d.length, 32));
  const from = r.below(d.length - n + 1);
  const part = d.slice(from, from + n);
  const to = r.below(d.length + 1);
  return r.chance(2) ? splice(d, to, 0, part) : splice(d, Math.min(to, d.length - n), n, part);
};

const crossOver: Mutation = (d, r, ctx) => {
  const o = ctx.other();
  if (!o.length) return d;
  const cut = r.below(d.length + 1);
  const from = r.below(o.length);
  const tail = o.subarray(from, from + 1 + r.below(o.length - from));
  return r.chance(2) ? splice(d, cut, d.length - cut, tail) : splice(d, cut, 0, tail);
};

const dictionaryWord: Mutation = (d, r, ctx) => {
  if (!ctx.dictionary.length) return changeByte(d, r, ctx);
  const word = ctx.dictionary[r.below(ctx.dictionary.length)]!;
  const at = r.below(d.length + 1);
  return r.chance(2) ? splice(d, at, 0, word) : splice(d, at, Math.min(word.length, d.length - at), word);
};

const MUTATIONS: readonly Mutation[] = [
  eraseBytes,
  insertByte,
  insertRepeated,
  changeByte,
  changeBit,
  shuffleBytes,
  changeBinaryInteger,
  changeAsciiInteger,
  copyPart,
  crossOver,
  dictionaryWord,
  dictionaryWord,
];

/** One to five stacked mutations of `data`, clipped to maxLength. */
export function mutate(data: Uint8Array, r: Random, ctx: MutationContext): Uint8Array {
  let out = data;
  const n = 1 + r.below(5);
  for (let i = 0; i < n; i++) out = MUTATIONS[r.below(MUTATIONS.length)]!(out, r, ctx);
  if (out === data) out = changeBit(data.length ? data : Uint8Array.of(0), r, ctx);
  return out.length > ctx.maxLength ? out.subarray(0, ctx.maxLength) : out;
}
