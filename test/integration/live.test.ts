import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandError, RealtimeClient } from '../../client/services/socket.js';
import { loadAgenda } from '../../server/agenda/agenda.service.js';
import { agendaForPush } from '../../server/live/live.repo.js';
import { speakingTimes } from '../../server/live/live.service.js';
import { type BuiltMeeting, type BuiltUser, buildCommitteeMeeting, buildMeeting, usersByName } from '../helpers/factories.js';
import { type TestServer, startTestServer, until } from '../helpers/server.js';
import { testSql } from '../helpers/sql.js';
import { type TestSocket, connectSocket, connected } from '../helpers/socket.js';
import { pdf, upload } from './documents-helpers.js';

/** Ack data, or throw with the error code (so a test failure says why). */
async function ok(p: Promise<any>): Promise<any> {
  const a = await p;
  if (!a.ok) throw new Error(`command failed: ${a.error?.code} ${JSON.stringify(a.error)}`);
  return a.data;
}
async function err(p: Promise<{ ok: boolean; error?: { code: string } }>): Promise<string> {
  const a = await p;
  if (a.ok) throw new Error('command unexpectedly succeeded');
  return a.error!.code;
}

describe('live meeting over Socket.IO', () => {
  let srv: TestServer;
  const sockets: TestSocket[] = [];
  /** The people of the running test's committee (set by `meeting`) by name, their ids and signed-in clients. */
  let built: BuiltMeeting;
  let people: Record<string, BuiltUser> = {};
  let ids: Record<string, number> = {};
  const cookies = new Map<string, Awaited<ReturnType<TestServer['login']>>>();

  async function sock(username: string): Promise<TestSocket> {
    if (!cookies.has(username)) cookies.set(username, await built.login(people[username]));
    const s = await connected(connectSocket(srv.url, cookies.get(username)!));
    sockets.push(s);
    return s;
  }

  /**
   * A fresh published meeting of a committee of its own (chair, secretary, member1..`members`, guest1..`guests`)
   * with the sockets of `users` joined.
   */
  async function meeting(users = ['chair', 'secretary', 'member1', 'member2'], agendaItems = 3, opts: { members?: number; guests?: number } = {}) {
    const m = await buildMeeting(srv, { members: opts.members ?? 2, guests: opts.guests ?? 0, agendaItems, publish: true });
    built = m;
    people = usersByName(m);
    ids = Object.fromEntries(Object.entries(people).map(([k, u]) => [k, u.id]));
    cookies.clear();
    const s: Record<string, TestSocket> = {};
    for (const u of users) {
      s[u] = await sock(u);
      await ok(s[u].cmd('meeting:join', { meetingId: m.meetingId }));
    }
    return { ...m, built: m, s, secretaryHttp: await secretary() };
  }
  /** The running test's secretary, signed in once. */
  async function secretary() {
    if (!cookies.has('secretary')) cookies.set('secretary', await built.login(people.secretary));
    return cookies.get('secretary')!;
  }

  /** Checks in `n` voters (member1..n) through the secretary. */
  async function checkInMembers(sec: TestSocket, meetingId: number, n: number) {
    for (let i = 1; i <= n; i++) await ok(sec.cmd('attendance:check_in', { meetingId, userId: ids[`member${i}`], mode: 'in_room' }));
  }

  beforeAll(async () => {
    srv = await startTestServer({ seed: 'admin' });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await srv?.close();
  });

  it('the join snapshot has the meeting, agenda, attendance with quorum, speakers and presenter', async () => {
    const { meetingId, s } = await meeting(['member1'], 3, { members: 12 });
    const join = await ok(s.member1.cmd('meeting:join', { meetingId }));
    expect(join.snapshot.live).toMatchObject({
      meeting: { id: meetingId, status: 'published' },
      agenda: { items: [{ title: 'Nội dung 1' }, {}, {}] },
      attendance: { quorum: { present: 0, eligible: 13, required: 7, met: false, sentence: '0/13 present, quorum 7: not met' } },
      speakers: { queue: [], floor: null },
      presenter: null,
    });
    const me = join.snapshot.live.attendance.attendance.find((a: any) => a.userId === ids.member1);
    expect(me).toMatchObject({ online: true, status: null, canVote: true });
  });

  it('join snapshots never serve stale attendance: a check-in, a renamed participant and a changed participant list show in the next join', async () => {
    const { meetingId, s } = await meeting(['secretary', 'member3'], 3, { members: 5 });
    const attendanceOf = async () => (await ok(s.member3.cmd('meeting:join', { meetingId }))).snapshot.live.attendance.attendance as any[];
    const first = await attendanceOf();
    expect(await attendanceOf()).toEqual(first);
    await ok(s.secretary.cmd('attendance:check_in', { meetingId, userId: ids.member3, mode: 'in_room' }));
    expect((await attendanceOf()).find((e) => e.userId === ids.member3).status).toBe('in_room');
    const admin = await srv.login('admin');
    expect((await attendanceOf()).find((e) => e.userId === ids.member4).fullName).toBe(people.member4.fullName);
    await admin.patch(`/api/users/${ids.member4}`, { fullName: 'Ân Văn Đổi Tên' });
    expect((await attendanceOf()).find((e) => e.userId === ids.member4).fullName).toBe('Ân Văn Đổi Tên');
    // A writer other than this process (another connection, another node) is seen too: on SQLite through
    // data_version, on PostgreSQL through the roster versions its triggers keep.
    await testSql(srv).run('update users set full_name = ? where id = ?', 'Ân Văn Nút Khác', ids.member4);
    expect((await attendanceOf()).find((e) => e.userId === ids.member4).fullName).toBe('Ân Văn Nút Khác');
    await testSql(srv).run("update attendance set status = 'remote' where meeting_id = ? and user_id = ?", meetingId, ids.member3);
    expect((await attendanceOf()).find((e) => e.userId === ids.member3).status).toBe('remote');
    const secretary = cookies.get('secretary')!;
    const m = (await secretary.get(`/api/meetings/${meetingId}`)).body;
    const participants = m.participants.filter((p: any) => p.userId !== ids.member5).map((p: any) => ({ userId: p.userId, role: p.role, canVote: p.canVote }));
    expect((await secretary.patch(`/api/meetings/${meetingId}`, { version: m.version, participants })).status).toBe(200);
    const after = await attendanceOf();
    expect(after.some((e) => e.userId === ids.member5)).toBe(false);
    expect(after).toHaveLength(first.length - 1);
  });

  it('attendance: self check-in in the room or remote, absence with a reason, secretary checks in and records a proxy; quorum follows', async () => {
    const { meetingId, s } = await meeting(undefined, 3, { members: 12 });
    const a1 = await ok(s.member1.cmd('attendance:check_in', { meetingId, mode: 'remote' }));
    expect(a1.attendance.find((e: any) => e.userId === ids.member1).status).toBe('remote');
    await ok(s.member2.cmd('attendance:mark_absent', { meetingId, reason: 'Đi công tác' }));
    await ok(s.secretary.cmd('attendance:check_in', { meetingId, userId: ids.member3, mode: 'in_room' }));
    // member4 delegates to member1, who is present: counts. member5 delegates to member2 (absent): does not.
    await ok(s.secretary.cmd('attendance:set_proxy', { meetingId, userId: ids.member4, holderId: ids.member1, reason: 'Giấy ủy quyền' }));
    const last = await ok(s.secretary.cmd('attendance:set_proxy', { meetingId, userId: ids.member5, holderId: ids.member2, reason: 'Giấy ủy quyền' }));
    expect(last.quorum.sentence).toBe('3/13 present, quorum 7: not met');
    const m2 = last.attendance.find((e: any) => e.userId === ids.member2);
    expect(m2).toMatchObject({ status: 'absent', reason: 'Đi công tác' });
    expect(last.attendance.find((e: any) => e.userId === ids.member4)).toMatchObject({ status: 'proxy', proxyHolderId: ids.member1 });
    // every tablet in the room received the same final state
    await s.chair.waitFor('attendance:changed', (d) => d.quorum.sentence === '3/13 present, quorum 7: not met');
    // removing a proxy
    const removed = await ok(s.secretary.cmd('attendance:set_proxy', { meetingId, userId: ids.member4, holderId: null }));
    expect(removed.quorum.present).toBe(2);
  });

  it('a member or a guest cannot check in someone else or record a proxy (forbidden); a non-participant gets not_found', async () => {
    // The guest is invited to `guestsMeeting` only; `meetingId` is another meeting of the committee, without the guest.
    const { meetingId: guestsMeeting, s } = await meeting(['member1'], 3, { members: 3, guests: 1 });
    const participants = (['chair', 'member1', 'member2', 'member3'] as const).map((u) => ({ user: people[u], role: u === 'chair' ? ('chair' as const) : ('member' as const) }));
    const { meetingId } = await buildCommitteeMeeting(built, { publish: true, participants, secretary: await secretary() });
    await ok(s.member1.cmd('meeting:join', { meetingId }));
    expect(await err(s.member1.cmd('attendance:check_in', { meetingId, userId: ids.member2, mode: 'in_room' }))).toBe('forbidden');
    expect(await err(s.member1.cmd('attendance:set_proxy', { meetingId, userId: ids.member3, holderId: ids.member2, reason: 'x' }))).toBe('forbidden');
    const guest = await sock('guest');
    expect(await err(guest.cmd('attendance:check_in', { meetingId: guestsMeeting, userId: ids.member1, mode: 'in_room' }))).toBe('forbidden');
    expect(await err(guest.cmd('attendance:check_in', { meetingId, mode: 'in_room' }))).toBe('not_found');
    const join = await ok(guest.cmd('meeting:join', { meetingId: guestsMeeting }));
    expect(join.snapshot.live.attendance.attendance.find((e: any) => e.userId === ids.member1).status).toBeNull();
  });

  it('commands for another meeting are refused with not_found and change nothing there', async () => {
    const a = await meeting(['chair'], 3, { members: 1 });
    // A meeting the chair is not on (only the secretary and member1).
    const other = await buildCommitteeMeeting(built, { publish: true, agendaItems: 2, participants: [{ user: people.member1, role: 'member' }], secretary: await secretary() });
    const before = await ok((await sock('secretary')).cmd('meeting:join', { meetingId: other.meetingId }));
    for (const [event, payload] of [
      ['meeting:open', { meetingId: other.meetingId, overrideReason: 'x' }],
      ['agenda:next', { meetingId: other.meetingId }],
      ['attendance:check_in', { meetingId: other.meetingId, mode: 'in_room' }],
      ['speaker:request', { meetingId: other.meetingId, kind: 'speech' }],
      ['meeting:join', { meetingId: other.meetingId }],
    ] as const) {
      expect(await err(a.s.chair.cmd(event, payload))).toBe('not_found');
    }
    const after = await ok((await sock('secretary')).cmd('meeting:join', { meetingId: other.meetingId }));
    expect(after.snapshot.live.meeting.status).toBe(before.snapshot.live.meeting.status);
    expect(after.snapshot.live.attendance).toEqual({ ...before.snapshot.live.attendance, attendance: after.snapshot.live.attendance.attendance });
  });

  it('meeting:open needs the chair and a quorum, or an override reason that is recorded; the first item becomes current', async () => {
    const { meetingId, itemIds, s } = await meeting(undefined, 3, { members: 12 });
    expect(await err(s.member1.cmd('meeting:open', { meetingId }))).toBe('forbidden');
    expect(await err(s.chair.cmd('meeting:open', { meetingId }))).toBe('no_quorum');
    await checkInMembers(s.secretary, meetingId, 7);
    const opened = await ok(s.chair.cmd('meeting:open', { meetingId }));
    expect(opened).toMatchObject({ status: 'live', openOverrideReason: null });
    const agenda = await s.member1.waitFor('agenda:changed', (d) => d.items.some((i: any) => i.status === 'current'));
    expect(agenda.items.find((i: any) => i.status === 'current').id).toBe(itemIds[0]);
    await s.member2.waitFor('meeting:changed', (d) => d.status === 'live');
    expect(await err(s.chair.cmd('meeting:open', { meetingId }))).toBe('invalid_state');

    const second = await meeting(['chair'], 3, { members: 1 });
    const forced = await ok(second.s.chair.cmd('meeting:open', { meetingId: second.meetingId, overrideReason: 'Họp khẩn theo chỉ đạo' }));
    expect(forced).toMatchObject({ status: 'live', openOverrideReason: 'Họp khẩn theo chỉ đạo' });
  });

  it('pause, resume and close move the meeting status; a closed meeting refuses further commands', async () => {
    const { meetingId, s } = await meeting(['chair', 'member1'], 3, { members: 1 });
    await ok(s.chair.cmd('meeting:open', { meetingId, overrideReason: 'test' }));
    expect(await err(s.member1.cmd('meeting:pause', { meetingId }))).toBe('forbidden');
    expect(await ok(s.chair.cmd('meeting:pause', { meetingId }))).toMatchObject({ status: 'paused' });
    expect(await err(s.chair.cmd('meeting:pause', { meetingId }))).toBe('invalid_state');
    expect(await ok(s.chair.cmd('meeting:resume', { meetingId }))).toMatchObject({ status: 'live' });
    expect(await ok(s.chair.cmd('meeting:close', { meetingId }))).toMatchObject({ status: 'closed' });
    await s.member1.waitFor('meeting:changed', (d) => d.status === 'closed');
    expect(await err(s.member1.cmd('attendance:check_in', { meetingId, mode: 'in_room' }))).toBe('invalid_state');
    expect(await err(s.chair.cmd('agenda:next', { meetingId }))).toBe('invalid_state');
  });

  it('agenda control: next, previous, goto, mark done/deferred and an urgent item reach every tablet; a member cannot move the agenda', async () => {
    const { meetingId, itemIds, s } = await meeting(['chair', 'member1', 'member2']);
    const busEvents: number[] = [];
    srv.app.ctx.bus.on('agenda:changed', (e) => e.meetingId === meetingId && busEvents.push(e.version));
    await ok(s.chair.cmd('meeting:open', { meetingId, overrideReason: 'test' }));
    const current = async (t: TestSocket, id: number | null) =>
      t.waitFor('agenda:changed', (d) => (d.items.find((i: any) => i.status === 'current')?.id ?? null) === id, `current item ${id}`);
    expect(await ok(s.chair.cmd('agenda:next', { meetingId }))).toEqual({ currentItemId: itemIds[1] });
    await current(s.member2, itemIds[1]);
    const a = await current(s.member1, itemIds[1]);
    expect(a.items.find((i: any) => i.id === itemIds[0]).status).toBe('done');
    expect(await ok(s.chair.cmd('agenda:previous', { meetingId }))).toEqual({ currentItemId: itemIds[0] });
    expect(await ok(s.chair.cmd('agenda:goto', { meetingId, itemId: itemIds[2] }))).toEqual({ currentItemId: itemIds[2] });
    await current(s.member2, itemIds[2]);
    expect(await err(s.chair.cmd('agenda:next', { meetingId }))).toBe('invalid_state');
    await ok(s.chair.cmd('agenda:mark', { meetingId, itemId: itemIds[1], status: 'deferred' }));
    await s.member1.waitFor('agenda:changed', (d) => d.items.find((i: any) => i.id === itemIds[1]).status === 'deferred');
    const urgent = await ok(s.chair.cmd('agenda:add_urgent', { meetingId, title: 'Nội dung phát sinh khẩn', makeCurrent: true }));
    const withUrgent = await current(s.member2, urgent.itemId);
    expect(withUrgent.items.map((i: any) => i.id)).toEqual([...itemIds, urgent.itemId]);
    expect(await err(s.member1.cmd('agenda:goto', { meetingId, itemId: itemIds[0] }))).toBe('forbidden');
    expect(await err(s.chair.cmd('agenda:goto', { meetingId, itemId: 999999 }))).toBe('not_found');
    // six agenda changes (open, next, previous, goto, mark, urgent): other subscribers (search, minutes)
    // heard each on the bus, and every tablet got each exactly once
    await until(() => busEvents.length === 6, { what: 'bus agenda events' });
    expect(s.member2.pushes('agenda:changed').length).toBe(6);
    // the hot-path reader pushes exactly what the agenda domain reads
    expect(await agendaForPush(srv.app.ctx.store, meetingId)).toEqual(await loadAgenda(srv.app.ctx.store, meetingId));
    // … also for a meeting that is not live
    const unopened = await buildCommitteeMeeting(built, { publish: true, agendaItems: 3, secretary: await secretary() });
    expect((await loadAgenda(srv.app.ctx.store, unopened.meetingId)).items).toHaveLength(3);
    expect(await agendaForPush(srv.app.ctx.store, unopened.meetingId)).toEqual(await loadAgenda(srv.app.ctx.store, unopened.meetingId));
  });

  it('an agenda edit over REST during the meeting reaches every tablet at once', async () => {
    const { meetingId, s, secretaryHttp } = await meeting(['member1', 'member2']);
    const agenda = (await secretaryHttp.get(`/api/meetings/${meetingId}/agenda`)).body;
    const r = await secretaryHttp.post(`/api/meetings/${meetingId}/agenda/items`, { version: agenda.version, title: 'Thêm từ REST' });
    expect(r.status).toBe(201);
    for (const t of [s.member1, s.member2]) await t.waitFor('agenda:changed', (d) => d.items.some((i: any) => i.title === 'Thêm từ REST'));
  });

  it('speakers: requests by kind with points of order first, withdraw, reorder, remove, grant, next and end; the timer is the same everywhere', async () => {
    const { meetingId, s } = await meeting(['chair', 'secretary', 'member1', 'member2', 'member3'], 3, { members: 12 });
    await checkInMembers(s.secretary, meetingId, 7);
    await ok(s.chair.cmd('meeting:open', { meetingId }));
    const floorEvents: any[] = [];
    srv.app.ctx.bus.on('floor:changed', (e) => e.meetingId === meetingId && floorEvents.push(e));

    const r1 = (await ok(s.member1.cmd('speaker:request', { meetingId, kind: 'speech' }))).requestId;
    const r2 = (await ok(s.member2.cmd('speaker:request', { meetingId, kind: 'question' }))).requestId;
    const r3 = (await ok(s.member3.cmd('speaker:request', { meetingId, kind: 'point_of_order' }))).requestId;
    // asking twice returns the same request
    expect(await ok(s.member1.cmd('speaker:request', { meetingId, kind: 'speech' }))).toEqual({ requestId: r1 });
    const list = await s.chair.waitFor('speakers:changed', (d) => d.queue.length === 3);
    expect(list.queue.map((q: any) => q.id)).toEqual([r3, r1, r2]);

    expect(await err(s.member1.cmd('speaker:grant', { meetingId, requestId: r1 }))).toBe('forbidden');
    expect(await err(s.member1.cmd('speaker:withdraw', { meetingId, requestId: r2 }))).toBe('forbidden');
    expect(await err(s.member1.cmd('speaker:reorder', { meetingId, requestIds: [r1, r2, r3] }))).toBe('forbidden');
    expect(await err(s.chair.cmd('speaker:reorder', { meetingId, requestIds: [r1, r2] }))).toBe('invalid_payload');
    await ok(s.chair.cmd('speaker:reorder', { meetingId, requestIds: [r2, r3, r1] }));
    await s.member1.waitFor('speakers:changed', (d) => d.queue.map((q: any) => q.id).join() === [r2, r3, r1].join());

    const floor = await ok(s.chair.cmd('speaker:grant', { meetingId, requestId: r2, seconds: 90 }));
    expect(floor).toMatchObject({ id: r2, userId: ids.member2, kind: 'question', allottedSeconds: 90 });
    const seen = await Promise.all(
      [s.chair, s.member1, s.member3].map((t) => t.waitFor('speakers:changed', (d) => d.floor?.id === r2)),
    );
    for (const d of seen) expect(d.floor).toEqual(floor); // one server start timestamp + duration for every screen
    expect(floorEvents.at(-1)).toMatchObject({ userId: ids.member2, requestId: r2, allottedSeconds: 90 });

    await ok(s.member1.cmd('speaker:withdraw', { meetingId, requestId: r1 }));
    await s.chair.waitFor('speakers:changed', (d) => d.queue.length === 1 && d.queue[0].id === r3);
    const r4 = (await ok(s.member1.cmd('speaker:request', { meetingId, kind: 'speech' }))).requestId;
    await ok(s.chair.cmd('speaker:remove', { meetingId, requestId: r4 }));
    const next = await ok(s.chair.cmd('speaker:next', { meetingId }));
    expect(next).toMatchObject({ id: r3, userId: ids.member3, allottedSeconds: 60 });
    await ok(s.chair.cmd('speaker:end', { meetingId }));
    await s.member2.waitFor('speakers:changed', (d) => d.floor === null && d.queue.length === 0);
    expect(floorEvents.map((e) => e.userId)).toEqual([ids.member2, ids.member3, null]);

    const times = await speakingTimes(srv.app.ctx.store, meetingId);
    expect(times.map((t) => t.userId).sort()).toEqual([ids.member2, ids.member3].sort());
    for (const t of times) expect(t.turns).toBe(1);
  });

  it('a member must be checked in to ask for the floor; moving to the next item ends the running turn', async () => {
    const { meetingId, s } = await meeting(['chair', 'member1'], 3, { members: 1 });
    await ok(s.chair.cmd('meeting:open', { meetingId, overrideReason: 'test' }));
    expect(await err(s.member1.cmd('speaker:request', { meetingId, kind: 'speech' }))).toBe('not_checked_in');
    await ok(s.member1.cmd('attendance:check_in', { meetingId, mode: 'in_room' }));
    const { requestId } = await ok(s.member1.cmd('speaker:request', { meetingId, kind: 'speech' }));
    await ok(s.chair.cmd('speaker:grant', { meetingId, requestId }));
    await ok(s.chair.cmd('agenda:next', { meetingId }));
    await s.member1.waitFor('speakers:changed', (d) => d.floor === null);
  });

  it('follow the presenter: the chair shows a page of a meeting document and every tablet receives it; others may not present', async () => {
    const { meetingId, itemIds, s, secretaryHttp } = await meeting(['chair', 'member1', 'member2']);
    const up = await upload(secretaryHttp, meetingId, itemIds[0], pdf('empty.pdf'), 'empty.pdf', { title: 'Tờ trình', access: 'all', published: 'true' });
    expect(up.status, JSON.stringify(up.body)).toBeLessThan(300);
    const documentId = up.body.id as number;
    await ok(s.chair.cmd('meeting:open', { meetingId, overrideReason: 'test' }));
    await ok(s.chair.cmd('presenter:show', { meetingId, documentId, page: 5 }));
    for (const t of [s.member1, s.member2]) {
      expect(await t.waitFor('presenter:moved', (d) => d?.page === 5)).toMatchObject({ presenterId: ids.chair, documentId, page: 5, zoom: 1 });
    }
    // the presenter zooms in: followers get the zoom (relative to fit width) with the page
    await ok(s.chair.cmd('presenter:show', { meetingId, documentId, page: 5, zoom: 1.75 }));
    expect(await s.member1.waitFor('presenter:moved', (d) => d?.zoom === 1.75)).toMatchObject({ documentId, page: 5, zoom: 1.75 });
    expect(await err(s.member1.cmd('presenter:show', { meetingId, documentId, page: 6 }))).toBe('forbidden');
    expect(await err(s.chair.cmd('presenter:show', { meetingId, documentId, page: 0 }))).toBe('invalid_payload');
    for (const zoom of [0, 0.1, 9, '2', null]) expect(await err(s.chair.cmd('presenter:show', { meetingId, documentId, page: 6, zoom }))).toBe('invalid_payload');
    // a document of another meeting, or none at all, cannot be presented here
    const other = await buildCommitteeMeeting(built, { publish: true, agendaItems: 1, secretary: secretaryHttp });
    const foreign = await upload(secretaryHttp, other.meetingId, other.itemIds[0], pdf('empty.pdf'), 'empty.pdf', { access: 'all', published: 'true' });
    expect(await err(s.chair.cmd('presenter:show', { meetingId, documentId: foreign.body.id, page: 1 }))).toBe('not_found');
    expect(await err(s.chair.cmd('presenter:show', { meetingId, documentId: 999999, page: 1 }))).toBe('not_found');
    // rejoining later shows the same page
    const late = await ok(s.member2.cmd('meeting:join', { meetingId }));
    expect(late.snapshot.live.presenter).toMatchObject({ documentId, page: 5, zoom: 1.75 });
    await ok(s.chair.cmd('presenter:stop', { meetingId }));
    await until(() => s.member1.pushes('presenter:moved').includes(null), { what: 'presenter stopped' });
  });

  it('presenter handover: whoever shows last presents; a former presenter\'s late stop changes nothing, the chair\'s stop ends anyone\'s; the state outlives the presenter\'s connection', async () => {
    const { meetingId, itemIds, s, secretaryHttp } = await meeting(['chair', 'member1', 'member2']);
    const up = await upload(secretaryHttp, meetingId, itemIds[0], pdf('empty.pdf'), 'empty.pdf', { title: 'Tờ trình', access: 'all', published: 'true' });
    const documentId = up.body.id as number;
    await ok(s.chair.cmd('meeting:open', { meetingId, overrideReason: 'test' }));
    await ok(s.chair.cmd('presenter:show', { meetingId, documentId, page: 2 }));
    // member1 gets the floor and takes over
    await ok(s.member1.cmd('attendance:check_in', { meetingId, mode: 'in_room' }));
    const { requestId } = await ok(s.member1.cmd('speaker:request', { meetingId, kind: 'speech' }));
    await ok(s.chair.cmd('speaker:grant', { meetingId, requestId }));
    await ok(s.member1.cmd('presenter:show', { meetingId, documentId, page: 4, zoom: 1.5 }));
    expect(await s.member2.waitFor('presenter:moved', (d) => d?.page === 4)).toMatchObject({ presenterId: ids.member1, documentId, page: 4, zoom: 1.5 });
    // the chair takes it back; member1's stop, sent late, leaves the chair presenting
    await ok(s.chair.cmd('presenter:show', { meetingId, documentId, page: 6 }));
    await ok(s.member1.cmd('presenter:stop', { meetingId }));
    const after = await ok(s.member2.cmd('meeting:join', { meetingId }));
    expect(after.snapshot.live.presenter).toMatchObject({ presenterId: ids.chair, documentId, page: 6, zoom: 1 });
    // a member who may not present may not stop either
    expect(await err(s.member2.cmd('presenter:stop', { meetingId }))).toBe('forbidden');
    // the presenter's connection drops: followers keep the page; a late joiner lands on it; it resumes on rejoin
    s.chair.close();
    await until(async () => (await ok(s.member2.cmd('meeting:join', { meetingId }))).snapshot.live.attendance.attendance.find((a: { userId: number }) => a.userId === ids.chair)?.online === false, {
      what: 'chair offline',
    });
    const late = await sock('member2');
    const joined = await ok(late.cmd('meeting:join', { meetingId }));
    expect(joined.snapshot.live.presenter).toMatchObject({ presenterId: ids.chair, documentId, page: 6 });
    const chair = await sock('chair');
    expect((await ok(chair.cmd('meeting:join', { meetingId }))).snapshot.live.presenter).toMatchObject({ presenterId: ids.chair, page: 6 });
    // member1 (still on the floor) presents again; the chair's stop ends member1's presentation for everyone
    await ok(s.member1.cmd('presenter:show', { meetingId, documentId, page: 3 }));
    await ok(chair.cmd('presenter:stop', { meetingId }));
    await until(() => late.pushes('presenter:moved').includes(null), { what: 'stopped by the chair' });
  });

  it('malformed live payloads are refused with invalid_payload and change nothing', async () => {
    const { meetingId, s } = await meeting(['chair'], 3, { members: 1 });
    const before = await ok(s.chair.cmd('meeting:join', { meetingId }));
    const bad: [string, unknown][] = [
      ['attendance:check_in', { meetingId, mode: 'on_the_moon' }],
      ['attendance:check_in', { meetingId: -1, mode: 'in_room' }],
      ['attendance:mark_absent', { meetingId, reason: '' }],
      ['attendance:mark_absent', { meetingId, reason: 'x'.repeat(5000) }],
      ['meeting:open', { meetingId, overrideReason: 'a\u0000b' }],
      ['agenda:goto', { meetingId, itemId: 'one' }],
      ['agenda:add_urgent', { meetingId, title: '' }],
      ['speaker:request', { meetingId, kind: 'shout' }],
      ['speaker:grant', { meetingId, requestId: 1, seconds: 1e9 }],
      ['speaker:reorder', { meetingId, requestIds: 'all' }],
      ['presenter:show', { meetingId, documentId: 1, page: 1.5 }],
      ['meeting:open', null],
      ['agenda:next', [meetingId]],
    ];
    for (const [event, payload] of bad) expect(await err(s.chair.cmd(event, payload)), event).toBe('invalid_payload');
    const after = await ok(s.chair.cmd('meeting:join', { meetingId }));
    expect(after.snapshot).toEqual(before.snapshot);
  });

  it('a retried speaker:request with the same commandId is applied once', async () => {
    const { meetingId, s } = await meeting(['chair', 'member1'], 3, { members: 1 });
    await ok(s.chair.cmd('meeting:open', { meetingId, overrideReason: 'test' }));
    await ok(s.member1.cmd('attendance:check_in', { meetingId, mode: 'in_room' }));
    const commandId = 'retry-speaker-request-1';
    const first = await ok(s.member1.cmd('speaker:request', { meetingId, kind: 'speech', commandId }));
    await ok(s.member1.cmd('speaker:withdraw', { meetingId, requestId: first.requestId }));
    // the retry of the first request must not create a new one after the withdrawal
    expect(await ok(s.member1.cmd('speaker:request', { meetingId, kind: 'speech', commandId }))).toEqual(first);
    const snap = await ok(s.member1.cmd('meeting:join', { meetingId }));
    expect(snap.snapshot.live.speakers.queue).toEqual([]);
  });

  it('presence of a participant shows in the attendance list when their tablet connects and disconnects', async () => {
    const { meetingId, s } = await meeting(['chair'], 3, { members: 1 });
    const t = await sock('member1');
    await ok(t.cmd('meeting:join', { meetingId }));
    await s.chair.waitFor('presence:changed', (d) => d.changes.some((c: any) => c.userId === ids.member1 && c.online));
    t.close();
    await s.chair.waitFor('presence:changed', (d) => d.changes.some((c: any) => c.userId === ids.member1 && !c.online));
    const snap = await ok(s.chair.cmd('meeting:join', { meetingId }));
    expect(snap.snapshot.live.attendance.attendance.find((e: any) => e.userId === ids.member1).online).toBe(false);
  });

  it('a tablet that drops gets the current state on reconnect with every push once; only idempotent commands wait for the connection', async () => {
    const { meetingId, s } = await meeting(['chair', 'secretary']);
    await ok(s.chair.cmd('meeting:open', { meetingId, overrideReason: 'test' }));
    const http = await built.login(people.member1);
    const client = new RealtimeClient({ url: srv.url, transports: ['websocket'], extraHeaders: { cookie: http.cookie } });
    try {
      const channel = client.meeting(meetingId);
      const snapshots: any[] = [];
      const seqs: number[] = [];
      let agenda: any = null;
      channel.onSnapshot((a) => {
        snapshots.push(a);
        agenda = (a.snapshot.live as any).agenda;
      });
      channel.onPush((event, data) => {
        seqs.push(channel.seq);
        if (event === 'agenda:changed') agenda = data;
      });
      await until(() => snapshots.length === 1, { what: 'joined' });
      await ok(s.chair.cmd('agenda:next', { meetingId }));
      await until(() => seqs.length > 0, { what: 'a push' });

      // Drop the connection and keep it down while the meeting goes on.
      client.socket.io.reconnection(false);
      client.socket.io.engine.close();
      await until(() => client.state === 'offline', { what: 'offline' });
      await expect(client.command('agenda:next', { meetingId })).rejects.toEqual(new CommandError('offline', 'Offline: the command was not sent'));
      const queued = client.command('attendance:check_in', { meetingId, mode: 'remote' });
      await ok(s.chair.cmd('agenda:next', { meetingId }));
      await ok(s.secretary.cmd('attendance:check_in', { meetingId, userId: ids.member2, mode: 'in_room' }));

      client.socket.io.reconnection(true);
      client.socket.connect();
      const att = await queued;
      expect(att.attendance.find((e: any) => e.userId === ids.member1)!.status).toBe('remote');
      await until(() => snapshots.length === 2, { what: 'resync after reconnect' });
      const current = agenda.items.find((i: any) => i.status === 'current');
      expect(current.title).toBe('Nội dung 3');
      // every push was applied once, in order
      expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
    } finally {
      client.close();
    }
  });
});
