import { defineConfig } from 'vitest/config';

// `npm run soak`: the long versions of the crash, broker-kill and outage tests (tests/soak/).
// One file at a time: each one loads the machine on its own. --expose-gc lets the outage soak
// measure live memory rather than garbage waiting for collection.
export default defineConfig({
  test: {
    include: ['tests/soak/**/*.soak.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 1, minForks: 1, execArgv: ['--expose-gc'] } },
    fileParallelism: false,
    testTimeout: 3_600_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
