import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type TestConfig, type TestServer, startTestServer } from './server.js';
import { testDialect } from './test-db.js';

/**
 * Several nodes (issue #18) in this test process: `n` real servers with node ids n1…nN on ONE PostgreSQL database
 * (the run's throwaway cluster, `npm run test:cluster`) and ONE data folder (the shared file store), optionally one
 * Redis (test/helpers/redis.ts). Started one after another: the first applies the migrations and seeds `admin`.
 * For a real kill -9 / SIGSTOP of a node, start it as a ChildServer (test/helpers/child-server.ts) on the same
 * database instead.
 */
export async function startNodes(n: number, opts: { redisUrl?: string; config?: TestConfig; dataDir?: string; logLevel?: string } = {}): Promise<TestServer[]> {
  if (testDialect !== 'postgres') throw new Error('startNodes needs PostgreSQL: run it with `npm run test:cluster` (ECABINET_TEST_DB=postgres)');
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ecabinet-cluster-'));
  const nodes: TestServer[] = [];
  try {
    for (let i = 1; i <= n; i++) {
      const { cluster, ...rest } = opts.config ?? {};
      nodes.push(
        await startTestServer({
          dataDir,
          logLevel: opts.logLevel,
          config: { ...rest, cluster: { ...cluster, nodeId: `n${i}`, redisUrl: opts.redisUrl ?? null } },
        }),
      );
    }
  } catch (err) {
    await Promise.allSettled(nodes.map((s) => s.close()));
    throw err;
  }
  return nodes;
}
