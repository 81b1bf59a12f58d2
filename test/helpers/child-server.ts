import { type ChildProcess, spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../scripts/free-port.js';
import { DEMO_PASSWORD, type HttpClient, loginAt, until } from './server.js';
import { type TestSql, pgTestSql, sqliteTestSql } from './sql.js';
import { testDatabaseUrl } from './test-db.js';


/**
 * The real server as a child process (`node --import tsx server/main.ts`) on a fixed port and data
 * directory, for crash tests: `kill9()` sends SIGKILL, `start()` brings it back on the same data.
 */
export class ChildServer {
  private proc: ChildProcess | null = null;
  readonly url: string;

  /** Where the server's log (stdout) goes when `create(env, { log: true })`: appended across restarts. */
  readonly logFile: string | null;

  private constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly env: Record<string, string>,
    log: boolean,
  ) {
    this.logFile = log ? path.join(dataDir, 'server.log') : null;
    this.url = `http://127.0.0.1:${port}`;
  }

  static async create(env: Record<string, string> = {}, opts: { log?: boolean } = {}): Promise<ChildServer> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecabinet-child-'));
    return new ChildServer(await freePort(), dataDir, env, opts.log ?? false);
  }

  /** Starts the server and waits for /healthz. */
  async start(): Promise<void> {
    const databaseUrl = await this.databaseUrl();
    const out = this.logFile ? fs.openSync(this.logFile, 'a') : 'ignore';
    const proc = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      env: {
        ...process.env,
        NODE_ENV: 'test',
        ECABINET_DATA_DIR: this.dataDir,
        PORT: String(this.port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        ECABINET_DEMO_PASSWORD: DEMO_PASSWORD,
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
        ...this.env,
      },
      stdio: ['ignore', out, 'inherit'],
    });
    if (typeof out === 'number') fs.closeSync(out);
    this.proc = proc;
    await until(
      async () => {
        if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}`);
        try {
          return (await fetch(`${this.url}/healthz`)).ok;
        } catch {
          return false;
        }
      },
      { timeout: 150_000, interval: 10, what: 'child server up' },
    );
  }

  /** SIGKILL: no shutdown hooks, no flushing — what a crash looks like. */
  kill9(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    // Already ended (it may have killed itself: a fault-injection point) — its 'exit' was emitted.
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  }

  /** SIGSTOP: the process is frozen as it is (timers, sockets, transactions in flight), as a node stalled by its host; `resume()` wakes it. */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  /** SIGCONT after `pause()`. */
  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  /** The run's database for this data dir (test/helpers/test-db.ts), unless the test set `DATABASE_URL` itself (`''`: SQLite). */
  private async databaseUrl(): Promise<string | null> {
    if ('DATABASE_URL' in this.env) return this.env.DATABASE_URL || null;
    return testDatabaseUrl(this.dataDir);
  }

  /**
   * Reads the child's database from the test process (test/helpers/sql.ts), while it runs or after a
   * kill: on PostgreSQL a pool to its database; on SQLite a read-only connection of this process to its
   * file (the WAL lets it read what was committed beside the running child, and being read-only it never
   * checkpoints a crashed server's WAL away before the restart recovers it). `close()` it when done.
   */
  async sql(): Promise<TestSql & { close(): void }> {
    const url = await this.databaseUrl();
    if (url) return { ...pgTestSql(url), close: () => {} };
    const db = new Database(path.join(this.dataDir, 'ecabinet.sqlite'), { readonly: true, fileMustExist: true });
    return { ...sqliteTestSql((fn) => fn(db)), close: () => db.close() };
  }

  login(username: string, password?: string): Promise<HttpClient> {
    return loginAt(this.url, username, password);
  }

  /** Kills the process if still running and removes the data directory. */
  async dispose(): Promise<void> {
    await this.kill9();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * Cluster nodes `ids` as child processes sharing `env` (DATABASE_URL, the lease…), the admin seeded and A/V off
 * unless `env` says otherwise, started one after the other: the first applies the migrations and seeds the
 * admin. Those already started are disposed of if a later one fails to start.
 */
export async function startChildNodes(ids: string[], env: Record<string, string>): Promise<ChildServer[]> {
  const nodes: ChildServer[] = [];
  try {
    for (const id of ids) {
      const node = await ChildServer.create({ ECABINET_SEED: 'admin', ECABINET_SFU: 'off', ...env, ECABINET_NODE_ID: id });
      nodes.push(node);
      await node.start();
    }
  } catch (err) {
    for (const n of nodes) await n.dispose().catch(() => undefined);
    throw err;
  }
  return nodes;
}
