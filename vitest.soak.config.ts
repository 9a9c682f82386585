import { defineConfig } from 'vitest/config';

/** `npm run soak`: the long runs of issue 11 item 7, kept out of the default `npm test`. */
export default defineConfig({
  test: {
    include: ['tests/soak/**/*.soak.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
    testTimeout: 3_600_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
