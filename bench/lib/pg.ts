import crypto from 'node:crypto';

/** DB=postgres benchmarks: a fresh database on the bench's throwaway PostgreSQL (ECABINET_BENCH_PG_URL, started by scripts/bench.sh); its URL. */
export async function freshPgDatabase(): Promise<string> {
  const url = process.env.ECABINET_BENCH_PG_URL;
  if (!url) throw new Error('DB=postgres needs ECABINET_BENCH_PG_URL (npm run bench starts a throwaway PostgreSQL)');
  const pg = (await import('pg')).default;
  const name = `bench_${crypto.randomBytes(6).toString('hex')}`;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`create database ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** What the bench's PostgreSQL does on commit, for the log (scripts/bench.sh starts it durable: fsync and synchronous_commit on). */
export async function pgDurability(url: string): Promise<string> {
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const settings = ['fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method'];
    const shown: string[] = [];
    for (const s of settings) shown.push(`${s}=${(await c.query(`show ${s}`)).rows[0][s]}`);
    return shown.join(' ');
  } finally {
    await c.end();
  }
}
