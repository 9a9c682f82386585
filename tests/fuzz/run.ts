/**
 * `npm run fuzz`: every target under tests/fuzz/targets/, each in its own process for
 * FUZZ_SECONDS (default 60). FUZZ_TARGETS=a,b picks some; FUZZ_JOBS runs several at once
 * (default 1: the fuzzer uses one core per job); FUZZ_MERGE=1 folds what the run found into
 * the checked-in corpus, minimised. Exits 1 if any target crashed, hung or overran memory.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled targets run in the child even when this module is loaded from source (vitest).
const HERE = fileURLToPath(new URL('.', import.meta.url));
const DIST_FUZZ = HERE.includes(`${sep}dist${sep}`) ? HERE : join(HERE, '../../dist/tests/fuzz/');
const ENGINE = join(DIST_FUZZ, 'engine');
const TARGETS = join(DIST_FUZZ, 'targets');
const ROOT = join(DIST_FUZZ, '../../../');

export interface TargetRun {
  target: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  result?: Record<string, unknown>;
  stderr: string;
}

export function listTargets(): string[] {
  return readdirSync(TARGETS)
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.slice(0, -3))
    .sort();
}

/** Runs main.js for one target (a name, or a module path for fixtures). */
export function fuzzOne(target: string, args: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<TargetRun> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ['--import', join(ENGINE, 'register.js'), join(ENGINE, 'main.js'), target, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (env.FUZZ_VERBOSE) process.stderr.write(d);
    });
    child.on('close', (code, signal) => {
      const line = stdout.split('\n').find((l) => l.startsWith('FUZZ-RESULT '));
      resolvePromise({
        target,
        code,
        signal,
        stderr,
        ...(line ? { result: JSON.parse(line.slice('FUZZ-RESULT '.length)) as Record<string, unknown> } : {}),
      });
    });
  });
}

async function main(): Promise<void> {
  const seconds = process.env.FUZZ_SECONDS ?? '60';
  const wanted = process.env.FUZZ_TARGETS?.split(',').filter(Boolean);
  const targets = listTargets().filter((t) => !wanted || wanted.includes(t));
  const jobs = Math.max(1, Number(process.env.FUZZ_JOBS ?? 1));
  const merge = process.env.FUZZ_MERGE === '1';
  const queue = [...targets];
  const runs: TargetRun[] = [];
  const worker = async (): Promise<void> => {
    for (let t = queue.shift(); t; t = queue.shift()) {
      const newDir = join(ROOT, 'tests/artifacts/fuzz', t, 'new');
      const run = await fuzzOne(t, ['--seconds', seconds, '--new-inputs', newDir]);
      if (merge && run.code === 0) await fuzzOne(t, ['--runs', '0', '--merge', '--extra', newDir]);
      const r = run.result;
      const outcome = run.code === 0 ? 'ok' : run.signal ? `killed (${run.signal}): hang?` : 'FAILED';
      process.stdout.write(
        r
          ? `${t.padEnd(18)} ${outcome.padEnd(6)} ${String(r.execs).padStart(11)} execs ${String(r.execsPerSecond).padStart(7)}/s  cov ${r.covered}/${r.counters}  corpus ${r.corpus}\n`
          : `${t.padEnd(18)} ${outcome}\n${run.stderr
              .split('\n')
              .filter((l) => l.startsWith('FUZZ-'))
              .join('\n')}\n`,
      );
      if (run.code !== 0) process.stdout.write(`${run.stderr.slice(-4000)}\n`);
      runs.push(run);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  const failed = runs.filter((r) => r.code !== 0);
  process.stdout.write(`fuzz: ${runs.length - failed.length} passed, ${failed.length} failed\n`);
  process.exitCode = failed.length ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
