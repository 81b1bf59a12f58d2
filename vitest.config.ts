import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster` (ECABINET_TEST_CLUSTER=1): only test/cluster/, several nodes per test (issue #18), one test
 * file at a time. Otherwise the unit, integration and e2e layers.
 */
const cluster = process.env.ECABINET_TEST_CLUSTER === '1';

export default defineConfig({
  test: {
    include: cluster ? ['test/cluster/**/*.test.ts'] : ['test/{unit,integration,e2e}/**/*.test.ts'],
    // `npm run test:pg` and `npm run test:cluster` (ECABINET_TEST_DB=postgres): one throwaway PostgreSQL for the run.
    globalSetup: ['test/setup/database.ts'],
    testTimeout: cluster ? 120_000 : 60_000,
    hookTimeout: 120_000,
    // expect.poll waits for something the server or the browser does next (a push, a render); its 1 s default
    // is a timing assertion on a shared 2-core machine: the journeys' polls flaked under load, mostly on PostgreSQL.
    expect: { poll: { timeout: 10_000 } },
    // Integration and e2e tests start real servers and browsers; two cores here.
    maxWorkers: cluster ? 1 : 2,
    fileParallelism: !cluster,
    // CI (.ci/run): also name the files still running every 3 minutes, so a hang shows where it is.
    reporters: process.env.ECABINET_CI === '1' ? ['default', './test/setup/running-reporter.ts'] : ['default'],
  },
});
