import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientAddress } from '../../server/http/trust-proxy.js';
import { buildUser } from '../helpers/factories.js';
import { type HttpClient, type TestServer, startTestServer } from '../helpers/server.js';

/**
 * ECABINET_TRUST_PROXY (server/http/trust-proxy.ts): X-Forwarded-For names the client only when the peer is a
 * trusted proxy. The "proxy" here is 127.0.0.2 — a second loopback address this test's requests leave from —
 * and everyone else, 127.0.0.1 included, is a client whose header is ignored. Each test that comes from an untrusted
 * peer has its own (127.0.0.3, .4): the limiter's count of a peer is shared by the tests of the file.
 */
const PROXY = '127.0.0.2';

/** One JSON request from `localAddress` (fetch cannot pick its source address). */
function requestFrom(s: TestServer, localAddress: string, method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}) {
  const u = new URL(s.url);
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise<{ status: number; body: any; cookie: string | null }>((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, method, path, localAddress, agent: false, headers: { origin: s.url, ...(payload ? { 'content-type': 'application/json' } : {}), ...opts.headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null, cookie: res.headers['set-cookie']?.[0]?.split(';')[0] ?? null }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const login = (s: TestServer, from: string, xff: string, username: string, password: string) =>
  requestFrom(s, from, 'POST', '/api/auth/login', { body: { username, password }, headers: { 'x-forwarded-for': xff } });

describe('ECABINET_TRUST_PROXY: whose X-Forwarded-For names the client', () => {
  let s: TestServer;
  let admin: HttpClient;
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin', config: { trustProxy: PROXY, loginLimits: { perAccount: 1000, perIp: 3 } } });
    admin = await s.login('admin');
  });
  afterAll(() => s.close());

  it('through the trusted proxy the sign-in limiter counts per forwarded client; one client locked out leaves the others signing in', async () => {
    const u = await buildUser(s, { admin });
    for (let i = 0; i < 3; i++) expect((await login(s, PROXY, '198.51.100.1', u.username, 'wrong')).body.error.code).toBe('invalid_credentials');
    expect((await login(s, PROXY, '198.51.100.1', u.username, 'wrong')).body.error.code).toBe('rate_limited');
    // Other users behind the same proxy: their own counts.
    for (let i = 2; i < 6; i++) expect((await login(s, PROXY, `198.51.100.${i}`, u.username, u.password)).status).toBe(200);
  });

  it('from an untrusted peer a forged X-Forwarded-For is ignored: every attempt counts against the peer itself', async () => {
    const u = await buildUser(s, { admin });
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) codes.push((await login(s, '127.0.0.3', `203.0.113.${i + 1}`, u.username, 'wrong')).body.error.code);
    expect(codes).toEqual(['invalid_credentials', 'invalid_credentials', 'invalid_credentials', 'rate_limited', 'rate_limited']);
  });

  it('a session opened through the trusted proxy shows the client’s address; one opened directly with a forged header shows the peer', async () => {
    const u = await buildUser(s, { admin });
    const viaProxy = await login(s, PROXY, '192.0.2.10, 198.51.100.40', u.username, u.password);
    expect(viaProxy.status).toBe(200);
    const direct = await login(s, '127.0.0.4', '192.0.2.99', u.username, u.password);
    expect(direct.status).toBe(200);
    const list = await requestFrom(s, '127.0.0.1', 'GET', '/api/auth/sessions', { headers: { cookie: viaProxy.cookie! } });
    // The proxy vouches for its own peer only (198.51.100.40); the hop before it is that client's claim.
    expect(list.body.sessions.map((x: { ip: string | null }) => x.ip).sort()).toEqual(['127.0.0.4', '198.51.100.40']);
  });

  it('the upgrades (Socket.IO, Yjs) read the same rule: a list, a hop count, off', () => {
    const req = (peer: string, xff?: string) => ({ socket: { remoteAddress: peer }, connection: { remoteAddress: peer }, headers: xff ? { 'x-forwarded-for': xff } : {} }) as unknown as http.IncomingMessage;
    expect(clientAddress(req(PROXY, '192.0.2.1, 198.51.100.7'), PROXY)).toBe('198.51.100.7');
    expect(clientAddress(req('127.0.0.1', '198.51.100.7'), PROXY)).toBe('127.0.0.1');
    expect(clientAddress(req('10.0.1.5', '198.51.100.7'), '10.0.1.0/24')).toBe('198.51.100.7');
    expect(clientAddress(req('10.0.1.5', '192.0.2.1, 198.51.100.7'), '2')).toBe('192.0.2.1');
    expect(clientAddress(req('127.0.0.1', '198.51.100.7'), 'off')).toBe('127.0.0.1');
    // The default, one process behind a proxy on its own host, as before.
    expect(clientAddress(req('127.0.0.1', '198.51.100.7'))).toBe('198.51.100.7');
  });
});
