import { defineConfig } from 'vitest/config';

// `npm run test:district` (issue 16): a district on a real 3-node RabbitMQ cluster and on Mosquitto
// with shared subscriptions (tests/district/). Not in `npm test`: one file at a time, each loads
// the machine on its own (a cluster, 300 emulated boxes, consumer and gateway processes).
export default defineConfig({
  test: {
    include: ['tests/district/**/*.district.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
    fileParallelism: false,
    testTimeout: 900_000,
    hookTimeout: 400_000,
    reporters: ['default'],
  },
});
