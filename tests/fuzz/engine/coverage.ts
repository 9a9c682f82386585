/**
 * libFuzzer-style coverage feedback over istanbul's counters.
 *
 * After the target has loaded, every counter object istanbul created (statements, functions,
 * branch arms of each instrumented file) is moved into one Uint32Array, so reading and
 * clearing all of them after an input is a single tight loop. Like libFuzzer's 8-bit
 * counters, a hit count is reduced to a bucket (1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+);
 * a feature is (counter, bucket) and an input is kept when it shows a feature never seen.
 */
/** The global istanbul's instrumented code counts into (see hooks.ts). */
export const COVERAGE_VARIABLE = '__fuzzCoverage__';

interface FileCoverage {
  s: Record<string, number> | Uint32Array;
  f: Record<string, number> | Uint32Array;
  b: Record<string, number[] | Uint32Array>;
}

function bucketBit(v: number): number {
  if (v < 4) return 1 << (v - 1); // 1, 2, 3 -> bits 0..2
  if (v < 8) return 1 << 3;
  if (v < 16) return 1 << 4;
  if (v < 32) return 1 << 5;
  if (v < 128) return 1 << 6;
  return 1 << 7;
}

function popcount8(x: number): number {
  let n = 0;
  for (; x; x &= x - 1) n++;
  return n;
}

export class CoverageMap {
  readonly files: string[] = [];
  private counters = new Uint32Array(0);
  private seen = new Uint8Array(0);
  private readonly touched: number[] = [];
  private featureCount = 0;

  /** Takes over every counter istanbul has created so far. Returns the number of counters. */
  attach(): number {
    const all = (globalThis as Record<string, unknown>)[COVERAGE_VARIABLE] as Record<string, FileCoverage> | undefined;
    if (!all) throw new Error('no coverage counters: start node with --import dist/tests/fuzz/engine/register.js');
    const paths = Object.keys(all).sort();
    const sizes = paths.map((p) => {
      const c = all[p]!;
      return Object.keys(c.s).length + Object.keys(c.f).length + Object.values(c.b).reduce((n, arms) => n + arms.length, 0);
    });
    const counters = new Uint32Array(sizes.reduce((a, b) => a + b, 0));
    let at = 0;
    const take = (values: ArrayLike<number>): Uint32Array => {
      const view = counters.subarray(at, at + values.length);
      for (let i = 0; i < values.length; i++) view[i] = values[i]!;
      at += values.length;
      return view;
    };
    const asArray = (o: Record<string, number> | Uint32Array): number[] => Object.keys(o).map((k) => (o as Record<string, number>)[k]!);
    for (const p of paths) {
      const c = all[p]!;
      // istanbul numbers statements, functions and branches 0..n-1: an array indexes alike.
      c.s = take(asArray(c.s));
      c.f = take(asArray(c.f));
      for (const k of Object.keys(c.b)) c.b[k] = take(Array.from(c.b[k]!));
    }
    this.files.splice(0, this.files.length, ...paths);
    this.counters = counters;
    this.seen = new Uint8Array(counters.length);
    this.featureCount = 0;
    return counters.length;
  }

  get size(): number {
    return this.counters.length;
  }

  /** Features seen so far (counter x bucket pairs). */
  get features(): number {
    return this.featureCount;
  }

  /** Counters ever hit (the "edges" figure). */
  get covered(): number {
    let n = 0;
    for (let i = 0; i < this.seen.length; i++) if (this.seen[i]) n++;
    return n;
  }

  /**
   * Reads and clears the counters of the input just run; returns how many new features it
   * showed. They are remembered only when `keep` is true (the caller keeps the input).
   * `edgesOnly` counts only counters never hit before (hit-count buckets ignored): what the
   * checked-in corpus is minimised on, so it stays small.
   */
  collect(keep = true, edgesOnly = false): number {
    const c = this.counters;
    const seen = this.seen;
    const touched = this.touched;
    touched.length = 0;
    let fresh = 0;
    for (let i = 0; i < c.length; i++) {
      const v = c[i]!;
      if (v === 0) continue;
      c[i] = 0;
      const bit = bucketBit(v);
      if (edgesOnly ? seen[i] === 0 : (seen[i]! & bit) === 0) {
        fresh++;
        touched.push(i, bit);
      }
    }
    if (keep && fresh) {
      for (let j = 0; j < touched.length; j += 2) {
        const i = touched[j]!;
        const before = seen[i]!;
        seen[i] = before | touched[j + 1]!;
        this.featureCount += popcount8(seen[i]!) - popcount8(before);
      }
    }
    return fresh;
  }

  /** Clears counters without looking (after a seed pass run before attach()). */
  clear(): void {
    this.counters.fill(0);
  }
}
