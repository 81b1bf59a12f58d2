import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Config, loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/log.js';
import { type RunningServer, startServer } from '../../server/server.js';
import { testDatabaseUrl } from './test-db.js';

export const DEMO_PASSWORD = 'ecabinet-demo';

export interface TestServer extends RunningServer {
  dataDir: string;
  /** Signs in over HTTP and returns a client carrying that session's cookie. */
  login(username: string, password?: string): Promise<HttpClient>;
  /** A client with no session. */
  anonymous(): HttpClient;
}

/**
 * What a test may set of the server's config. `database: { url: null }` pins the server to SQLite under
 * `npm run test:pg` too, for a test about SQLite's own files (their bytes, VACUUM INTO, WAL).
 */
export type TestConfig = Partial<Omit<Config, 'database' | 'cluster'>> & { database?: Partial<Config['database']>; cluster?: Partial<Config['cluster']> };

/**
 * Starts the real server on an ephemeral port with a fresh SQLite file in a temp data directory (under
 * `npm run test:pg`, a fresh PostgreSQL database instead: test/helpers/test-db.ts),
 * seeded with the account `admin` only: each test builds its own committee, meeting and users
 * (test/helpers/factories.ts). `seed: 'demo'` seeds the demo committee and meeting instead — for the
 * seed's own test and for benchmarks, never for a test of another feature.
 * Pass `dataDir` to restart on an existing directory (crash/restart tests).
 */
export async function startTestServer(
  opts: { dataDir?: string; config?: TestConfig; logLevel?: string; logTo?: { write(line: string): void }; seed?: 'demo' | 'admin' } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ecabinet-test-'));
  const { database, cluster, ...rest } = opts.config ?? {};
  const url = database && 'url' in database ? (database.url ?? null) : await testDatabaseUrl(dataDir);
  const config = loadConfig(
    { NODE_ENV: 'test', ECABINET_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: opts.logLevel ?? 'silent', ECABINET_DEMO_PASSWORD: DEMO_PASSWORD, ECABINET_SEED: opts.seed === 'demo' ? 'auto' : 'admin' },
    { loginLimits: { perAccount: 5, perIp: 10_000 }, ...rest, database: { poolSize: 4, ...database, url } },
  );
  if (cluster) config.cluster = { ...config.cluster, ...cluster };
  const running = await startServer(config, createLogger(config.logLevel, opts.logTo));
  return {
    ...running,
    dataDir,
    anonymous: () => new HttpClient(running.url),
    login: (username, password) => loginAt(running.url, username, password),
  };
}

/** Signs in through the server (or load balancer) at `url`: @returns the client holding the session cookie. */
export async function loginAt(url: string, username: string, password = DEMO_PASSWORD): Promise<HttpClient> {
  const c = new HttpClient(url);
  const r = await c.post('/api/auth/login', { username, password });
  if (r.status !== 200) throw new Error(`login ${username} failed: ${r.status} ${JSON.stringify(r.body)}`);
  return c;
}

export interface HttpResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A tiny cookie-keeping HTTP client that sends the same-origin `Origin` header on writes, as a browser would. */
export class HttpClient {
  cookie = '';
  constructor(readonly baseUrl: string) {}

  async request<T = any>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
    const h: Record<string, string> = { origin: this.baseUrl, ...headers };
    if (this.cookie) h.cookie = this.cookie;
    let payload: BodyInit | undefined;
    if (body !== undefined) {
      if (typeof body === 'string' || body instanceof Uint8Array || body instanceof FormData) payload = body as BodyInit;
      else {
        payload = JSON.stringify(body);
        h['content-type'] ??= 'application/json';
      }
    }
    const res = await fetch(this.baseUrl + url, { method, headers: h, body: payload, redirect: 'manual' });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0];
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }
  get<T = any>(url: string, headers?: Record<string, string>) {
    return this.request<T>('GET', url, undefined, headers);
  }
  post<T = any>(url: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('POST', url, body, headers);
  }
  patch<T = any>(url: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('PATCH', url, body, headers);
  }
  put<T = any>(url: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('PUT', url, body, headers);
  }
  delete<T = any>(url: string, headers?: Record<string, string>) {
    return this.request<T>('DELETE', url, undefined, headers);
  }
}

/** Waits until `fn` returns a truthy value (never a fixed sleep). */
export async function until<T>(fn: () => T | Promise<T>, { timeout = 10_000, interval = 20, what = 'condition' } = {}): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Future ISO date-times for meeting factories. */
export function inDays(days: number, hour = 8): string {
  const d = new Date(Date.now() + days * 86400_000);
  d.setUTCHours(hour, 0, 0, 0);
  return d.toISOString();
}

/**
 * Factory: the secretary creates a meeting in the demo committee with `agendaItems` top-level items.
 * Returns ids and the agenda version.
 */
export async function buildMeeting(
  secretary: HttpClient,
  opts: { agendaItems?: number; publish?: boolean; participants?: { userId: number; role: string; canVote?: boolean }[]; title?: string } = {},
) {
  const committees = await secretary.get('/api/committees');
  const committeeId = committees.body.committees[0].id as number;
  const m = await secretary.post('/api/meetings', {
    committeeId,
    title: opts.title ?? 'Phiên họp thử nghiệm',
    startsAt: inDays(3, 1),
    endsAt: inDays(3, 4),
    ...(opts.participants ? { participants: opts.participants } : {}),
  });
  if (m.status !== 201) throw new Error(`create meeting: ${m.status} ${JSON.stringify(m.body)}`);
  let version = 0;
  const itemIds: number[] = [];
  for (let i = 0; i < (opts.agendaItems ?? 0); i++) {
    const r = await secretary.post(`/api/meetings/${m.body.id}/agenda/items`, { version, title: `Nội dung ${i + 1}` });
    version = r.body.version;
    itemIds.push(r.body.items.at(-1).id);
  }
  if (opts.publish) await secretary.post(`/api/meetings/${m.body.id}/publish`);
  return { meetingId: m.body.id as number, committeeId, itemIds, agendaVersion: version, meeting: m.body };
}

/** User ids of the demo users by username. */
export async function userIds(admin: HttpClient): Promise<Record<string, number>> {
  const r = await admin.get('/api/users');
  return Object.fromEntries(r.body.users.map((u: { username: string; id: number }) => [u.username, u.id]));
}
