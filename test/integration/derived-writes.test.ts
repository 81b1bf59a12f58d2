import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCommitteeMeeting, buildMeeting } from '../helpers/factories.js';
import { type TestServer, inDays, startTestServer } from '../helpers/server.js';

/*
 * What other domains derive from a change on the bus (server/events.ts): the search index of a meeting's
 * agenda, the follow-up agenda item of a committee's next meeting. On PostgreSQL that work takes round trips
 * of its own, so these check it is in place when the request that made the change answers, and that two
 * runs of it never overlap.
 */
describe('work derived from a change is done when its request answers', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
  });
  afterAll(() => s?.close());

  it('an agenda item added to a long agenda is found by the next search, renamed by its new title only, and gone once removed', async () => {
    // Forty items: re-indexing the agenda is some two hundred statements on PostgreSQL.
    const m = await buildMeeting(s, { members: 1, agendaItems: 40, publish: true });
    const secretary = await m.as('secretary');
    const member = await m.as('member', 0);
    const agendaUrl = `/api/meetings/${m.meetingId}/agenda`;
    const version = async () => (await secretary.get(agendaUrl)).body.version as number;
    const found = async (q: string) => {
      const r = await member.get(`/api/search?q=${encodeURIComponent(q)}`);
      expect(r.status).toBe(200);
      return (r.body.hits as { kind: string; title: string }[]).filter((h) => h.kind === 'agenda_item').map((h) => h.title);
    };

    const added = await secretary.post(`${agendaUrl}/items`, { version: await version(), title: 'Phương án chống ngập úng khu Zelkova' });
    expect(added.status).toBe(201);
    const itemId = (added.body.items as { id: number; title: string }[]).find((i) => i.title.includes('Zelkova'))!.id;
    expect(await found('ngap ung zelkova')).toEqual(['Phương án chống ngập úng khu Zelkova']);

    const renamed = await secretary.patch(`${agendaUrl}/items/${itemId}`, { version: await version(), title: 'Phương án thoát nước khu Quillaja' });
    expect(renamed.status).toBe(200);
    expect(await found('quillaja')).toEqual(['Phương án thoát nước khu Quillaja']);
    expect(await found('zelkova')).toEqual([]);

    const removed = await secretary.delete(`${agendaUrl}/items/${itemId}?version=${await version()}`);
    expect(removed.status).toBe(200);
    expect(await found('quillaja')).toEqual([]);
  });

  it('a meeting published after a dozen open tasks of its committee has one follow-up item listing them all when the publish answers', async () => {
    const m = await buildMeeting(s, { members: 2, agendaItems: 1, publish: true });
    const secretary = await m.as('secretary');
    // A dozen owners to look up: the refresh the publish causes is a few dozen statements on PostgreSQL.
    const titles = Array.from({ length: 12 }, (_, n) => `Nhiệm vụ theo dõi số ${n + 1} của kỳ họp trước`);
    for (const [n, title] of titles.entries()) {
      const r = await secretary.post('/api/tasks', { meetingId: m.meetingId, agendaItemId: m.itemIds[0], title, owner: { kind: 'user', userId: m.members[n % 2].id }, deadline: inDays(10 + n) });
      expect(r.status).toBe(201);
    }
    const next = await buildCommitteeMeeting(m, { secretary, title: 'Phiên họp kỳ tới', startsInHours: 20 * 24, publish: true });
    const items = ((await secretary.get(`/api/meetings/${next.meetingId}/agenda`)).body.items as { title: string; description: string }[]).filter(
      (i) => i.title === 'Theo dõi thực hiện kết luận kỳ trước',
    );
    expect(items).toHaveLength(1);
    for (const t of titles) expect(items[0].description).toContain(t);
  });
});
