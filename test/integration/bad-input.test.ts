import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbDigest, testSql } from '../helpers/sql.js';
import { ERROR_CODES } from '../../shared/protocol/errors.js';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { type HttpClient, type TestServer, startTestServer } from '../helpers/server.js';
import { connectSocket, connected } from '../helpers/socket.js';

describe('bad input gets a clear 4xx and changes nothing', () => {
  let s: TestServer;
  let admin: HttpClient;
  let secretary: HttpClient;
  let meetingId: number;
  let version: number;
  let m: BuiltMeeting;
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
    admin = await s.login('admin');
    m = await buildMeeting(s, { agendaItems: 2, publish: false });
    secretary = await m.as('secretary');
    meetingId = m.meetingId;
    version = (await secretary.get(`/api/meetings/${meetingId}/agenda`)).body.version;
  });
  afterAll(() => s.close());

  /** Runs `fn`, asserting the database digest is identical before and after. */
  async function unchanged<T>(fn: () => Promise<T>): Promise<T> {
    const before = await dbDigest(s);
    const r = await fn();
    expect(await dbDigest(s)).toEqual(before);
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
    // The agenda's version as it is now (another test of this file adds items), so only the unknown id is wrong.
    const current = (await secretary.get(`/api/meetings/${meetingId}/agenda`)).body.version as number;
    expect((await unchanged(() => secretary.post(`/api/meetings/${meetingId}/agenda/items/999999/move`, { version: current, parentId: null, position: 0 }))).status).toBe(404);
    expect((await unchanged(() => admin.patch('/api/users/999999', { fullName: 'X' }))).status).toBe(404);
    for (const bad of ['abc', '-1', '0', '1.5', '1e400', '9007199254740993']) {
      const r = await unchanged(() => secretary.get(`/api/meetings/${bad}`));
      expect(r.status, bad).toBe(400);
    }
    expect((await unchanged(() => secretary.get('/api/no/such/route'))).status).toBe(404);
  });

  it('an id in a URL has one spelling: "1.0", " 1", "0x1", "1e0", "+1", "01" and friends of a real id → 400 invalid_payload', async () => {
    const id = meetingId;
    expect((await secretary.get(`/api/meetings/${id}`)).status).toBe(200);
    const spellings = [`${id}.0`, ` ${id}`, `${id} `, `0x${id.toString(16)}`, `${id}e0`, `+${id}`, `0${id}`, `${id}.`, `%20${id}`, `${id}%00`, `\t${id}`];
    for (const bad of spellings) {
      const r = await unchanged(() => secretary.get(`/api/meetings/${bad.replace(' ', '%20').replace('\t', '%09')}`));
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.body.error.code, bad).toBe('invalid_payload');
    }
    // Two path parameters: each strict.
    const itemPath = (m: string, i: string) => `/api/meetings/${m}/agenda/items/${i}/move`;
    const { body: agenda } = await secretary.get(`/api/meetings/${id}/agenda`);
    const itemId = agenda.items[0].id as number;
    for (const [m, i] of [[`0${id}`, `${itemId}`], [`${id}`, `${itemId}.0`], [`${id}`, `+${itemId}`]]) {
      const r = await unchanged(() => secretary.post(itemPath(m, i), { version: agenda.version, parentId: null, position: 1 }));
      expect(r.status, `${m}/${i}`).toBe(400);
    }
  });

  it('ids and numbers in query strings are parsed strictly too', async () => {
    const committeeId = m.committeeId;
    expect((await secretary.get(`/api/meetings?committeeId=${committeeId}`)).status).toBe(200);
    for (const q of [`committeeId=0${committeeId}`, `committeeId=${committeeId}.0`, `committeeId=%2B${committeeId}`, `committeeId=${committeeId}&committeeId=${committeeId}`, 'committeeId=true']) {
      const r = await secretary.get(`/api/meetings?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code).toBe('invalid_payload');
    }
    for (const q of ['q=x&limit=1e1', 'q=x&limit=010', 'q=x&limit=%2010', `q=x&meetingId=0x${meetingId.toString(16)}`]) {
      expect((await secretary.get(`/api/search?${q}`)).status, q).toBe(400);
    }
    expect((await secretary.get('/api/search?q=x&limit=10')).status).toBe(200);
  });

  it('socket ids must be JSON numbers: "2", true, [2], 2.5, 0 and extra keys are refused with invalid_payload and change nothing', async () => {
    const published = await buildMeeting(s, { agendaItems: 1, publish: true });
    const chair = await published.as('chair');
    const sock = await connected(connectSocket(s.url, chair));
    try {
      const id = published.meetingId;
      const forged: unknown[] = [String(id), true, [id], `${id}.0`, id + 0.5, 0, -id, null, { valueOf: id }, 2 ** 53];
      const before = await dbDigest(s);
      for (const meetingId of forged) {
        // Three events × ten spellings stay under the per-socket rate limit (40 commands/s).
        for (const [event, rest] of [['meeting:join', {}], ['meeting:open', { overrideReason: 'x' }], ['attendance:check_in', { mode: 'in_room' }]] as const) {
          const ack = await sock.cmd(event, { meetingId, ...rest });
          expect(ack.ok, `${event} ${JSON.stringify(meetingId)}`).toBe(false);
          if (!ack.ok) expect(ack.error.code, `${event} ${JSON.stringify(meetingId)}`).toBe('invalid_payload');
        }
      }
      // Extra keys in a command payload are refused, not ignored.
      const extra = await sock.cmd('meeting:join', { meetingId: id, isAdmin: true });
      expect(extra).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
      const proto = await sock.cmd('meeting:open', JSON.parse(`{"meetingId": ${id}, "overrideReason": "x", "__proto__": {"canChair": true}}`));
      expect(proto).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
      expect(await dbDigest(s)).toEqual(before);
      // The meeting is still published, and a correct join works.
      const joined = await sock.cmd('meeting:join', { meetingId: id });
      expect(joined.ok).toBe(true);
      if (joined.ok) expect((joined.data as any).snapshot.live.meeting.status).toBe('published');
    } finally {
      sock.close();
    }
  });

  it('OpenAPI documents the closed list of error codes as the enum of every error response', async () => {
    const doc = (await s.anonymous().get('/api/openapi.json')).body;
    let checked = 0;
    for (const ops of Object.values(doc.paths) as Record<string, any>[]) {
      for (const op of Object.values(ops)) {
        const schema = op.responses['4XX']?.content?.['application/json']?.schema;
        expect(schema.properties.error.properties.code.enum).toEqual([...ERROR_CODES]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('an expired session cookie is unauthenticated', async () => {
    const token = crypto.randomBytes(32).toString('base64url');
    const hash = crypto.createHash('sha256').update(token).digest('hex');
    await testSql(s).run("insert into sessions (token_hash, user_id, expires_at) values (?, (select id from users where username='admin'), '2000-01-01T00:00:00.000Z')", hash);
    const c = s.anonymous();
    c.cookie = `ec_sid=${token}`;
    const r = await unchanged(() => c.post('/api/rooms', { name: 'Phòng ma' }));
    expect(r.status).toBe(401);
  });

  it('non-admins cannot administer users, committees or rooms', async () => {
    for (const [path, body] of [
      ['/api/users', { username: 'hacker', password: 'Vững-chắc-Lục-Bát-42', fullName: 'H' }],
      ['/api/committees', { name: 'Ban mới' }],
      ['/api/rooms', { name: 'Phòng mới' }],
    ] as const) {
      const r = await unchanged(() => secretary.post(path, body));
      expect(r.status, path).toBe(403);
    }
  });

  it('HTML and SQL in every text field are stored verbatim as text, never executed', async () => {
    const payloads = [`<script>alert('x')</script>`, `'; DROP TABLE users; --`, `" OR 1=1 --`, `<img src=x onerror=alert(1)>`, 'Robert"); DELETE FROM meetings;--'];
    const users = () => testSql(s).value<number>('select count(*) from users');
    const before = await users();
    for (const p of payloads) {
      const a = (await secretary.get(`/api/meetings/${meetingId}/agenda`)).body;
      const r = await secretary.post(`/api/meetings/${meetingId}/agenda/items`, { version: a.version, title: p, description: p });
      expect(r.status).toBe(201);
      const item = r.body.items.at(-1);
      expect(item.title).toBe(p);
      expect(item.description).toBe(p);
      const room = await admin.post('/api/rooms', { name: p, location: p });
      expect(room.body.name).toBe(p);
      const user = await admin.post('/api/users', { username: `u${payloads.indexOf(p)}`, password: 'Vững-chắc-Lục-Bát-42', fullName: p, unit: p, title: p });
      expect(user.body.fullName).toBe(p);
    }
    expect(await users()).toBe(before! + payloads.length); // the users table is still there, every row too
    expect((await secretary.get('/api/meetings')).status).toBe(200);
  });

  it('control characters in single-line fields are refused', async () => {
    const r = await unchanged(() => admin.post('/api/rooms', { name: 'Phòng\u0000họp' }));
    expect(r.status).toBe(400);
  });

  it('a username with uppercase or spaces is refused; a duplicate username is a 409', async () => {
    expect((await unchanged(() => admin.post('/api/users', { username: 'Bad Name', password: 'Vững-chắc-Lục-Bát-42', fullName: 'X' }))).status).toBe(400);
    const dup = await unchanged(() => admin.post('/api/users', { username: m.secretary.username, password: 'Vững-chắc-Lục-Bát-42', fullName: 'X' }));
    expect(dup.status).toBe(409);
  });

  it('a meeting that ends before it starts is refused', async () => {
    const committeeId = m.committeeId;
    const r = await unchanged(() =>
      secretary.post('/api/meetings', { committeeId, title: 'Ngược', startsAt: '2030-01-02T08:00:00+07:00', endsAt: '2030-01-01T08:00:00+07:00' }),
    );
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('endsAt');
  });
});
