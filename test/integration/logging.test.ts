import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUser } from '../helpers/factories.js';
import { type TestServer, startTestServer, until } from '../helpers/server.js';

describe('structured logs', () => {
  let s: TestServer;
  const lines: string[] = [];
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin', logLevel: 'debug', logTo: { write: (l: string) => void lines.push(l) } });
  });
  afterAll(() => s.close());

  it('are JSON with a request id and never contain passwords or session cookies', async () => {
    const admin = await s.login('admin');
    const [u1, u2] = [await buildUser(s, { admin }), await buildUser(s, { admin })];
    const c = await s.login(u1.username, u1.password);
    await c.get('/api/auth/me');
    await s.anonymous().post('/api/auth/login', { username: u2.username, password: 'sai-mat-khau-bi-mat' });
    const parsed = lines.map((l) => JSON.parse(l));
    const requests = parsed.filter((p) => p.req?.id);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.some((p) => p.req.url === '/api/auth/me')).toBe(true);
    const all = lines.join('\n');
    expect(all).not.toContain('ecabinet-demo');
    expect(all).not.toContain(u1.password);
    expect(all).not.toContain('sai-mat-khau-bi-mat');
    expect(all).not.toContain(c.cookie.split('=')[1]);
  });

  it('an error response names its request id: the same as its X-Request-Id header and its log line, so support can find the logs', async () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const u = await buildUser(s);
    const missing = await (await s.login(u.username, u.password)).get('/api/meetings/987654');
    // A body the JSON parser refuses goes through the same funnel.
    const res = await fetch(`${s.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: s.url }, body: '{"username":' });
    const malformed = { status: res.status, headers: res.headers, body: await res.json() };
    for (const [r, status] of [[missing, 404], [malformed, 400]] as const) {
      expect(r.status).toBe(status);
      const id = r.headers.get('x-request-id');
      expect(id).toMatch(uuid);
      expect(r.body.error.requestId).toBe(id);
      await until(() => lines.some((l) => JSON.parse(l).req?.id === id && JSON.parse(l).res?.statusCode === status), { what: `the log line of request ${id}` });
    }
  });

  it('login attempts are throttled per IP', async () => {
    // A server of its own: the other tests' sign-ins would count against this address's ceiling.
    const t = await startTestServer({ seed: 'admin', config: { loginLimits: { perAccount: 5, perIp: 4 } } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push((await t.anonymous().post('/api/auth/login', { username: `x${i}`, password: 'whatever1' })).status);
      expect(codes.at(-1)).toBe(429);
      expect(codes.slice(0, 4)).toEqual([401, 401, 401, 401]); // four a minute, then refused
    } finally {
      await t.close();
    }
  });
});
