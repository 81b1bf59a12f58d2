import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // `npm run test:pg` (ECABINET_TEST_DB=postgres): one throwaway PostgreSQL for the run.
    globalSetup: ['test/setup/database.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration and e2e tests start real servers and browsers; two cores here.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
