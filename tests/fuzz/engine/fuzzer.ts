/**
 * The fuzz loop: replay seeds and corpus, then mutate corpus entries for as long as allowed,
 * keeping every input that reaches a new coverage feature. A thrown error that the target
 * did not expect is a crash: the input is saved under tests/artifacts/fuzz/<target>/ and the
 * run fails. Memory is checked as it goes (a codec that keeps growing fails the run too).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FuzzTarget } from '../target.js';
import { CoverageMap } from './coverage.js';
import { Random, mutate } from './mutator.js';

export interface FuzzOptions {
  seconds: number;
  /** Stop after this many executions (default: no limit). */
  runs?: number;
  seed: number;
  corpusDir: string;
  artifactsDir: string;
  /** Hang threshold for one input. */
  timeoutMs: number;
  /** Resident memory limit for the whole process. */
  rssLimitMb: number;
  /** Extra folders of inputs to replay first (e.g. inputs found by an earlier run). */
  extraDirs?: string[];
  /** Rewrite corpusDir to the smallest set of inputs that keeps all features seen. */
  merge?: boolean;
  /** Where to save inputs that reached new features (default: not saved). */
  newInputsDir?: string;
  log?: (line: string) => void;
}

export interface FuzzResult {
  target: string;
  ok: boolean;
  execs: number;
  seconds: number;
  execsPerSecond: number;
  corpus: number;
  /** Counters ever hit / counters instrumented. */
  covered: number;
  counters: number;
  features: number;
  seed: number;
  rssStartMb: number;
  rssEndMb: number;
  crash?: { file: string; error: string };
  merged?: number;
}

export const sha1 = (d: Uint8Array): string => createHash('sha1').update(d).digest('hex');

export function readInputs(dir: string): Uint8Array[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return names.filter((n) => !n.startsWith('.')).map((n) => new Uint8Array(readFileSync(join(dir, n))));
}

const rssMb = (): number => Math.round(process.memoryUsage.rss() / 2 ** 20);

export async function runFuzzer(target: FuzzTarget, o: FuzzOptions): Promise<FuzzResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const maxLength = target.maxLength ?? 4096;
  const dictionary = (target.dictionary ?? []).map((w) => (typeof w === 'string' ? new Uint8Array(Buffer.from(w, 'latin1')) : w));
  const shared = new SharedArrayBuffer(8 + maxLength);
  const header = new Int32Array(shared, 0, 2);
  const sharedBytes = new Uint8Array(shared, 8);
  Atomics.store(header, 0, -1);
  const watchdog = new Worker(new URL('./watchdog.js', import.meta.url), {
    workerData: { shared, timeoutMs: o.timeoutMs, artifacts: o.artifactsDir, target: target.name },
  });
  watchdog.unref();

  const coverage = new CoverageMap();
  const corpus: Uint8Array[] = [];
  const start = performance.now();
  const rssStartMb = rssMb();
  let execs = 0;
  let crash: FuzzResult['crash'];

  const runOne = (input: Uint8Array): boolean => {
    const n = Math.min(input.length, maxLength);
    sharedBytes.set(input.subarray(0, n));
    Atomics.store(header, 1, n);
    Atomics.store(header, 0, execs & 0x3fffffff);
    try {
      target.fuzz(input);
    } catch (e) {
      mkdirSync(o.artifactsDir, { recursive: true });
      const file = join(o.artifactsDir, `crash-${sha1(input)}`);
      writeFileSync(file, input);
      const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
      crash = { file, error };
      log(
        `FUZZ-CRASH ${target.name}: ${error}\n  input (${input.length} bytes) saved to ${file}\n  hex: ${Buffer.from(input.subarray(0, 256)).toString('hex')}`,
      );
      return false;
    }
    execs++;
    return true;
  };

  // Inputs before the counters exist (the first run creates istanbul's objects) are run
  // twice: once to load everything, once to measure.
  const initial = [...target.seeds(), ...readInputs(o.corpusDir), ...(o.extraDirs ?? []).flatMap(readInputs)];
  if (initial.length === 0) initial.push(new Uint8Array(0));
  for (const input of initial) if (!runOne(input)) break;
  const counters = crash ? 0 : coverage.attach();
  coverage.clear();
  if (!crash) {
    // Smallest first, so the corpus keeps the shortest input for each feature.
    for (const input of [...initial].sort((a, b) => a.length - b.length || Buffer.compare(a, b))) {
      if (!runOne(input)) break;
      if (coverage.collect(true, o.merge) > 0) corpus.push(input);
    }
  }
  if (corpus.length === 0) corpus.push(initial[0]!);
  log(
    `${target.name}: ${initial.length} initial inputs, ${corpus.length} kept, ${coverage.covered}/${counters} counters, ${coverage.features} features`,
  );

  let merged: number | undefined;
  if (o.merge && !crash) {
    rmSync(o.corpusDir, { recursive: true, force: true });
    mkdirSync(o.corpusDir, { recursive: true });
    for (const input of corpus) writeFileSync(join(o.corpusDir, sha1(input)), input);
    merged = corpus.length;
    log(`${target.name}: corpus rewritten with ${merged} inputs`);
  }

  const r = new Random(o.seed);
  const ctx = { maxLength, dictionary, other: () => corpus[r.below(corpus.length)]! };
  const deadline = start + o.seconds * 1000;
  const maxRuns = o.runs ?? Number.POSITIVE_INFINITY;
  let nextReport = performance.now() + 10_000;
  if (o.newInputsDir) mkdirSync(o.newInputsDir, { recursive: true });
  while (!crash && execs < maxRuns) {
    // Recent finds are where new ground is: half the picks come from the newest entries.
    const base = r.chance(2) ? corpus[corpus.length - 1 - r.below(Math.min(corpus.length, 16))]! : corpus[r.below(corpus.length)]!;
    const input = mutate(base, r, ctx);
    if (!runOne(input)) break;
    if (coverage.collect() > 0) {
      corpus.push(input);
      if (o.newInputsDir) writeFileSync(join(o.newInputsDir, sha1(input)), input);
    }
    if ((execs & 1023) === 0) {
      const now = performance.now();
      if (now >= deadline) break;
      if (now >= nextReport) {
        nextReport = now + 10_000;
        const rss = rssMb();
        log(
          `${target.name}: #${execs} ${Math.round(execs / ((now - start) / 1000))}/s cov ${coverage.covered} ft ${coverage.features} corp ${corpus.length} rss ${rss}MB`,
        );
        if (rss > o.rssLimitMb) {
          crash = { file: '', error: `resident memory ${rss} MB exceeds the limit ${o.rssLimitMb} MB` };
          log(`FUZZ-OOM ${target.name}: ${crash.error}`);
        }
      }
    }
  }
  Atomics.store(header, 0, -1);
  await watchdog.terminate();
  const seconds = (performance.now() - start) / 1000;
  return {
    target: target.name,
    ok: !crash,
    execs,
    seconds: Math.round(seconds * 10) / 10,
    execsPerSecond: Math.round(execs / seconds),
    corpus: corpus.length,
    covered: coverage.covered,
    counters,
    features: coverage.features,
    seed: o.seed,
    rssStartMb,
    rssEndMb: rssMb(),
    ...(crash ? { crash } : {}),
    ...(merged !== undefined ? { merged } : {}),
  };
}
