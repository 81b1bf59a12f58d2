import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../server/auth/totp.js';
import { type BuiltMeeting, buildMeeting, buildUser } from '../helpers/factories.js';
import { HttpClient, type TestServer, startTestServer } from '../helpers/server.js';
import { type TestSocket, connectSocket } from '../helpers/socket.js';

const strong = () => `Ngựa-${crypto.randomBytes(10).toString('base64url')}`;

describe('accounts: password policy, self-service change, admin reset, sessions', () => {
  let s: TestServer;
  let admin: HttpClient;
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
    admin = await s.login('admin');
  });
  afterAll(() => s.close());

  it('new passwords need 12 characters and must not be common or guessable; the demo password still signs in', async () => {
    const base = { fullName: 'Trần Thị Mật Khẩu', unit: 'Sở Nội vụ' };
    const short = await admin.post('/api/users', { ...base, username: `p${crypto.randomBytes(3).toString('hex')}`, password: 'Ab1!xyz9' });
    expect(short.status).toBe(400);
    for (const password of ['password1234', 'qwertyuiop123', 'iloveyou2024!', '123456789012']) {
      const r = await admin.post('/api/users', { ...base, username: `p${crypto.randomBytes(3).toString('hex')}`, password });
      expect(r.status, password).toBe(422);
      expect(r.body.error.code).toBe('weak_password');
    }
    const username = `p${crypto.randomBytes(3).toString('hex')}`;
    const withName = await admin.post('/api/users', { ...base, username, password: `${username}-2024-abc` });
    expect(withName.body.error?.code).toBe('weak_password');
    expect((await admin.post('/api/users', { ...base, username, password: strong() })).status).toBe(201);
    // The seeded account keeps the demo password.
    expect((await s.anonymous().post('/api/auth/login', { username: 'admin', password: 'ecabinet-demo' })).status).toBe(200);
  });

  it('a user changes their own password: the current one is required, every other session and socket ends, this one is re-issued', async () => {
    const u = await buildUser(s, { admin });
    const here = await s.login(u.username, u.password);
    const other = await s.login(u.username, u.password);
    const sock: TestSocket = connectSocket(s.url, other, { reconnection: false });
    await new Promise<void>((r) => sock.socket.once('connect', () => r()));
    const disconnected = new Promise<void>((r) => sock.socket.once('disconnect', () => r()));

    const wrong = await here.post('/api/auth/password', { currentPassword: 'not-my-password', newPassword: strong() });
    expect(wrong.status).toBe(401);
    expect((await here.post('/api/auth/password', { currentPassword: u.password, newPassword: 'short' })).body.error.code).toBe('weak_password');
    const oldCookie = here.cookie;
    const next = strong();
    const ok = await here.post('/api/auth/password', { currentPassword: u.password, newPassword: next });
    expect(ok.status).toBe(200);
    expect(here.cookie).not.toBe(oldCookie);
    expect((await here.get('/api/auth/me')).status).toBe(200);
    await disconnected;
    expect((await other.get('/api/auth/me')).status).toBe(401);
    const replay = new HttpClient(s.url);
    replay.cookie = oldCookie;
    expect((await replay.get('/api/auth/me')).status).toBe(401);
    expect((await s.anonymous().post('/api/auth/login', { username: u.username, password: u.password })).status).toBe(401);
    expect((await s.anonymous().post('/api/auth/login', { username: u.username, password: next })).status).toBe(200);
  });

  it('an admin reset forces a change at the next sign-in: until then the session reaches only the account routes, no socket', async () => {
    const u = await buildUser(s, { admin });
    const temporary = strong();
    expect((await admin.patch(`/api/users/${u.id}`, { password: temporary })).status).toBe(200);
    const c = new HttpClient(s.url);
    const login = await c.post('/api/auth/login', { username: u.username, password: temporary });
    expect(login.status).toBe(200);
    expect(login.body.restriction).toBe('password_change_required');
    const blocked = await c.get('/api/meetings');
    expect(blocked.status).toBe(403);
    expect(blocked.body.error.code).toBe('password_change_required');
    const sock = connectSocket(s.url, c, { reconnection: false });
    const err = await new Promise<string>((r) => sock.socket.once('connect_error', (e: Error & { data?: { code?: string } }) => r(e.data?.code ?? e.message)));
    expect(err).toBe('unauthenticated');
    sock.close();
    const changed = await c.post('/api/auth/password', { currentPassword: temporary, newPassword: strong() });
    expect(changed.status).toBe(200);
    expect(changed.body.restriction).toBeNull();
    expect((await c.get('/api/meetings')).status).toBe(200);
  });

  it('a user lists their own sessions and ends one; it is signed out at once and others are untouched', async () => {
    const u = await buildUser(s, { admin });
    const a = await s.login(u.username, u.password);
    const b = await s.login(u.username, u.password);
    const list = await a.get('/api/auth/sessions');
    expect(list.status).toBe(200);
    expect(list.body.sessions).toHaveLength(2);
    const mine = list.body.sessions.find((x: { current: boolean }) => x.current);
    const theirs = list.body.sessions.find((x: { current: boolean }) => !x.current);
    expect(mine.userAgent).toBeTruthy();
    expect((await a.delete(`/api/auth/sessions/${theirs.id}`)).status).toBe(204);
    expect((await b.get('/api/auth/me')).status).toBe(401);
    expect((await a.get('/api/auth/me')).status).toBe(200);
    // Somebody else's session id is not found (no cross-user revoke).
    const other = await buildUser(s, { admin });
    const stranger = await s.login(other.username, other.password);
    expect((await stranger.delete(`/api/auth/sessions/${mine.id}`)).status).toBe(404);
    expect((await a.get('/api/auth/me')).status).toBe(200);
  });
});

describe('accounts: TOTP second factor, required by policy for admins, secretaries and chairs', () => {
  let s: TestServer;
  let m: BuiltMeeting;
  beforeAll(async () => {
    // The committee is built before the policy applies (under it, the admin must enrol before any admin work).
    const before = await startTestServer({ seed: 'admin' });
    m = await buildMeeting(before, { members: 1, agendaItems: 0, publish: false });
    await before.close();
    s = await startTestServer({ seed: 'admin', dataDir: before.dataDir, config: { mfaRequiredRoles: ['admin', 'secretary', 'chair'] } });
  });
  afterAll(() => s.close());

  /** Signs in with the password and, when asked, the current TOTP code. */
  async function signIn(username: string, password: string, secret?: string) {
    const c = new HttpClient(s.url);
    const r = await c.post('/api/auth/login', { username, password });
    expect(r.status).toBe(200);
    if (secret) expect((await c.post('/api/auth/mfa', { code: await totpCode(secret) })).status).toBe(200);
    return { c, login: r.body };
  }

  it('an admin without a second factor must enrol at first sign-in; then every sign-in needs a code, used once', async () => {
    const { c, login } = await signIn('admin', 'ecabinet-demo');
    expect(login.restriction).toBe('mfa_enrolment_required');
    expect((await c.get('/api/users')).body.error.code).toBe('mfa_enrolment_required');
    const enrol = await c.post('/api/auth/mfa/enrol');
    expect(enrol.status).toBe(200);
    expect(enrol.body.otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    expect((await c.post('/api/auth/mfa/confirm', { code: '000000' })).status).toBe(401);
    const code = await totpCode(enrol.body.secret);
    const done = await c.post('/api/auth/mfa/confirm', { code });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ restriction: null, mfaEnabled: true, mfaRequired: true });
    expect((await c.get('/api/users')).status).toBe(200);

    // Next sign-in: the password alone gives a session that reaches nothing but the code route.
    const second = new HttpClient(s.url);
    const r = await second.post('/api/auth/login', { username: 'admin', password: 'ecabinet-demo' });
    expect(r.body.restriction).toBe('mfa_required');
    expect((await second.get('/api/users')).body.error.code).toBe('mfa_required');
    // The code already used for the enrolment is not accepted again (no replay).
    expect((await second.post('/api/auth/mfa', { code })).status).toBe(401);
    expect((await second.post('/api/auth/mfa', { code: await totpCode(enrol.body.secret, Date.now() + 30_000) })).status).toBe(200);
    expect((await second.get('/api/users')).status).toBe(200);
    // The policy forbids turning it off.
    const off = await second.request('DELETE', '/api/auth/mfa', { password: 'ecabinet-demo', code: await totpCode(enrol.body.secret, Date.now() + 60_000) });
    expect(off.status).toBe(403);
    expect(off.body.error.code).toBe('forbidden');
  });

  it('a plain member is not required to enrol; a committee secretary is', async () => {
    const member = await signIn(m.members[0].username, m.members[0].password);
    expect(member.login.restriction).toBeNull();
    const secretary = await signIn(m.secretary.username, m.secretary.password);
    expect(secretary.login.restriction).toBe('mfa_enrolment_required');
  });
});
