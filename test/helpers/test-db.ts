import crypto from 'node:crypto';

/** Which database the test servers of this run use: `postgres` under `npm run test:pg` (ECABINET_TEST_DB), else `sqlite`. */
export const testDialect: 'sqlite' | 'postgres' = process.env.ECABINET_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';

let clusterUrl: Promise<string> | null = null;

/** The run's throwaway PostgreSQL (test/setup/database.ts provides it; ECABINET_TEST_PG_URL outside Vitest, e.g. benchmarks). */
async function cluster(): Promise<string> {
  if (process.env.ECABINET_TEST_PG_URL) return process.env.ECABINET_TEST_PG_URL;
  const { inject } = await import('vitest');
  const url = inject('ecabinetPgUrl');
  if (!url) throw new Error('ECABINET_TEST_DB=postgres but no PostgreSQL was started for this run (vitest.config.ts globalSetup)');
  return url;
}

/**
 * Under `npm run test:pg`: the URL of the database of the server on `dataDir` — created empty the first
 * time, the same one when a server restarts on that folder (crash tests). Null on SQLite (the file in `dataDir`).
 */
export async function testDatabaseUrl(dataDir: string): Promise<string | null> {
  if (testDialect !== 'postgres') return null;
  clusterUrl ??= cluster();
  const url = await clusterUrl;
  const name = `t_${crypto.createHash('sha256').update(dataDir).digest('hex').slice(0, 24)}`;
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const exists = await c.query('select 1 from pg_database where datname = $1', [name]);
    if (!exists.rowCount) await c.query(`create database ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}
