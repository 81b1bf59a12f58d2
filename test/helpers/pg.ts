import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = path.resolve(import.meta.dirname, '../../scripts/pg-throwaway.sh');

export interface ThrowawayPg {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication, superuser). */
  url: string;
  /**
   * A new empty database on the same server; its URL. With `owner`: that login role (created when missing, not a
   * superuser) owns the database, and the URL connects as it (docs/DEPLOY.md "Roles and least privilege").
   */
  createDatabase(name: string, opts?: { owner?: string }): Promise<string>;
  /** The cluster's data directory (owned by the `postgres` user when the tests run as root). */
  dataDir: string;
  /** Crashes the database server (immediate stop: its unflushed WAL buffers lost) and starts it again with the same options. */
  crashRestart(): Promise<void>;
  /** Stops the server and deletes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts a throwaway PostgreSQL (scripts/pg-throwaway.sh: initdb into a temp folder, its own free port,
 * stopped and deleted by stop()); `serverOptions` are added to the server's command line (a later `-c` wins:
 * "-c full_page_writes=on" undoes the script's speed setting). Without Debian's postgresql package this fails with the command that
 * installs it: a test needing PostgreSQL never silently skips (scripts/install-system-deps.sh installs it).
 */
export async function startThrowawayPg(opts: { serverOptions?: string } = {}): Promise<ThrowawayPg> {
  let out: string;
  try {
    const env = opts.serverOptions ? { ...process.env, PG_THROWAWAY_OPTIONS: opts.serverOptions } : process.env;
    out = (await run('bash', [SCRIPT, 'start'], { timeout: 60_000, env })).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(
      `could not start a throwaway PostgreSQL (scripts/pg-throwaway.sh start): ${(e.stderr || e.message).trim()}\n` +
        'PostgreSQL server binaries are needed (/usr/lib/postgresql/*/bin/initdb): run `sudo bash scripts/install-system-deps.sh` or `apt-get install -y postgresql`',
    );
  }
  const url = /^DATABASE_URL=(.+)$/m.exec(out)?.[1];
  const dir = /^PG_THROWAWAY_DIR=(.+)$/m.exec(out)?.[1];
  if (!url || !dir) throw new Error(`pg-throwaway.sh start printed no DATABASE_URL: ${out}`);
  const pg = (await import('pg')).default;
  return {
    url,
    dataDir: path.join(dir, 'data'),
    async createDatabase(name, { owner } = {}) {
      for (const id of owner ? [name, owner] : [name]) if (!/^[a-z_][a-z0-9_]*$/.test(id)) throw new Error(`bad identifier ${id}`);
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        if (owner) {
          const { rowCount } = await c.query('select 1 from pg_roles where rolname = $1', [owner]);
          if (!rowCount) await c.query(`create role ${owner} login`);
        }
        await c.query(`create database ${name}${owner ? ` owner ${owner}` : ''}`);
      } finally {
        await c.end();
      }
      const u = new URL(url);
      u.pathname = `/${name}`;
      if (owner) u.username = owner;
      return u.toString();
    },
    async crashRestart() {
      await run('bash', [SCRIPT, 'crash-restart', dir], { timeout: 60_000 });
    },
    async stop() {
      await run('bash', [SCRIPT, 'stop', dir], { timeout: 60_000 });
    },
  };
}
