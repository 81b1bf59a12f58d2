import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpClient, type TestServer, startTestServer, userIds } from '../helpers/server.js';
import { testSql } from '../helpers/sql.js';

/**
 * The demo seed itself (`ECABINET_SEED=auto`, what `npm start` shows a newcomer). The only test file that
 * starts a server with the demo data: every other test builds its own committee, meeting and users.
 */
const SEEDS = path.resolve(import.meta.dirname, '../../../shared/testdata/seeds');
const DEMO_USERS = ['admin', 'secretary', 'chair', ...Array.from({ length: 12 }, (_, i) => `member${i + 1}`), 'guest', 'room1'];

/** First line of each seed article, in file order: the demo agenda's middle items. */
const articleTitles = () =>
  fs
    .readdirSync(SEEDS)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => fs.readFileSync(path.join(SEEDS, f), 'utf8').split(/\r?\n/).map((l) => l.trim()).find(Boolean)!.slice(0, 300));

describe('the demo seed', () => {
  let s: TestServer;
  let admin: HttpClient;
  beforeAll(async () => {
    s = await startTestServer({ seed: 'demo' });
    admin = await s.login('admin');
  });
  afterAll(() => s?.close());

  it('every demo user signs in with the demo password', async () => {
    const ids = await userIds(admin);
    expect(Object.keys(ids).sort()).toEqual([...DEMO_USERS].sort());
    for (const u of DEMO_USERS) {
      const c = await s.login(u);
      expect((await c.get('/api/auth/me')).body.username).toBe(u);
    }
  });

  it('has the demo committee: the chair, the secretary (no vote) and twelve voting members', async () => {
    const committees = (await admin.get('/api/committees')).body.committees as { id: number; name: string }[];
    expect(committees.map((c) => c.name)).toEqual(['Ban Chỉ đạo Cải cách hành chính và Chuyển đổi số Thành phố Hà Nội']);
    const secretary = await s.login('secretary');
    expect((await secretary.get('/api/auth/me')).body.secretaryOf).toEqual([committees[0].id]);
    // A guest and the room station are invited to the meeting, not members of the committee.
    expect((await (await s.login('guest')).get('/api/committees')).body.committees).toEqual([]);
    expect((await (await s.login('member7')).get('/api/committees')).body.committees.map((c: { id: number }) => c.id)).toEqual([committees[0].id]);
  });

  it('has one published meeting with every demo user invited and its agenda drawn from the seed articles', async () => {
    const ids = await userIds(admin);
    const secretary = await s.login('secretary');
    const list = (await secretary.get('/api/meetings?scope=all')).body.meetings as { id: number; status: string; title: string }[];
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ status: 'published', title: 'Phiên họp thường kỳ quý IV của Ban Chỉ đạo' });
    const meeting = (await secretary.get(`/api/meetings/${list[0].id}`)).body;
    const roleOf = Object.fromEntries((meeting.participants as { userId: number; role: string; canVote: boolean }[]).map((p) => [p.userId, [p.role, p.canVote]]));
    expect(roleOf[ids.chair]).toEqual(['chair', true]);
    expect(roleOf[ids.secretary]).toEqual(['secretary', false]);
    for (let i = 1; i <= 12; i++) expect(roleOf[ids[`member${i}`]]).toEqual(['member', true]);
    expect(roleOf[ids.guest]).toEqual(['guest', false]);
    expect(roleOf[ids.room1]).toEqual(['member', false]);
    expect(roleOf[ids.admin]).toBeUndefined();

    const agenda = (await (await s.login('member1')).get(`/api/meetings/${list[0].id}/agenda`)).body;
    const titles = articleTitles();
    expect(titles.length).toBeGreaterThan(0);
    const items = agenda.items as { title: string; number: string; parentId: number | null }[];
    expect(items.map((i) => i.title)).toEqual(['Khai mạc, giới thiệu đại biểu', ...titles, 'Kết luận của Chủ tọa', 'Giao nhiệm vụ cho các sở, ngành']);
    expect(items.at(-1)!.number).toBe(`${titles.length + 2}.1`);
    expect(items.filter((i) => i.parentId === null)).toHaveLength(titles.length + 2);
  });

  it('a second start on the same data seeds nothing more, and the demo users still sign in', async () => {
    const count = async (t: TestServer) => {
      const n: Record<string, number | undefined> = {};
      for (const table of ['users', 'committees', 'meetings', 'agenda_items', 'meeting_participants']) n[table] = await testSql(t).value<number>(`select count(*) from ${table}`);
      return n;
    };
    const before = await count(s);
    const dataDir = s.dataDir;
    await s.close();
    s = await startTestServer({ seed: 'demo', dataDir });
    admin = await s.login('admin');
    expect(await count(s)).toEqual(before);
    expect((await (await s.login('member12')).get('/api/auth/me')).status).toBe(200);
  });

  it("seed 'admin' (the tests' own) gives an empty database the admin account and nothing else", async () => {
    const t = await startTestServer({ seed: 'admin' });
    try {
      const a = await t.login('admin');
      expect(Object.keys(await userIds(a))).toEqual(['admin']);
      expect((await a.get('/api/committees')).body.committees).toEqual([]);
      expect((await a.get('/api/meetings?scope=all')).body.meetings).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
