/**
 * The short fuzzing pass of the default test run: every target under tests/fuzz/targets/ is
 * fuzzed for FUZZ_SHORT_SECONDS (default 3) in its own process, starting from its checked-in
 * corpus; any crash, invariant violation, hang or memory overrun fails the test with the
 * saved input's path. The harness itself is checked first on planted bugs: one behind four
 * nested byte comparisons (found only with coverage guidance) and one that hangs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, requireBuild } from '../helpers/cli.js';
import { fuzzOne, listTargets, type TargetRun } from '../fuzz/run.js';

const SECONDS = process.env.FUZZ_SHORT_SECONDS ?? '3';
const PLANTED = resolve(ROOT, 'dist/tests/fuzz/fixtures/planted-bug.js');

function explain(run: TargetRun): string {
  return `exit ${run.code} ${run.signal ?? ''}\n${run.stderr.slice(-3000)}`;
}

describe('coverage-guided fuzzing (short pass)', () => {
  it('finds a bug behind four nested comparisons and saves the input that triggers it', async () => {
    requireBuild();
    const run = await fuzzOne(PLANTED, ['--seconds', '60', '--seed', '7']);
    expect(run.code, explain(run)).toBe(1);
    const crash = run.result?.crash as { file: string; error: string } | undefined;
    expect(crash?.error).toContain('planted bug reached');
    expect(Buffer.from(readFileSync(crash!.file)).subarray(0, 4).toString('latin1')).toBe('FUZZ');
    // Blind random search would need ~2^32 tries; guided, it takes well under a million.
    expect(run.result!.execs as number).toBeLessThan(1_000_000);
  }, 90_000);

  it('kills a hanging input, saves it and fails', async () => {
    requireBuild();
    const run = await fuzzOne(PLANTED, ['--seconds', '60', '--seed', '7', '--timeout-ms', '500'], { ...process.env, PLANTED_HANG: '1' });
    expect(run.signal, explain(run)).toBe('SIGKILL');
    const saved = /saved to (\S+)/.exec(run.stderr)?.[1];
    expect(run.stderr).toContain('FUZZ-TIMEOUT');
    expect(saved && existsSync(saved)).toBe(true);
    expect(readFileSync(saved!).subarray(0, 4).toString('latin1')).toBe('HANG');
  }, 90_000);

  it(`every codec target survives ${SECONDS} s of fuzzing from its corpus`, async () => {
    requireBuild();
    const targets = listTargets();
    expect(targets.length).toBeGreaterThanOrEqual(11);
    const queue = [...targets];
    const runs: TargetRun[] = [];
    // Two at a time: the machine has two cores.
    await Promise.all(
      [0, 1].map(async () => {
        for (let t = queue.shift(); t; t = queue.shift()) runs.push(await fuzzOne(t, ['--seconds', SECONDS]));
      }),
    );
    for (const run of runs) {
      expect(run.code, `${run.target}: ${explain(run)}`).toBe(0);
      expect(run.result?.ok, run.target).toBe(true);
      // The corpus replays and the mutator really runs: a broken target (e.g. one that never
      // reaches its codec) shows up as almost no coverage.
      expect(run.result!.execs as number, run.target).toBeGreaterThan(200);
      expect(run.result!.covered as number, run.target).toBeGreaterThan(20);
    }
  }, 180_000);
});
