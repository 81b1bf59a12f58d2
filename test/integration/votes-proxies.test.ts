import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltUser, buildMeeting, buildRoomStation, editMeeting, usersByName } from '../helpers/factories.js';
import { type HttpClient, type TestServer, startTestServer } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';
import { testSql } from '../helpers/sql.js';

/**
 * Proxies follow one rule set (shared/rules/proxies.ts) whether the secretary records a paper
 * authorization (attendance:set_proxy) or a member gives their vote from their own account
 * (vote:delegate); every refusal has its code and changes nothing; the ballot of a withdrawn proxy is
 * refused. Each test builds its own committee and meeting.
 */
describe('proxies: one rule set for attendance and votes', () => {
  let s: TestServer;
  let admin: HttpClient;
  const open: TestSocket[] = [];

  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
    admin = await s.login('admin');
  });
  afterAll(async () => {
    for (const t of open) t.close();
    await s?.close();
  });

  /**
   * Factory: a committee of its own (chair, secretary, member1..member6 with votes, a guest), with `settings`,
   * and a live meeting that also has a room station account as a voting participant (which must still never
   * hold a proxy), where `present` are checked in. Returns the people's ids and a tablet per person.
   */
  async function setup(opts: { settings?: Record<string, unknown>; present?: string[] } = {}) {
    const built = await buildMeeting(s, { members: 6, guests: 1, agendaItems: 0, publish: false });
    const sec = await built.as('secretary');
    // The station joins as a member without a vote; here it gets one.
    const station = await buildRoomStation(s, built);
    await editMeeting(built, { removeParticipants: [station], addParticipants: [{ user: station, role: 'member', canVote: true }], secretary: sec });
    const users: Record<string, BuiltUser> = { ...usersByName(built), room1: station };
    const ids: Record<string, number> = Object.fromEntries(Object.entries(users).map(([k, u]) => [k, u.id]));
    const committeeId = built.committeeId;
    if (opts.settings) expect((await admin.put(`/api/committees/${committeeId}/vote-settings`, opts.settings)).status).toBe(200);
    const meetingId = built.meetingId;
    expect((await sec.post(`/api/meetings/${meetingId}/publish`)).status).toBe(200);
    const tablets: Record<string, TestSocket> = {};
    for (const u of ['chair', 'member1', 'member2', 'member3', 'member4', 'member5', 'member6', 'secretary', 'guest', 'room1']) {
      const t = await connected(connectSocket(s.url, u === 'secretary' ? sec : await built.login(users[u])));
      open.push(t);
      expect(await t.cmd('meeting:join', { meetingId })).toMatchObject({ ok: true });
      tablets[u] = t;
    }
    expect(await tablets.chair.cmd('meeting:open', { meetingId, overrideReason: 'Thử quy tắc ủy quyền' })).toMatchObject({ ok: true });
    for (const u of opts.present ?? ['chair', 'member1', 'member2']) {
      expect(await tablets[u].cmd('attendance:check_in', { meetingId, mode: 'in_room', commandId: newCommandId() })).toMatchObject({ ok: true });
    }
    const cmd = (who: string, event: string, payload: Record<string, unknown>) => tablets[who].cmd(event, { commandId: newCommandId(), ...payload });
    const state = async () => {
      const att = await sec.get(`/api/meetings/${meetingId}/delegations`);
      const join = await tablets.chair.cmd('meeting:join', { meetingId });
      return { delegations: att.body.delegations, attendance: join.ok ? join.data.snapshot.live.attendance : null };
    };
    return { ids, committeeId, meetingId, tablets, cmd, state, sec };
  }

  const code = (ack: any) => (ack.ok ? 'ok' : ack.error.code);

  it('a guest is refused as a vote proxy holder on both paths with proxy_holder_not_voter, and nothing changes', async () => {
    const { ids, meetingId, cmd, state } = await setup();
    const before = await state();
    expect(code(await cmd('member3', 'vote:delegate', { meetingId, toUserId: ids.guest }))).toBe('proxy_holder_not_voter');
    expect(code(await cmd('secretary', 'attendance:set_proxy', { meetingId, userId: ids.member4, holderId: ids.guest, reason: 'Giấy ủy quyền số 12' }))).toBe('proxy_holder_not_voter');
    expect(await state()).toEqual(before);
  });

  it('the room station account never holds a proxy (proxy_holder_room_station), even as a voting participant', async () => {
    const { ids, meetingId, cmd, state } = await setup();
    const before = await state();
    expect(code(await cmd('member3', 'vote:delegate', { meetingId, toUserId: ids.room1 }))).toBe('proxy_holder_room_station');
    expect(code(await cmd('secretary', 'attendance:set_proxy', { meetingId, userId: ids.member4, holderId: ids.room1, reason: 'Giấy ủy quyền' }))).toBe('proxy_holder_room_station');
    expect(code(await cmd('secretary', 'attendance:set_proxy', { meetingId, userId: ids.member4, holderId: ids.room1, kind: 'substitute', reason: 'Cử người dự thay' }))).toBe(
      'proxy_holder_room_station',
    );
    expect(await state()).toEqual(before);
  });

  it('the secretary cannot record a proxy to themself (proxy_holder_is_recorder), nor for a present member (proxy_giver_present), nor without a reason', async () => {
    const { ids, meetingId, cmd, state } = await setup();
    const before = await state();
    expect(code(await cmd('secretary', 'attendance:set_proxy', { meetingId, userId: ids.member4, holderId: ids.secretary, reason: 'Giấy ủy quyền' }))).toBe('proxy_holder_is_recorder');
    expect(code(await cmd('secretary', 'attendance:set_proxy', { meetingId, userId: ids.member4, holderId: ids.secretary, kind: 'substitute', reason: 'Giấy' }))).toBe('proxy_holder_is_recorder');
    // member1 is checked in: only member1 may hand over their own vote.
    expect(code(await cmd('secretary', 'attendance:set_proxy', { meetingId, userId: ids.member1, holderId: ids.member2, reason: 'Giấy ủy quyền' }))).toBe('proxy_giver_present');
    expect(code(await cmd('secretary', 'attendance:set_proxy', { meetingId, userId: ids.member4, holderId: ids.member2 }))).toBe('proxy_reason_required');
    expect(code(await cmd('member4', 'attendance:set_proxy', { meetingId, userId: ids.member5, holderId: ids.member2, reason: 'x' }))).toBe('forbidden');
    expect(await state()).toEqual(before);
    // The accepted paper authorization shows its kind and reason to the chair, and is audited.
    const ok = await cmd('secretary', 'attendance:set_proxy', { meetingId, userId: ids.member4, holderId: ids.member2, reason: 'Giấy ủy quyền số 7, đi công tác' });
    expect(ok).toMatchObject({ ok: true });
    const row = (await state()).attendance.attendance.find((e: any) => e.userId === ids.member4);
    expect(row).toMatchObject({ status: 'proxy', proxyHolderId: ids.member2, proxyKind: 'vote', reason: 'Giấy ủy quyền số 7, đi công tác' });
    const audit = (await testSql(s).value<string>("SELECT details FROM audit_log WHERE action = 'attendance.proxy' AND target_id = ? ORDER BY id DESC LIMIT 1", String(meetingId)))!;
    expect(JSON.parse(audit)).toMatchObject({ userId: ids.member4, holderId: ids.member2, kind: 'vote', reason: 'Giấy ủy quyền số 7, đi công tác' });
  });

  it('one person holds at most the committee’s maxProxies, counting paper authorizations and own-account proxies together', async () => {
    const { ids, committeeId, meetingId, cmd, state } = await setup();
    expect(code(await cmd('member3', 'vote:delegate', { meetingId, toUserId: ids.member1 }))).toBe('ok');
    const before = await state();
    expect(code(await cmd('secretary', 'attendance:set_proxy', { meetingId, userId: ids.member4, holderId: ids.member1, reason: 'Giấy ủy quyền' }))).toBe('proxy_limit_reached');
    expect(code(await cmd('member5', 'vote:delegate', { meetingId, toUserId: ids.member1 }))).toBe('proxy_limit_reached');
    expect(await state()).toEqual(before);
    // Re-giving the same proxy is not "one more"; passing it on is a chain.
    expect(code(await cmd('member3', 'vote:delegate', { meetingId, toUserId: ids.member1 }))).toBe('ok');
    expect(code(await cmd('member1', 'vote:delegate', { meetingId, toUserId: ids.member2 }))).toBe('proxy_chain');
    expect(code(await cmd('member2', 'vote:delegate', { meetingId, toUserId: ids.member3 }))).toBe('proxy_chain');
    // The committee raises its limit: now accepted.
    expect((await admin.put(`/api/committees/${committeeId}/vote-settings`, { maxProxies: 2 })).body).toMatchObject({ maxProxies: 2, majority: 'absolute_members' });
    expect(code(await cmd('secretary', 'attendance:set_proxy', { meetingId, userId: ids.member4, holderId: ids.member1, reason: 'Giấy ủy quyền' }))).toBe('ok');
    expect(code(await cmd('member5', 'vote:delegate', { meetingId, toUserId: ids.member1 }))).toBe('proxy_limit_reached');
    const bad = await admin.put(`/api/committees/${committeeId}/vote-settings`, { maxProxies: '2' });
    expect(bad.status).toBe(400);
  });

  it('a proxy holder sees the proxied ballot separately and casts both; a withdrawn proxy’s ballot is refused (not_proxy) and the count is unchanged', async () => {
    const { ids, meetingId, cmd, sec } = await setup({ present: ['chair', 'member1', 'member2'] });
    expect(code(await cmd('member3', 'vote:delegate', { meetingId, toUserId: ids.member1 }))).toBe('ok');
    expect(code(await cmd('secretary', 'attendance:set_proxy', { meetingId, userId: ids.member4, holderId: ids.member2, reason: 'Giấy ủy quyền số 3' }))).toBe('ok');
    const v = await sec.post(`/api/meetings/${meetingId}/votes`, { title: 'Thông qua kế hoạch', kind: 'motion' });
    expect(v.status).toBe(201);
    const voteId = v.body.id as number;
    expect(await cmd('chair', 'vote:open', { voteId, overrideReason: 'Thử nghiệm ủy quyền' })).toMatchObject({ ok: true });
    const mine = await cmd('member1', 'vote:mine', { voteId });
    expect(mine).toMatchObject({ ok: true, data: { canVote: true, hasVoted: false, proxyFor: [{ userId: ids.member3, hasVoted: false }] } });
    expect(mine.ok && mine.data.proxyFor[0].fullName).not.toBe('');
    expect(await cmd('member1', 'vote:cast', { voteId, choices: [0] })).toMatchObject({ ok: true, data: { voterId: ids.member1 } });
    expect(await cmd('member1', 'vote:cast', { voteId, choices: [1], onBehalfOf: ids.member3 })).toMatchObject({ ok: true, data: { voterId: ids.member3 } });
    // member4's paper authorization is withdrawn by the secretary before member2 uses it.
    expect(code(await cmd('secretary', 'attendance:set_proxy', { meetingId, userId: ids.member4, holderId: null }))).toBe('ok');
    expect(code(await cmd('member2', 'vote:cast', { voteId, choices: [0], onBehalfOf: ids.member4 }))).toBe('not_proxy');
    // member3 takes theirs back: member1 can no longer change that ballot either.
    expect(code(await cmd('member3', 'vote:delegate', { meetingId, toUserId: null }))).toBe('ok');
    expect(code(await cmd('member1', 'vote:cast', { voteId, choices: [0], onBehalfOf: ids.member3 }))).toBe('not_proxy');
    const closed = await cmd('chair', 'vote:close', { voteId });
    expect(closed).toMatchObject({ ok: true, data: { vote: { result: { counts: [1, 1] } } } });
    const roll = closed.ok ? closed.data.vote.roll : [];
    expect(roll.find((r: any) => r.userId === ids.member3)).toMatchObject({ choices: [1], castBy: ids.member1 });
    expect(roll.find((r: any) => r.userId === ids.member1)).toMatchObject({ choices: [0], castBy: ids.member1 });
    expect(roll.some((r: any) => r.userId === ids.member4)).toBe(false);
  });

  it('an attendance substitute may be a guest: counts as present, but casts the vote only when the committee lets substitutes vote', async () => {
    const a = await setup({ present: ['chair', 'member1'] });
    expect(code(await a.cmd('secretary', 'attendance:set_proxy', { meetingId: a.meetingId, userId: a.ids.member5, holderId: a.ids.guest, kind: 'substitute', reason: 'Cử Phó Giám đốc dự thay' }))).toBe('ok');
    const st = (await a.state()).attendance;
    expect(st.quorum.present).toBe(2); // chair and member1 checked in; member5's substitute (a guest) is not checked in
    expect(code(await a.cmd('guest', 'attendance:check_in', { meetingId: a.meetingId, mode: 'in_room' }))).toBe('ok');
    expect((await a.state()).attendance.quorum.present).toBe(3);
    const v = await a.sec.post(`/api/meetings/${a.meetingId}/votes`, { title: 'Biểu quyết A', kind: 'motion' });
    expect(await a.cmd('chair', 'vote:open', { voteId: v.body.id, overrideReason: 'Thử nghiệm ủy quyền' })).toMatchObject({ ok: true });
    expect(code(await a.cmd('guest', 'vote:cast', { voteId: v.body.id, choices: [0], onBehalfOf: a.ids.member5 }))).toBe('not_proxy');

    const b = await setup({ present: ['chair', 'member1'], settings: { substitutesMayVote: true } });
    expect(code(await b.cmd('secretary', 'attendance:set_proxy', { meetingId: b.meetingId, userId: b.ids.member5, holderId: b.ids.guest, kind: 'substitute', reason: 'Cử người dự thay' }))).toBe('ok');
    expect(code(await b.cmd('guest', 'attendance:check_in', { meetingId: b.meetingId, mode: 'in_room' }))).toBe('ok');
    const w = await b.sec.post(`/api/meetings/${b.meetingId}/votes`, { title: 'Biểu quyết B', kind: 'motion' });
    expect(await b.cmd('chair', 'vote:open', { voteId: w.body.id, overrideReason: 'Thử nghiệm ủy quyền' })).toMatchObject({ ok: true });
    expect(await b.cmd('guest', 'vote:cast', { voteId: w.body.id, choices: [0], onBehalfOf: b.ids.member5 })).toMatchObject({ ok: true, data: { voterId: b.ids.member5 } });
  });
});

describe('one count everywhere (shared/rules/roll.ts)', () => {
  it('the ack, the room push, REST, the CSV, the PDF and the minutes of one closed vote print the same participation sentence', async () => {
    const { execFileSync } = await import('node:child_process');
    const fs = await import('node:fs');
    const path = await import('node:path');
    const { computeGenerated } = await import('../../server/minutes/minutes.generated.js');
    const { rollSentence } = await import('../../shared/rules/roll.js');
    const s = await startTestServer({ seed: 'admin' });
    try {
      // Chair and member1..4 vote (5 members), the secretary and a guest do not.
      const built = await buildMeeting(s, { members: 4, guests: 1, agendaItems: 0, title: 'Một con số' });
      const users = usersByName(built);
      const ids: Record<string, number> = Object.fromEntries(Object.entries(users).map(([k, u]) => [k, u.id]));
      const sec = await built.as('secretary');
      const m = { body: { id: built.meetingId } };
      const t: Record<string, TestSocket> = {};
      for (const u of ['chair', 'member1', 'member2', 'guest']) {
        t[u] = await connected(connectSocket(s.url, await built.login(users[u])));
        await t[u].cmd('meeting:join', { meetingId: m.body.id });
      }
      await t.chair.cmd('meeting:open', { meetingId: m.body.id, overrideReason: 'thử' });
      for (const u of ['chair', 'member1', 'member2']) await t[u].cmd('attendance:check_in', { meetingId: m.body.id, mode: 'in_room', commandId: newCommandId() });
      // member3 gives their vote to member2 from their own account: 4 eligible of 5 members.
      const m3 = await connected(connectSocket(s.url, await built.login(users.member3)));
      expect(await m3.cmd('vote:delegate', { meetingId: m.body.id, toUserId: ids.member2, commandId: newCommandId() })).toMatchObject({ ok: true });
      const v = await sec.post(`/api/meetings/${m.body.id}/votes`, { title: 'Một con số', kind: 'motion' });
      expect(await t.chair.cmd('vote:open', { voteId: v.body.id, overrideReason: 'Thử nghiệm ủy quyền', commandId: newCommandId() })).toMatchObject({ ok: true });
      await t.member1.cmd('vote:cast', { voteId: v.body.id, choices: [0], commandId: newCommandId() });
      await t.member2.cmd('vote:cast', { voteId: v.body.id, choices: [1], commandId: newCommandId() });
      const progress = await t.guest.waitFor('vote:progress', (d) => d.voteId === v.body.id && d.voted === 2);
      expect(progress).toMatchObject({ voted: 2, eligible: 4, members: 5 });
      const closed = await t.chair.cmd('vote:close', { voteId: v.body.id, commandId: newCommandId() });
      const view = closed.ok ? closed.data.vote : null;
      const expected = rollSentence({ voted: 2, eligible: 4, members: 5 }, 'vi');
      expect(rollSentence({ voted: view.voted, eligible: view.eligible, members: view.members }, 'vi')).toBe(expected);
      const pushed = (await t.guest.waitFor('vote:closed', (d) => d.vote.id === v.body.id)).vote;
      const rest = (await sec.get(`/api/votes/${v.body.id}`)).body;
      for (const x of [pushed, rest]) expect(rollSentence({ voted: x.voted, eligible: x.eligible, members: x.members }, 'vi')).toBe(expected);
      const r = view.result;
      expect(rollSentence({ voted: r.voted + r.abstentions, eligible: r.eligible, members: r.members }, 'vi')).toBe(expected);
      expect((await sec.get(`/api/votes/${v.body.id}/export.csv`)).body).toContain(expected);
      const pdf = await fetch(`${s.url}/api/votes/${v.body.id}/export.pdf`, { headers: { cookie: sec.cookie } });
      const file = path.join(s.dataDir, 'roll.pdf');
      fs.writeFileSync(file, Buffer.from(await pdf.arrayBuffer()));
      expect(execFileSync('pdftotext', ['-raw', file, '-']).toString().replace(/\s+/g, ' ')).toContain(expected);
      expect(JSON.stringify(await computeGenerated(s.app.ctx, m.body.id))).toContain(expected);
      for (const x of [...Object.values(t), m3]) x.close();
    } finally {
      await s.close();
    }
  });
});
