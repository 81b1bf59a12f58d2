import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from '../../scripts/cluster.js';
import { DEMO_PASSWORD } from '../helpers/server.js';
import { testDatabaseUrl } from '../helpers/test-db.js';

/**
 * Behind the cluster's HAProxy (`option forwardfor`) a node sees every connection come from 127.0.0.1; the
 * nodes trust HAProxy's X-Forwarded-For (ECABINET_TRUST_PROXY=127.0.0.1 in scripts/cluster.ts), so a session
 * shows the address of the client that opened it — here 127.0.0.5, the source address of this test's requests —
 * and a header the client forged itself is only a hop HAProxy passed on, never believed.
 */
describe('the cluster sees clients, not HAProxy', () => {
  let cluster: Cluster;
  const dbKey = fs.mkdtempSync(path.join(os.tmpdir(), 'ec-cluster-trust-'));

  const request = (method: string, p: string, opts: { body?: unknown; headers?: Record<string, string> } = {}) => {
    const u = new URL(cluster.url);
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    return new Promise<{ status: number; body: any; cookie: string | null }>((resolve, reject) => {
      const req = http.request(
        { host: u.hostname, port: u.port, method, path: p, localAddress: '127.0.0.5', agent: false, headers: { origin: cluster.url, ...(payload ? { 'content-type': 'application/json' } : {}), ...opts.headers } },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null, cookie: res.headers['set-cookie']?.[0]?.split(';')[0] ?? null }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  };

  beforeAll(async () => {
    const databaseUrl = (await testDatabaseUrl(dbKey)) ?? undefined;
    cluster = await startCluster({ nodes: 2, seed: 'admin', sfu: false, databaseUrl, env: { LOG_LEVEL: 'warn' } });
  });
  afterAll(async () => {
    await cluster?.stop();
    fs.rmSync(dbKey, { recursive: true, force: true });
  });

  it('a session opened through HAProxy shows the client’s address, also when the client forged X-Forwarded-For', async () => {
    const plain = await request('POST', '/api/auth/login', { body: { username: 'admin', password: DEMO_PASSWORD } });
    expect(plain.status).toBe(200);
    const forged = await request('POST', '/api/auth/login', { body: { username: 'admin', password: DEMO_PASSWORD }, headers: { 'x-forwarded-for': '203.0.113.66' } });
    expect(forged.status).toBe(200);
    const list = await request('GET', '/api/auth/sessions', { headers: { cookie: plain.cookie! } });
    expect(list.status).toBe(200);
    const ips = list.body.sessions.map((x: { ip: string | null }) => x.ip);
    expect(ips).toEqual(['127.0.0.5', '127.0.0.5']);
  });
});
