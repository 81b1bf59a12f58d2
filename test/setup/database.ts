import type { TestProject } from 'vitest/node';
import { startThrowawayPg } from '../helpers/pg.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `npm run test:pg`: the throwaway PostgreSQL every test server of this run gets its own database on. */
    ecabinetPgUrl: string;
  }
}

/**
 * Vitest's global setup. `ECABINET_TEST_DB=postgres` (`npm run test:pg`): one throwaway PostgreSQL for the
 * whole run (scripts/pg-throwaway.sh), stopped and deleted at the end; every test server creates its own
 * database on it (test/helpers/test-db.ts). Otherwise nothing: the servers use SQLite files.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.env.ECABINET_TEST_DB !== 'postgres') return undefined;
  const pg = await startThrowawayPg();
  project.provide('ecabinetPgUrl', pg.url);
  return () => pg.stop();
}
