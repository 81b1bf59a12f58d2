import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbDigest } from '../helpers/db-snapshot.js';
import { type HttpClient, type TestServer, buildMeeting, startTestServer } from '../helpers/server.js';

describe('bad input gets a clear 4xx and changes nothing', () => {
  let s: TestServer;
  let admin: HttpClient;
  let secretary: HttpClient;
  let meetingId: number;
  let version: number;
  beforeAll(async () => {
    s = await startTestServer();
    admin = await s.login('admin');
    secretary = await s.login('secretary');
    ({ meetingId, agendaVersion: version } = await buildMeeting(secretary, { agendaItems: 2 }));
  });
  afterAll(() => s.close());

  /** Runs `fn`, asserting the database digest is identical before and after. */
  async function unchanged<T>(fn: () => Promise<T>): Promise<T> {
    const before = dbDigest(s.db);
    const r = await fn();
    expect(dbDigest(s.db)).toEqual(before);
    return r;
  }

  it('malformed JSON → 400 invalid_json', async () => {
    const r = await unchanged(() => secretary.post(`/api/meetings/${meetingId}/agenda/items`, '{"version": 0, "title": ', { 'content-type': 'application/json' }));
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid_json');
  });

  it('a body that is not JSON → 415 unsupported_media_type', async () => {
    const r = await unchanged(() => secretary.post(`/api/meetings/${meetingId}/agenda/items`, `version=${version}&title=x`, { 'content-type': 'application/x-www-form-urlencoded' }));
    expect(r.status).toBe(415);
    expect(r.body.error.code).toBe('unsupported_media_type');
  });

  it('an oversized body → 413 payload_too_large, before it is parsed', async () => {
    const r = await unchanged(() => secretary.post(`/api/meetings/${meetingId}/agenda/items`, { version, title: 'x', description: 'a'.repeat(2_000_000) }));
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('payload_too_large');
  });

  it('a 1 MB string in a text field is refused (by size), and a 21 KB description by its limit', async () => {
    const big = await unchanged(() => admin.post('/api/rooms', { name: 'x'.repeat(1 << 20) }));
    expect(big.status).toBe(413);
    const long = await unchanged(() => secretary.post(`/api/meetings/${meetingId}/agenda/items`, { version, title: 'ok', description: 'đ'.repeat(21_000) }));
    expect(long.status).toBe(400);
    expect(long.body.error.code).toBe('invalid_payload');
    expect(long.body.error.message).toContain('description');
  });

  it('missing and extra fields → 400 invalid_payload naming the field', async () => {
    const missing = await unchanged(() => secretary.post(`/api/meetings/${meetingId}/agenda/items`, { version }));
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain('title');
    const extra = await unchanged(() => secretary.post(`/api/meetings/${meetingId}/agenda/items`, { version, title: 'x', isAdmin: true }));
    expect(extra.status).toBe(400);
    expect(extra.body.error.message).toContain('isAdmin');
    const wrongType = await unchanged(() => admin.post('/api/users', { username: 'x1', password: 12345678, fullName: 'X' }));
    expect(wrongType.status).toBe(400);
  });

  it('unknown ids → 404; ids that are not ids → 400', async () => {
    expect((await unchanged(() => secretary.get('/api/meetings/999999'))).status).toBe(404);
    expect((await unchanged(() => secretary.post(`/api/meetings/${meetingId}/agenda/items/999999/move`, { version, parentId: null, position: 0 }))).status).toBe(404);
    expect((await unchanged(() => admin.patch('/api/users/999999', { fullName: 'X' }))).status).toBe(404);
    for (const bad of ['abc', '-1', '0', '1.5', '1e400', '9007199254740993']) {
      const r = await unchanged(() => secretary.get(`/api/meetings/${bad}`));
      expect(r.status, bad).toBe(400);
    }
    expect((await unchanged(() => secretary.get('/api/no/such/route'))).status).toBe(404);
  });

  it('an expired session cookie is unauthenticated', async () => {
    const token = crypto.randomBytes(32).toString('base64url');
    const hash = crypto.createHash('sha256').update(token).digest('hex');
    s.db.$client.prepare("insert into sessions (token_hash, user_id, expires_at) values (?, (select id from users where username='admin'), '2000-01-01T00:00:00.000Z')").run(hash);
    const c = s.anonymous();
    c.cookie = `ec_sid=${token}`;
    const r = await unchanged(() => c.post('/api/rooms', { name: 'Phòng ma' }));
    expect(r.status).toBe(401);
  });

  it('non-admins cannot administer users, committees or rooms', async () => {
    for (const [path, body] of [
      ['/api/users', { username: 'hacker', password: 'password123', fullName: 'H' }],
      ['/api/committees', { name: 'Ban mới' }],
      ['/api/rooms', { name: 'Phòng mới' }],
    ] as const) {
      const r = await unchanged(() => secretary.post(path, body));
      expect(r.status, path).toBe(403);
    }
  });

  it('HTML and SQL in every text field are stored verbatim as text, never executed', async () => {
    const payloads = [`<script>alert('x')</script>`, `'; DROP TABLE users; --`, `" OR 1=1 --`, `<img src=x onerror=alert(1)>`, 'Robert"); DELETE FROM meetings;--'];
    for (const p of payloads) {
      const a = (await secretary.get(`/api/meetings/${meetingId}/agenda`)).body;
      const r = await secretary.post(`/api/meetings/${meetingId}/agenda/items`, { version: a.version, title: p, description: p });
      expect(r.status).toBe(201);
      const item = r.body.items.at(-1);
      expect(item.title).toBe(p);
      expect(item.description).toBe(p);
      const room = await admin.post('/api/rooms', { name: p, location: p });
      expect(room.body.name).toBe(p);
      const user = await admin.post('/api/users', { username: `u${payloads.indexOf(p)}`, password: 'password123', fullName: p, unit: p, title: p });
      expect(user.body.fullName).toBe(p);
    }
    const count = s.db.$client.prepare('select count(*) n from users').get() as { n: number };
    expect(count.n).toBeGreaterThan(16); // the users table is still there
    expect((await secretary.get('/api/meetings')).status).toBe(200);
  });

  it('control characters in single-line fields are refused', async () => {
    const r = await unchanged(() => admin.post('/api/rooms', { name: 'Phòng\u0000họp' }));
    expect(r.status).toBe(400);
  });

  it('a username with uppercase or spaces is refused; a duplicate username is a 409', async () => {
    expect((await unchanged(() => admin.post('/api/users', { username: 'Bad Name', password: 'password123', fullName: 'X' }))).status).toBe(400);
    const dup = await unchanged(() => admin.post('/api/users', { username: 'member1', password: 'password123', fullName: 'X' }));
    expect(dup.status).toBe(409);
  });

  it('a meeting that ends before it starts is refused', async () => {
    const committeeId = (await secretary.get('/api/committees')).body.committees[0].id;
    const r = await unchanged(() =>
      secretary.post('/api/meetings', { committeeId, title: 'Ngược', startsAt: '2030-01-02T08:00:00+07:00', endsAt: '2030-01-01T08:00:00+07:00' }),
    );
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('endsAt');
  });
});
