import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration and e2e tests start real servers and browsers; two cores here.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
