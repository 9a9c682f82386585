/**
 * Module loader hooks (registered by register.ts) that add istanbul's counters to the code
 * under fuzzing: every statement, function and branch of the compiled drivers gets a counter
 * the fuzzer reads after each input to tell whether the input reached somewhere new.
 * Only the codecs are instrumented (FUZZ_INSTRUMENT, a regex on the module URL): counting
 * inside zod or node's own modules would reward the fuzzer for exploring them instead.
 */
import { createRequire } from 'node:module';
import { COVERAGE_VARIABLE } from './coverage.js';

const require = createRequire(import.meta.url);
// istanbul-lib-instrument is CommonJS; its instrumenter is synchronous and self-contained.
interface Instrumenter {
  instrumentSync(code: string, filename: string): string;
}
const { createInstrumenter } = require('istanbul-lib-instrument') as {
  createInstrumenter: (options: Record<string, unknown>) => Instrumenter;
};

const pattern = new RegExp(process.env.FUZZ_INSTRUMENT ?? '/dist/(drivers|tests/fuzz/fixtures)/');
const instrumenter = createInstrumenter({ esModules: true, coverageVariable: COVERAGE_VARIABLE, compact: true, produceSourceMap: false });

type LoadResult = { format?: string | null; source?: string | ArrayBuffer | Uint8Array | null; shortCircuit?: boolean };
type NextLoad = (url: string, context: unknown) => Promise<LoadResult>;

export async function load(url: string, context: unknown, nextLoad: NextLoad): Promise<LoadResult> {
  const result = await nextLoad(url, context);
  if (!url.startsWith('file:') || !pattern.test(url) || result.format !== 'module' || result.source == null) return result;
  const source = typeof result.source === 'string' ? result.source : Buffer.from(result.source as Uint8Array).toString('utf8');
  const code = instrumenter.instrumentSync(source, new URL(url).pathname);
  return { ...result, source: code, shortCircuit: true };
}
