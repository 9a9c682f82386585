/**
 * Fuzzes one target in this process (run.ts starts one of these per target):
 *   node --import ./dist/tests/fuzz/engine/register.js dist/tests/fuzz/engine/main.js <target|path.js>
 *     [--seconds N] [--runs N] [--seed N] [--merge] [--extra DIR] [--new-inputs DIR] [--timeout-ms N]
 * Prints one line `FUZZ-RESULT {json}` on stdout; exits 1 on a crash or memory overrun
 * (a hang is killed by the watchdog).
 */
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { FuzzTarget } from '../target.js';
import { runFuzzer } from './fuzzer.js';

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const TARGETS_DIR = fileURLToPath(new URL('../targets/', import.meta.url));

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: process.env.FUZZ_SECONDS ?? '10' },
    runs: { type: 'string' },
    seed: { type: 'string' },
    merge: { type: 'boolean', default: false },
    extra: { type: 'string', multiple: true, default: [] },
    'new-inputs': { type: 'string' },
    'timeout-ms': { type: 'string', default: process.env.FUZZ_TIMEOUT_MS ?? '2000' },
    'rss-limit-mb': { type: 'string', default: process.env.FUZZ_RSS_LIMIT_MB ?? '1536' },
  },
});
const spec = positionals[0];
if (!spec) {
  process.stderr.write('usage: main.js <target name or module path> [--seconds N] [--runs N] [--seed N] [--merge]\n');
  process.exit(2);
}
const modulePath = spec.endsWith('.js') ? (isAbsolute(spec) ? spec : resolve(spec)) : join(TARGETS_DIR, `${spec}.js`);
const mod = (await import(pathToFileURL(modulePath).href)) as { target?: FuzzTarget };
if (!mod.target) throw new Error(`${modulePath} exports no \`target\``);
const target = mod.target;
const seed = values.seed !== undefined ? Number(values.seed) : (Date.now() ^ (process.pid << 8)) >>> 0;
const result = await runFuzzer(target, {
  seconds: Number(values.seconds),
  ...(values.runs ? { runs: Number(values.runs) } : {}),
  seed,
  corpusDir: join(ROOT, 'tests/fuzz/corpus', target.name),
  artifactsDir: join(ROOT, 'tests/artifacts/fuzz', target.name),
  timeoutMs: Number(values['timeout-ms']),
  rssLimitMb: Number(values['rss-limit-mb']),
  // Inputs that once broke a codec: always replayed, never dropped by a corpus merge.
  extraDirs: [join(ROOT, 'tests/fuzz/regressions', target.name), ...values.extra.map((d) => resolve(d))],
  merge: values.merge,
  ...(values['new-inputs'] ? { newInputsDir: resolve(values['new-inputs']) } : {}),
});
process.stdout.write(`FUZZ-RESULT ${JSON.stringify(result)}\n`);
process.exitCode = result.ok ? 0 : 1;
