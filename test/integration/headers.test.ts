import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMeeting } from '../helpers/factories.js';
import { type HttpClient, type TestServer, startTestServer } from '../helpers/server.js';
import { pdf, upload } from './documents-helpers.js';

/** connect-src of a CSP header, as a list of sources. */
const connectSrc = (csp: string | null) => (csp ?? '').split(';').map((d) => d.trim().split(/\s+/)).find((d) => d[0] === 'connect-src')?.slice(1) ?? [];

/** A raw GET with an arbitrary Host header (fetch does not let us forge it). */
function rawGet(port: number, path: string, host: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      res.resume();
      resolve(res);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('security headers', () => {
  let s: TestServer;
  let admin: HttpClient;
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
    admin = await s.login('admin');
  });
  afterAll(() => s.close());

  it('every API response carries Cache-Control: no-store (all GET routes of the OpenAPI document, as a signed-in admin, errors too)', async () => {
    const paths = (await admin.get('/api/openapi.json')).body.paths as Record<string, Record<string, unknown>>;
    const missing: string[] = [];
    let checked = 0;
    for (const [p, ops] of Object.entries(paths)) {
      if (!ops.get || p === '/api/openapi.json') continue;
      const url = p.replace(/\{[^}]+\}/g, '1') + (p === '/api/search' || p.endsWith('/find') ? '?q=a' : '');
      const r = await admin.get(url);
      checked++;
      if (!/\bno-store\b/.test(r.headers.get('cache-control') ?? '')) missing.push(`${url} → ${r.status} ${r.headers.get('cache-control')}`);
    }
    expect(missing).toEqual([]);
    expect(checked).toBeGreaterThan(30);
    expect((await admin.get('/api/auth/me')).headers.get('cache-control')).toBe('no-store');
    expect((await admin.get('/api/no/such/route')).headers.get('cache-control')).toBe('no-store');
  });

  it('document bytes (whole file, ranges, older versions) are never stored in an HTTP cache', async () => {
    const m = await buildMeeting(s, { agendaItems: 1 });
    const secretary = await m.as('secretary');
    const up = await upload(secretary, m.meetingId, m.itemIds[0], pdf('empty.pdf'), 'a.pdf');
    expect(up.status).toBe(201);
    const id = up.body.id as number;
    const whole = await secretary.get(`/api/documents/${id}/file`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('cache-control')).toMatch(/\bno-store\b/);
    const range = await secretary.get(`/api/documents/${id}/file`, { range: 'bytes=0-9' });
    expect(range.status).toBe(206);
    expect(range.headers.get('cache-control')).toMatch(/\bno-store\b/);
    const version = await secretary.get(`/api/documents/${id}/file?version=${up.body.current.id}`);
    expect(version.headers.get('cache-control')).toMatch(/\bno-store\b/);
  });

  it("CSP connect-src allows only this origin: 'self' and its own ws:// / wss://, never any host", async () => {
    const r = await s.anonymous().get('/healthz');
    const src = connectSrc(r.headers.get('content-security-policy'));
    const host = new URL(s.url).host;
    expect(src).toEqual(["'self'", `ws://${host}`, `wss://${host}`]);
    expect(src).not.toContain('ws:');
    expect(src).not.toContain('wss:');
    expect(src.every((x) => x === "'self'" || x.endsWith(`//${host}`))).toBe(true);
  });

  it('helmet headers: nosniff, no referrer, no framing; JSON with a charset', async () => {
    const r = await admin.get('/api/auth/me');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    expect(r.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
  });

  it('a forged Host header cannot inject CSP directives or widen connect-src', async () => {
    const res = await rawGet(s.port, '/healthz', "evil.example; script-src *");
    const csp = String(res.headers['content-security-policy']);
    expect(connectSrc(csp)).toEqual(["'self'"]);
    expect(csp).not.toContain('evil.example');
    expect(csp).toMatch(/script-src 'self'(;|$)/);
  });

  it('the session cookie is HttpOnly, SameSite=Strict, host-only, path /', async () => {
    const r = await s.anonymous().post('/api/auth/login', { username: 'admin', password: 'ecabinet-demo' });
    const cookie = r.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^ec_sid=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/;\s*HttpOnly/i);
    expect(cookie).toMatch(/;\s*SameSite=Strict/i);
    expect(cookie).toMatch(/;\s*Path=\//i);
    expect(cookie).not.toMatch(/;\s*Domain=/i);
  });
});
