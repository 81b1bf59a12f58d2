import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUser } from '../helpers/factories.js';
import { type TestServer, startTestServer } from '../helpers/server.js';

describe('auth', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
  });
  afterAll(() => s.close());

  it('healthz reports db ok and the sfu state', async () => {
    const r = await s.anonymous().get('/healthz');
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('ok');
    expect(r.body.db).toBe('ok');
    expect(['ok', 'disabled']).toContain(r.body.sfu);
  });

  it('login sets an httpOnly SameSite=Strict cookie and /me returns the user; logout ends the session', async () => {
    const u = await buildUser(s, { name: 'Nguyễn Văn An' });
    const c = s.anonymous();
    const r = await c.post('/api/auth/login', { username: u.username, password: u.password });
    expect(r.status).toBe(200);
    expect(r.headers.get('set-cookie')).toMatch(/HttpOnly/i);
    expect(r.headers.get('set-cookie')).toMatch(/SameSite=Strict/i);
    expect(r.body.username).toBe(u.username);
    expect(r.body).not.toHaveProperty('passwordHash');
    const me = await c.get('/api/auth/me');
    expect(me.body.fullName).toBe('Nguyễn Văn An');
    const saved = c.cookie;
    expect((await c.post('/api/auth/logout')).status).toBe(204);
    c.cookie = saved; // replaying the old cookie after logout must not work
    expect((await c.get('/api/auth/me')).status).toBe(401);
  });

  it('a wrong password gets 401 invalid_credentials, the same as an unknown user', async () => {
    const u = await buildUser(s);
    const a = await s.anonymous().post('/api/auth/login', { username: u.username, password: 'wrong-password' });
    const b = await s.anonymous().post('/api/auth/login', { username: 'nobody', password: 'wrong-password' });
    expect(a.status).toBe(401);
    expect(a.body.error.code).toBe('invalid_credentials');
    // The same answer in every field a client could tell apart; only the request's own id differs.
    const { requestId: ra, ...restA } = a.body.error;
    const { requestId: rb, ...restB } = b.body.error;
    expect(typeof ra).toBe('string');
    expect(rb).not.toBe(ra);
    expect(b.status).toBe(a.status);
    expect(restB).toEqual(restA);
  });

  it('locks an account after repeated failures, even with the right password, without affecting others', async () => {
    const admin = await s.login('admin');
    const [locked, other] = [await buildUser(s, { admin }), await buildUser(s, { admin })];
    for (let i = 0; i < 5; i++) await s.anonymous().post('/api/auth/login', { username: locked.username, password: 'nope-nope' });
    const r = await s.anonymous().post('/api/auth/login', { username: locked.username, password: locked.password });
    expect(r.status).toBe(429);
    expect(r.body.error.code).toBe('rate_limited');
    expect((await s.anonymous().post('/api/auth/login', { username: other.username, password: other.password })).status).toBe(200);
  });

  it('a forged session cookie is unauthenticated', async () => {
    const c = s.anonymous();
    c.cookie = 'ec_sid=forged-token-value';
    const r = await c.get('/api/auth/me');
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('unauthenticated');
  });

  it('a write without a same-site Origin is refused as csrf and changes nothing', async () => {
    const u = await buildUser(s);
    const c = await s.login(u.username, u.password);
    const r = await c.patch('/api/auth/me', { locale: 'en' }, { origin: 'https://evil.example' });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('csrf');
    expect((await c.get('/api/auth/me')).body.locale).toBe('vi');
    expect((await c.patch('/api/auth/me', { locale: 'en' })).body.locale).toBe('en');
  });

  it('sends a CSP that allows only our own origin for scripts', async () => {
    const r = await s.anonymous().get('/healthz');
    const csp = r.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
  });
});
