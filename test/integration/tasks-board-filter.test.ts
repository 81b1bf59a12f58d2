import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMeeting } from '../helpers/factories.js';
import { type TestServer, inDays, startTestServer } from '../helpers/server.js';

/**
 * The follow-up board's text filter (`?q=`) finds a task the way search does: without diacritics, đ as d, any case,
 * and `%` / `_` as the characters they are — the same on SQLite and PostgreSQL (`npm run test:pg`).
 */
describe('the follow-up board text filter', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
  });
  afterAll(() => s?.close());

  it('matches Vietnamese text typed without marks or in capitals, in titles and descriptions, and reads % and _ literally', async () => {
    const m = await buildMeeting(s, { members: 1, agendaItems: 1, publish: true });
    const secretary = await m.as('secretary');
    const owner = { kind: 'user', userId: m.members[0].id };
    const make = async (title: string, description: string) => {
      const r = await secretary.post('/api/tasks', { meetingId: m.meetingId, agendaItemId: m.itemIds[0], title, description, owner, deadline: inDays(10) });
      expect(r.status).toBe(201);
      return r.body.id as number;
    };
    const digitise = await make('Hoàn thiện quy chế số hóa hồ sơ', 'Trình Ban Chỉ đạo');
    const budget = await make('Bố trí kinh phí năm 2027', 'Đề xuất 100% ngân sách tỉnh');
    const board = `/api/committees/${m.committeeId}/tasks?status=all&q=`;
    const found = async (q: string) => ((await secretary.get(board + encodeURIComponent(q))).body.tasks as { id: number }[]).map((t) => t.id).sort();

    expect(await found('số hóa')).toEqual([digitise]);
    expect(await found('so hoa')).toEqual([digitise]);
    expect(await found('SỐ HÓA')).toEqual([digitise]);
    expect(await found('bo tri')).toEqual([budget]);
    expect(await found('de xuat')).toEqual([budget]);
    expect(await found('chi dao')).toEqual([digitise]);
    expect(await found('%')).toEqual([budget]);
    expect(await found('_')).toEqual([]);
    expect(await found('kinh phí số hóa')).toEqual([]);
    const all = (await secretary.get(`/api/committees/${m.committeeId}/tasks?status=all`)).body.tasks as { id: number }[];
    expect(all.map((t) => t.id).sort()).toEqual([digitise, budget].sort());
  });
});
