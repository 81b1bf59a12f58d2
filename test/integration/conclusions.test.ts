import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MinutesBlock } from '../../shared/protocol/minutes.js';
import { buildCommitteeMeeting, buildMeeting, buildRoomStation, buildUser } from '../helpers/factories.js';
import { type TestServer, inDays, startTestServer } from '../helpers/server.js';

/** Plain text of frozen minutes blocks, one line per block. */
const plain = (blocks: MinutesBlock[]) =>
  blocks
    .map((b) => (b.t === 'h' ? b.text : b.t === 'p' ? b.runs.map((r) => r.text).join('') : b.t === 'table' ? b.rows.map((r) => r.join(' | ')).join('\n') : b.items.map((i) => i.map((r) => r.text).join('')).join('\n')))
    .join('\n');

describe('conclusions per agenda item and the tasks made from them', () => {
  let s: TestServer;
  /**
   * Every test builds its own committee and meeting (CI runs the tests shuffled): a chair, a secretary and two
   * members, two agenda items, published. A task may be owned by a unit the directory knows (users' units), so
   * the meeting also makes one account of 'Sở Nội vụ'.
   */
  const meeting = async () => {
    const m = await buildMeeting(s, { members: 2, agendaItems: 2 });
    await buildUser(s, { unit: 'Sở Nội vụ' });
    const secretary = await m.as('secretary');
    const chair = await m.as('chair');
    return { m, secretary, chair, meetingId: m.meetingId, itemIds: m.itemIds, committeeId: m.committeeId };
  };
  /** Someone of the directory who is not in the meeting. */
  const outsider = async () => {
    const u = await buildUser(s);
    return s.login(u.username, u.password);
  };

  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
  });
  afterAll(() => s.close());

  it('the secretary and the chair add several conclusions of different kinds to one item; a member is refused, an outsider gets 404, bad input changes nothing', async () => {
    const { m, secretary, chair, meetingId, itemIds } = await meeting();
    const url = `/api/meetings/${meetingId}/agenda/items/${itemIds[0]}/conclusions`;
    const a = await secretary.post(url, { text: 'Thống nhất thông qua kế hoạch số hóa hồ sơ năm 2027.', kind: 'decision' });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ meetingId, agendaItemId: itemIds[0], kind: 'decision' });
    const b = await chair.post(url, { text: 'Giao Sở Nội vụ chủ trì xây dựng kế hoạch chi tiết.', kind: 'assignment' });
    expect(b.status).toBe(201);

    const member = await m.as('member', 0);
    expect((await member.post(url, { text: 'x', kind: 'note' })).status).toBe(403);
    expect((await (await outsider()).post(url, { text: 'x', kind: 'note' })).status).toBe(404);
    for (const bad of [{ text: 'x', kind: 'vote' }, { text: '   ', kind: 'note' }, { text: 'x' }, { text: 'x', kind: 'note', extra: 1 }]) {
      const r = await secretary.post(url, bad);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('invalid_payload');
    }
    // An item of another meeting is not found.
    const other = await buildCommitteeMeeting(m, { agendaItems: 1, secretary });
    expect((await secretary.post(`/api/meetings/${meetingId}/agenda/items/${other.itemIds[0]}/conclusions`, { text: 'x', kind: 'note' })).status).toBe(404);

    const list = await member.get(`/api/meetings/${meetingId}/conclusions`);
    expect(list.status).toBe(200);
    expect(list.body.conclusions.map((c: { kind: string }) => c.kind)).toEqual(['decision', 'assignment']);

    // Kind and text change; the member may not.
    const patched = await chair.patch(`/api/conclusions/${a.body.id}`, { kind: 'note' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ kind: 'note', text: 'Thống nhất thông qua kế hoạch số hóa hồ sơ năm 2027.' });
    expect((await member.patch(`/api/conclusions/${a.body.id}`, { kind: 'decision' })).status).toBe(403);
    expect((await secretary.patch(`/api/conclusions/${a.body.id}`, {})).status).toBe(400);
    expect((await secretary.patch(`/api/conclusions/${a.body.id}`, { kind: 'decision' })).body.kind).toBe('decision');
  });

  it('a conclusion turns into two tasks with one owner each; they carry the conclusion, item and expected result, list under the meeting and on the board filtered by meeting', async () => {
    const { m, secretary, chair, meetingId, itemIds, committeeId } = await meeting();
    const c = await secretary.post(`/api/meetings/${meetingId}/agenda/items/${itemIds[1]}/conclusions`, {
      text: 'Giao các sở triển khai kho dữ liệu dùng chung.',
      kind: 'assignment',
    });
    const t1 = await secretary.post('/api/tasks', {
      meetingId,
      conclusionId: c.body.id,
      title: 'Xây dựng kho dữ liệu dùng chung',
      expectedResult: 'Kho dữ liệu vận hành, kết nối 5 sở.',
      owner: { kind: 'unit', unit: 'Sở Nội vụ' },
      deadline: inDays(20),
    });
    expect(t1.status).toBe(201);
    expect(t1.body).toMatchObject({
      agendaItemId: itemIds[1],
      agendaItemTitle: 'Nội dung 2',
      conclusionId: c.body.id,
      conclusionText: 'Giao các sở triển khai kho dữ liệu dùng chung.',
      expectedResult: 'Kho dữ liệu vận hành, kết nối 5 sở.',
      assignedBy: m.secretary.fullName,
    });
    // The chair assigns too.
    const t2 = await chair.post('/api/tasks', { meetingId, conclusionId: c.body.id, title: 'Bố trí kinh phí', owner: { kind: 'user', userId: m.members[1].id }, deadline: inDays(25) });
    expect(t2.status).toBe(201);
    // A conclusion of another item than the one named, or of another meeting, is refused.
    const wrongItem = await secretary.post('/api/tasks', { meetingId, agendaItemId: itemIds[0], conclusionId: c.body.id, title: 'x', owner: { kind: 'user', userId: m.members[1].id }, deadline: inDays(5) });
    expect(wrongItem.status).toBe(400);
    const other = await buildCommitteeMeeting(m, { agendaItems: 1, publish: true, secretary });
    expect((await secretary.post('/api/tasks', { meetingId: other.meetingId, conclusionId: c.body.id, title: 'x', owner: { kind: 'user', userId: m.members[1].id }, deadline: inDays(5) })).status).toBe(404);

    const inMeeting = await chair.get(`/api/meetings/${meetingId}/tasks`);
    expect(inMeeting.status).toBe(200);
    expect(inMeeting.body.tasks.map((t: { id: number }) => t.id)).toEqual([t1.body.id, t2.body.id]);
    const board = await secretary.get(`/api/committees/${committeeId}/tasks?status=all&meetingId=${meetingId}`);
    expect(board.body.tasks.map((t: { id: number }) => t.id).sort()).toEqual([t1.body.id, t2.body.id].sort());
    const otherBoard = await secretary.get(`/api/committees/${committeeId}/tasks?status=all&meetingId=${other.meetingId}`);
    expect(otherBoard.body.tasks).toEqual([]);
    expect((await (await outsider()).get(`/api/meetings/${meetingId}/tasks`)).status).toBe(404);
  });

  it("the minutes' conclusions section lists each conclusion with its kind and its tasks under it; the room's station account is not in the attendance table", async () => {
    const { m, secretary, meetingId, itemIds } = await meeting();
    await buildRoomStation(s, m);
    const add = (item: number, text: string, kind: string) => secretary.post(`/api/meetings/${meetingId}/agenda/items/${item}/conclusions`, { text, kind });
    await add(itemIds[0], 'Thống nhất thông qua kế hoạch số hóa hồ sơ năm 2027.', 'decision');
    await add(itemIds[0], 'Giao Sở Nội vụ chủ trì xây dựng kế hoạch chi tiết.', 'assignment');
    const c = await add(itemIds[1], 'Giao các sở triển khai kho dữ liệu dùng chung.', 'assignment');
    const task = { meetingId, conclusionId: c.body.id };
    await secretary.post('/api/tasks', { ...task, title: 'Xây dựng kho dữ liệu dùng chung', expectedResult: 'Kho dữ liệu vận hành, kết nối 5 sở.', owner: { kind: 'unit', unit: 'Sở Nội vụ' }, deadline: inDays(20) });
    await secretary.post('/api/tasks', { ...task, title: 'Bố trí kinh phí', owner: { kind: 'user', userId: m.members[1].id }, deadline: inDays(25) });
    const v = await secretary.post(`/api/meetings/${meetingId}/minutes/finalize`);
    expect(v.status).toBe(201);
    const text = plain(v.body.content);
    const part = text.slice(text.indexOf('III. KẾT LUẬN VÀ GIAO NHIỆM VỤ'));
    expect(part).toMatch(/1\. Nội dung 1\nQuyết định: Thống nhất thông qua kế hoạch số hóa hồ sơ năm 2027\.\nGiao nhiệm vụ: Giao Sở Nội vụ chủ trì xây dựng kế hoạch chi tiết\.\n2\. Nội dung 2\nGiao nhiệm vụ: Giao các sở triển khai kho dữ liệu dùng chung\.\nXây dựng kho dữ liệu dùng chung — Chủ trì: Sở Nội vụ; thời hạn: [\d/]+; kết quả: Kho dữ liệu vận hành, kết nối 5 sở\.\nBố trí kinh phí — Chủ trì: /);
    const table = v.body.content.find((b: MinutesBlock) => b.t === 'table');
    const names = table.rows.map((r: string[]) => r[1]);
    expect(names).toContain(m.chair.fullName);
    expect(names.some((n: string) => n.includes('thiết bị phòng'))).toBe(false);
    expect(table.rows).toHaveLength(1 + 4);
  });

  it('deleting a conclusion keeps its tasks under the item (shown as tasks of the item in the minutes)', async () => {
    const { m, secretary, meetingId, itemIds } = await meeting();
    const c = await secretary.post(`/api/meetings/${meetingId}/agenda/items/${itemIds[0]}/conclusions`, { text: 'Tạm ghi nhận.', kind: 'note' });
    const t = await secretary.post('/api/tasks', { meetingId, conclusionId: c.body.id, title: 'Rà soát quy chế', owner: { kind: 'user', userId: m.members[0].id }, deadline: inDays(9) });
    expect((await (await m.as('member', 0)).delete(`/api/conclusions/${c.body.id}`)).status).toBe(403);
    expect((await secretary.delete(`/api/conclusions/${c.body.id}`)).status).toBe(200);
    expect((await secretary.delete(`/api/conclusions/${c.body.id}`)).status).toBe(404);
    const after = await secretary.get(`/api/tasks/${t.body.id}`);
    expect(after.body).toMatchObject({ conclusionId: null, agendaItemId: itemIds[0] });
    const v = await secretary.post(`/api/meetings/${meetingId}/minutes/finalize`);
    const text = plain(v.body.content);
    expect(text).not.toContain('Tạm ghi nhận.');
    expect(text).toMatch(/Giao nhiệm vụ:\nRà soát quy chế — Chủ trì: /);
  });
});
