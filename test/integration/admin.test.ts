import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMeeting, buildUser } from '../helpers/factories.js';
import { testSql } from '../helpers/sql.js';
import { type HttpClient, type TestServer, startTestServer, userIds } from '../helpers/server.js';

describe('administration: users, committees, rooms', () => {
  let s: TestServer;
  let admin: HttpClient;
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
    admin = await s.login('admin');
  });
  afterAll(() => s.close());

  it('creates a user who can sign in; the password is stored as an argon2id hash', async () => {
    const r = await admin.post('/api/users', { username: 'nv.hoa', password: 'mat-khau-manh', fullName: 'Nguyễn Văn Hoà', title: 'Chuyên viên', unit: 'Sở Nội vụ' });
    expect(r.status).toBe(201);
    expect(r.body).not.toHaveProperty('passwordHash');
    const hash = await testSql(s).value<string>('select password_hash from users where username = ?', 'nv.hoa');
    expect(hash).toMatch(/^\$argon2id\$/);
    const c = await s.login('nv.hoa', 'mat-khau-manh');
    expect((await c.get('/api/auth/me')).body.unit).toBe('Sở Nội vụ');
  });

  it('deactivating a user ends their sessions and blocks sign-in', async () => {
    const u = await buildUser(s, { admin });
    const m12 = await s.login(u.username, u.password);
    expect((await m12.get('/api/auth/me')).status).toBe(200);
    expect((await admin.patch(`/api/users/${u.id}`, { active: false })).body.active).toBe(false);
    expect((await m12.get('/api/auth/me')).status).toBe(401);
    const again = await s.anonymous().post('/api/auth/login', { username: u.username, password: u.password });
    expect(again.status).toBe(401);
  });

  it('an admin cannot deactivate themselves', async () => {
    const ids = await userIds(admin);
    const r = await admin.patch(`/api/users/${ids.admin}`, { active: false });
    expect(r.status).toBe(400);
  });

  it('creates a committee with members and default roles; its secretary can then create meetings for it', async () => {
    // member8 is a member of another committee (with its own meeting) and becomes this one's secretary.
    const other = await buildMeeting(s, { members: 1, agendaItems: 0, publish: false });
    const [u7, u9] = [await buildUser(s, { admin }), await buildUser(s, { admin })];
    const u8 = other.members[0];
    const ids = { member7: u7.id, member8: u8.id, member9: u9.id };
    const c = await admin.post('/api/committees', {
      name: 'Hội đồng Thi đua - Khen thưởng',
      members: [
        { userId: ids.member7, defaultRole: 'chair' },
        { userId: ids.member8, defaultRole: 'secretary' },
        { userId: ids.member9, defaultRole: 'member' },
      ],
    });
    expect(c.status).toBe(201);
    expect(c.body.members).toHaveLength(3);
    expect(c.body.members.find((m: { userId: number }) => m.userId === ids.member8).votingRight).toBe(false);
    const m8 = await other.login(u8);
    expect((await m8.get('/api/auth/me')).body.secretaryOf).toContain(c.body.id);
    const r = await m8.post('/api/meetings', { committeeId: c.body.id, title: 'Họp xét khen thưởng', startsAt: '2030-01-01T08:00:00+07:00', endsAt: '2030-01-01T10:00:00+07:00' });
    expect(r.status).toBe(201);
    expect(r.body.participants.map((p: { userId: number }) => p.userId).sort()).toEqual([ids.member7, ids.member8, ids.member9].sort());
    // …but not for the other committee, where member8 is only a member
    const no = await m8.post('/api/meetings', { committeeId: other.committeeId, title: 'x', startsAt: '2030-01-01T08:00:00+07:00', endsAt: '2030-01-01T10:00:00+07:00' });
    expect(no.status).toBe(403);
  });

  it('members see only the committees they belong to', async () => {
    const m = await buildMeeting(s, { members: 1, agendaItems: 0, publish: false });
    const outsider = await buildUser(s, { admin });
    const guest = await s.login(outsider.username, outsider.password);
    expect((await guest.get('/api/committees')).body.committees).toEqual([]);
    const m1 = await m.as('member', 0);
    expect((await m1.get('/api/committees')).body.committees).toHaveLength(1);
  });

  it('rooms: create, rename, deactivate; a meeting cannot be booked into an inactive room', async () => {
    const r = await admin.post('/api/rooms', { name: 'Phòng họp số 2', location: 'Tầng 5', capacity: 20 });
    expect(r.status).toBe(201);
    const off = await admin.patch(`/api/rooms/${r.body.id}`, { active: false });
    expect(off.body.active).toBe(false);
    const built = await buildMeeting(s, { members: 1, agendaItems: 0, publish: false });
    const sec = await built.as('secretary');
    const committeeId = built.committeeId;
    const m = await sec.post('/api/meetings', { committeeId, roomId: r.body.id, title: 'x', startsAt: '2030-01-01T08:00:00+07:00', endsAt: '2030-01-01T10:00:00+07:00' });
    expect(m.status).toBe(400);
  });
});
