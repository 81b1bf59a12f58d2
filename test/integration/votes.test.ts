import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpClient, type TestServer, startTestServer } from '../helpers/server.js';
import { buildMeeting } from '../helpers/factories.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';
import { testSql } from '../helpers/sql.js';
import { voteOptions } from '../../server/votes/votes.service.js';

const newReceipt = () => crypto.randomBytes(16).toString('base64url');
const receiptKeyHex = (voteId: number, receipt: string) => crypto.createHash('sha256').update(`${voteId}:${receipt}`).digest('hex');

/**
 * Each test builds its own world: a committee with a chair, a secretary, `members` members (named
 * member1…memberN here) and one guest, and an opened meeting of it. Nothing is shared between tests, so
 * they pass in any order (vitest --sequence.shuffle).
 */
describe('votes over Socket.IO', () => {
  let s: TestServer;
  const allSockets: TestSocket[] = [];

  async function world(members: number) {
    const m = await buildMeeting(s, { members, guests: 1, agendaItems: 1 });
    const users = new Map([['chair', m.chair], ['secretary', m.secretary], ['guest', m.guests[0]], ...m.members.map((u, i) => [`member${i + 1}`, u] as const)]);
    const ids: Record<string, number> = Object.fromEntries([...users].map(([k, u]) => [k, u.id]));
    const names: Record<string, string> = Object.fromEntries([...users].map(([k, u]) => [k, u.fullName]));
    const meetingId = m.meetingId;
    const sockets = new Map<string, TestSocket>();
    const clients = new Map<string, HttpClient>();
    const http = async (username: string) => {
      const existing = clients.get(username);
      if (existing) return existing;
      const c = username === 'admin' ? await s.login('admin') : await m.login(users.get(username)!);
      clients.set(username, c);
      return c;
    };
    const secretary = await http('secretary');
    /** A tablet of `username`, connected; joined to the meeting and checked in (present) unless `join` is false. */
    async function tablet(username: string, join = true): Promise<TestSocket> {
      const key = `${username}:${join}`;
      const existing = sockets.get(key);
      if (existing) return existing;
      const t = await connected(connectSocket(s.url, await http(username)));
      allSockets.push(t);
      if (join) {
        expect(await t.cmd('meeting:join', { meetingId })).toMatchObject({ ok: true });
        // Present = checked in (server/live's attendance); the admin is no participant and cannot.
        if (username !== 'admin') expect(await t.cmd('attendance:check_in', { meetingId, mode: 'in_room', commandId: newCommandId() })).toMatchObject({ ok: true });
      }
      sockets.set(key, t);
      return t;
    }
    async function createVote(body: Record<string, unknown>, inMeeting = meetingId) {
      const r = await secretary.post(`/api/meetings/${inMeeting}/votes`, { title: 'Thông qua báo cáo quý IV', majority: 'simple', ...body });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return r.body.id as number;
    }
    async function openVote(voteId: number) {
      const ack = await (await tablet('chair')).cmd('vote:open', { voteId, overrideReason: 'Thử nghiệm: chưa đủ túc số', commandId: newCommandId() });
      expect(ack, JSON.stringify(ack)).toMatchObject({ ok: true, data: { vote: { state: 'open' } } });
    }
    const cast = async (who: string, payload: Record<string, unknown>) => (await tablet(who)).cmd('vote:cast', { commandId: newCommandId(), ...payload });
    const voted = async (voteId: number) => (await secretary.get(`/api/votes/${voteId}`)).body.voted as number;
    expect(await (await tablet('chair')).cmd('meeting:open', { meetingId, overrideReason: 'Họp thử nghiệm' })).toMatchObject({ ok: true });
    return { m, meetingId, committeeId: m.committeeId, ids, names, secretary, http, tablet, createVote, openVote, cast, voted };
  }

  beforeAll(async () => {
    voteOptions.progressIntervalMs = 200;
    s = await startTestServer({ seed: 'admin' });
  });
  afterAll(async () => {
    for (const t of allSockets) t.close();
    await s?.close();
  });

  it('a named motion: the chair opens it, members vote and may change their choice, progress is coalesced, and vote:closed brings the result to the room', async () => {
    const { ids, names, tablet, createVote, openVote, cast, voted, secretary } = await world(6);
    const voteId = await createVote({ kind: 'motion', secret: false });
    const room = await tablet('member6');
    await openVote(voteId);
    const members = ['member1', 'member2', 'member3', 'member4', 'member5'];
    await Promise.all(members.map((m) => tablet(m)));
    const before = room.pushes('vote:progress').length;
    const acks = await Promise.all(members.map((m, i) => cast(m, { voteId, choices: i < 3 ? [0] : [1] })));
    for (const a of acks) expect(a).toMatchObject({ ok: true, data: { voteId, counted: true } });
    // Changing a named ballot before the close: member4 now votes for.
    expect(await cast('member4', { voteId, choices: [0] })).toMatchObject({ ok: true });
    const chair = await tablet('chair');
    const chairProgress = await chair.waitFor('vote:progress', (d) => d.voteId === voteId && d.voted === 5 && Array.isArray(d.notVoted));
    expect(chairProgress.notVoted.map((x: { userId: number }) => x.userId)).toContain(ids.member6);
    const progress = await room.waitFor('vote:progress', (d) => d.voteId === voteId && d.voted === 5);
    expect(progress.notVoted).toBeUndefined(); // who has not voted goes to the chair only
    // Six ballot writes, far fewer progress pushes (coalesced, never one per ballot).
    expect(room.pushes('vote:progress').length - before).toBeLessThan(6);
    const mine = await (await tablet('member4')).cmd('vote:mine', { voteId });
    expect(mine).toMatchObject({ ok: true, data: { hasVoted: true, choices: [0], canVote: true } });
    const closed = await chair.cmd('vote:close', { voteId, commandId: newCommandId() });
    expect(closed).toMatchObject({ ok: true, data: { vote: { state: 'closed', result: { outcome: 'adopted', counts: [4, 1], voted: 5 } } } });
    const pushed = await room.waitFor('vote:closed', (d) => d.vote.id === voteId);
    expect(pushed.vote.result.explanation.vi).toMatch(/^Thông qua: 4\/5 phiếu biểu quyết tán thành \(80%\), cần quá 1\/2 số phiếu biểu quyết/);
    expect(pushed.vote.result.explanation.en).toMatch(/^Adopted: 4 of 5 votes cast in favour \(80%\)/);
    expect(pushed.vote.roll.find((r: { userId: number }) => r.userId === ids.member4).choices).toEqual([0]);
    const ann = await chair.cmd('vote:announce', { voteId, commandId: newCommandId() });
    expect(ann).toMatchObject({ ok: true, data: { vote: { state: 'announced' } } });
    const csv = await secretary.get(`/api/votes/${voteId}/export.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect(csv.body).toMatch(/Thông qua báo cáo quý IV/);
    expect(csv.body).toContain(names.member1);
    const pdf = await fetch(`${s.url}/api/votes/${voteId}/export.pdf`, { headers: { cookie: secretary.cookie } });
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const file = path.join(s.dataDir, 'vote.pdf');
    fs.writeFileSync(file, Buffer.from(await pdf.arrayBuffer()));
    const text = execFileSync('pdftotext', ['-layout', file, '-']).toString();
    expect(text).toContain('KẾT QUẢ BIỂU QUYẾT');
    expect(text).toMatch(/Thông qua: 4\/5 phiếu biểu quyết tán thành/);
    // The roll call is a table: number, name, choice.
    expect(text).toMatch(new RegExp(`\\d+\\s+${names.member1}\\s+Tán thành`));
  });

  it('every bad ballot on a secret motion is refused with a clear code and the tally is unchanged', async () => {
    const { ids, tablet, createVote, openVote, cast, voted, secretary } = await world(6);
    const voteId = await createVote({ kind: 'motion', secret: true });
    const receipt = newReceipt();
    // Before the open.
    expect(await cast('member1', { voteId, choices: [0], receipt })).toMatchObject({ ok: false, error: { code: 'vote_not_open' } });
    await openVote(voteId);
    const ok = await cast('member1', { voteId, choices: [0], receipt });
    expect(ok).toMatchObject({ ok: true, data: { counted: true } });
    expect(JSON.stringify(ok)).not.toContain(receipt); // the ack carries no receipt and no choice
    const expectRefused = async (who: string, payload: Record<string, unknown>, code: string) => {
      const before = await voted(voteId);
      const a = await cast(who, { voteId, ...payload });
      expect(a, `${who} ${JSON.stringify(payload)}`).toMatchObject({ ok: false, error: { code } });
      expect(await voted(voteId)).toBe(before);
    };
    // A second ballot from the same member (another receipt).
    await expectRefused('member1', { choices: [1], receipt: newReceipt() }, 'already_voted');
    // A guest, and the admin who is not a participant.
    await expectRefused('guest', { choices: [0], receipt: newReceipt() }, 'not_eligible');
    await expectRefused('admin', { choices: [0], receipt: newReceipt() }, 'not_eligible');
    // An absent member: connected, but not checked in to the meeting.
    const absent = await tablet('member6', false);
    const before = await voted(voteId);
    expect(await absent.cmd('vote:cast', { voteId, choices: [0], receipt: newReceipt(), commandId: newCommandId() })).toMatchObject({ ok: false, error: { code: 'absent' } });
    expect(await voted(voteId)).toBe(before);
    // Unknown option, duplicate, no receipt on a secret vote, malformed payloads.
    await expectRefused('member2', { choices: [2], receipt: newReceipt() }, 'unknown_option');
    await expectRefused('member2', { choices: [0, 0], receipt: newReceipt() }, 'duplicate_choice');
    await expectRefused('member2', { choices: [0, 1], receipt: newReceipt() }, 'too_many_choices');
    await expectRefused('member2', { choices: [0] }, 'receipt_required');
    await expectRefused('member2', { choices: [0], receipt: 'short' }, 'invalid_payload');
    await expectRefused('member2', { choices: 'for', receipt: newReceipt() }, 'invalid_payload');
    await expectRefused('member2', { choices: [0], receipt: newReceipt(), extra: 1 }, 'invalid_payload');
    const m2 = await tablet('member2');
    expect(await m2.cmd('vote:cast', 'for')).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    expect(await m2.cmd('vote:cast', { voteId: -1, choices: [] })).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    expect(await m2.cmd('vote:cast', { voteId: 999999, choices: [0], receipt: newReceipt() })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    // A replayed command id is applied once and answered with the first acknowledgement.
    const commandId = newCommandId();
    const r2 = newReceipt();
    const first = await m2.cmd('vote:cast', { voteId, choices: [1], receipt: r2, commandId });
    const replay = await m2.cmd('vote:cast', { voteId, choices: [1], receipt: r2, commandId });
    const replayOther = await m2.cmd('vote:cast', { voteId, choices: [0], receipt: newReceipt(), commandId });
    expect(first).toMatchObject({ ok: true });
    expect(replay).toEqual(first);
    expect(replayOther).toEqual(first);
    expect(await voted(voteId)).toBe(2);
    // Members of the chair: close, then a late ballot.
    const chair = await tablet('chair');
    const closed = await chair.cmd('vote:close', { voteId, commandId: newCommandId() });
    expect(closed).toMatchObject({ ok: true, data: { vote: { result: { counts: [1, 1], voted: 2, abstentions: 0 } } } });
    await expectRefused('member3', { choices: [0], receipt: newReceipt() }, 'vote_closed');
    expect(await chair.cmd('vote:close', { voteId })).toMatchObject({ ok: false, error: { code: 'vote_closed' } });
    // Members may not run the vote.
    expect(await m2.cmd('vote:open', { voteId })).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    // Receipts: after the close each voter finds their own ballot, counted as cast.
    const list = await secretary.get(`/api/votes/${voteId}/receipts`);
    expect(list.status).toBe(200);
    expect(list.body.ballots).toHaveLength(2);
    expect(list.body.ballots.find((b: { key: string }) => b.key === receiptKeyHex(voteId, receipt)).choices).toEqual([0]);
    expect(list.body.ballots.find((b: { key: string }) => b.key === receiptKeyHex(voteId, r2)).choices).toEqual([1]);
  });

  it('stores secret ballots so that nobody reading the database can link a ballot to a voter', async () => {
    const { createVote, openVote, cast, voted } = await world(2);
    const voteId = await createVote({ kind: 'motion', secret: true });
    await openVote(voteId);
    for (const who of ['member1', 'member2']) expect(await cast(who, { voteId, choices: [0], receipt: newReceipt() })).toMatchObject({ ok: true });
    expect(await voted(voteId)).toBe(2);
    const sql = testSql(s);
    const cols = async (t: string) =>
      sql.dialect === 'sqlite'
        ? (await sql.all<{ name: string }>(`PRAGMA table_info(${t})`)).map((c) => c.name)
        : await sql.column<string>("SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ? ORDER BY ordinal_position", t);
    expect(await cols('vote_secret_ballots')).toEqual(['vote_id', 'receipt_key', 'choices']);
    expect(await cols('vote_participation')).toEqual(['vote_id', 'voter_id', 'cast_by']);
    if (sql.dialect === 'sqlite') {
      // WITHOUT ROWID: no hidden insertion-order column. (PostgreSQL's hidden order — ctid, xmin — is the secrecy attacker test's.)
      await expect(sql.all('SELECT rowid FROM vote_secret_ballots')).rejects.toThrow();
      await expect(sql.all('SELECT rowid FROM vote_participation')).rejects.toThrow();
    }
    // The audit log of this secret vote records both ballots and carries no choices.
    const rows = await sql.column<string>("SELECT details FROM audit_log WHERE target_type = 'vote' AND action LIKE 'vote.ballot%' AND target_id = ?", String(voteId));
    expect(rows.length).toBeGreaterThan(0);
    for (const d of rows) expect(d).not.toMatch(/choice/);
  });

  it('a delegated vote: the delegator is refused, the proxy casts it; non-participants of a meeting get not_found', async () => {
    const { ids, tablet, createVote, openVote, cast, voted, secretary, meetingId, http } = await world(9);
    const m5 = await tablet('member5');
    // Only to a participant who votes: not the secretary (no voting right), not a guest.
    expect(await m5.cmd('vote:delegate', { meetingId, toUserId: ids.secretary, commandId: newCommandId() })).toMatchObject({ ok: false, error: { code: 'proxy_holder_not_voter' } });
    expect(await m5.cmd('vote:delegate', { meetingId, toUserId: ids.guest, commandId: newCommandId() })).toMatchObject({ ok: false, error: { code: 'proxy_holder_not_voter' } });
    const d = await m5.cmd('vote:delegate', { meetingId, toUserId: ids.member6, commandId: newCommandId() });
    expect(d).toMatchObject({ ok: true, data: { delegation: { fromUserId: ids.member5, toUserId: ids.member6 } } });
    const chairList = await (await http('chair')).get(`/api/meetings/${meetingId}/delegations`);
    expect(chairList.body.delegations).toEqual([expect.objectContaining({ fromUserId: ids.member5, toUserId: ids.member6 })]);
    const voteId = await createVote({ kind: 'election', options: ['Ứng viên A', 'Ứng viên B', 'Ứng viên C'], seats: 2 });
    await openVote(voteId);
    expect(await cast('member5', { voteId, choices: [0] })).toMatchObject({ ok: false, error: { code: 'vote_delegated' } });
    expect(await cast('member7', { voteId, choices: [0], onBehalfOf: ids.member5 })).toMatchObject({ ok: false, error: { code: 'not_proxy' } });
    expect(await cast('member6', { voteId, choices: [0, 1, 2], onBehalfOf: ids.member5 })).toMatchObject({ ok: false, error: { code: 'too_many_choices' } });
    expect(await cast('member6', { voteId, choices: [0, 1], onBehalfOf: ids.member5 })).toMatchObject({ ok: true, data: { voterId: ids.member5 } });
    expect(await cast('member6', { voteId, choices: [1] })).toMatchObject({ ok: true, data: { voterId: ids.member6 } });
    // A proxy recorded by the secretary in the attendance (ủy quyền) works the same way.
    const sec = await tablet('secretary');
    expect(await sec.cmd('attendance:set_proxy', { meetingId, userId: ids.member9, holderId: ids.member8, reason: 'Giấy ủy quyền', commandId: newCommandId() })).toMatchObject({ ok: true });
    expect(await cast('member7', { voteId, choices: [1], onBehalfOf: ids.member9 })).toMatchObject({ ok: false, error: { code: 'not_proxy' } });
    expect(await cast('member8', { voteId, choices: [], onBehalfOf: ids.member9 })).toMatchObject({ ok: true, data: { voterId: ids.member9 } });
    expect(await voted(voteId)).toBe(3);
    const closed = await (await tablet('chair')).cmd('vote:close', { voteId });
    expect(closed).toMatchObject({ ok: true, data: { vote: { result: { counts: [1, 2, 0], winners: [1], required: 2, abstentions: 1 } } } });
    expect(closed.ok && closed.data.vote.roll.find((r: { userId: number }) => r.userId === ids.member5).castBy).toBe(ids.member6);

    // A meeting member5 is not invited to: its vote does not exist for them.
    const other = await buildMeeting(s, { members: 1 });
    const hidden = (await (await other.as('secretary')).post(`/api/meetings/${other.meetingId}/votes`, { title: 'Biểu quyết khác', kind: 'motion', majority: 'simple' })).body.id as number;
    expect(hidden).toEqual(expect.any(Number));
    expect(await cast('member5', { voteId: hidden, choices: [0] })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect((await (await http('member5')).get(`/api/votes/${hidden}`)).status).toBe(404);
  });

  it('vote:delegated reaches the chair, the delegator and every proxy concerned live; the proxy votes for two; a change or revoke tells the former proxy', async () => {
    const { ids, tablet, createVote, openVote, cast, voted, meetingId, http } = await world(7);
    const [chair, m2, m3, m4, m7] = await Promise.all(['chair', 'member2', 'member3', 'member4', 'member7'].map((u) => tablet(u)));
    const isFrom3 = (d: { meetingId: number; fromUserId: number }) => d.meetingId === meetingId && d.fromUserId === ids.member3;
    const mark = { chair: chair.received.length, m2: m2.received.length, m4: m4.received.length, m7: m7.received.length };
    expect(await m3.cmd('vote:delegate', { meetingId, toUserId: ids.member4, commandId: newCommandId() })).toMatchObject({ ok: true });
    const toChair = await chair.waitFor('vote:delegated', (d) => isFrom3(d) && d.delegation?.toUserId === ids.member4);
    expect(toChair.delegation).toMatchObject({ fromName: expect.any(String), toName: expect.any(String), createdAt: expect.any(String) });
    await m4.waitFor('vote:delegated', (d) => isFrom3(d) && d.delegation?.toUserId === ids.member4);
    await m3.waitFor('vote:delegated', (d) => isFrom3(d) && d.delegation?.toUserId === ids.member4);
    // The chair's list has every delegation; a member sees only those they give or hold.
    const list = async (u: string) => (await (await http(u)).get(`/api/meetings/${meetingId}/delegations`)).body;
    expect((await list('chair')).delegations).toEqual(expect.arrayContaining([expect.objectContaining({ fromUserId: ids.member3, toUserId: ids.member4 })]));
    expect(await list('member4')).toEqual({ delegations: [expect.objectContaining({ fromUserId: ids.member3, toUserId: ids.member4 })], delegatorMayVote: false });
    expect((await list('member7')).delegations).toEqual([]);

    // member4 votes for themself and for member3; member3 (the committee forbids it) is refused.
    const voteId = await createVote({ kind: 'motion', secret: false });
    await openVote(voteId);
    expect(await m4.cmd('vote:mine', { voteId })).toMatchObject({ ok: true, data: { canVote: true, proxyFor: [{ userId: ids.member3, hasVoted: false }] } });
    expect(await m3.cmd('vote:mine', { voteId })).toMatchObject({ ok: true, data: { canVote: false, reason: 'vote_delegated' } });
    expect(await cast('member3', { voteId, choices: [0] })).toMatchObject({ ok: false, error: { code: 'vote_delegated' } });
    expect(await cast('member4', { voteId, choices: [0] })).toMatchObject({ ok: true, data: { voterId: ids.member4 } });
    expect(await cast('member4', { voteId, choices: [1], onBehalfOf: ids.member3 })).toMatchObject({ ok: true, data: { voterId: ids.member3 } });
    const closed = await chair.cmd('vote:close', { voteId, commandId: newCommandId() });
    expect(closed).toMatchObject({ ok: true, data: { vote: { result: { counts: [1, 1], voted: 2 } } } });
    const roll = closed.ok ? closed.data.vote.roll : [];
    expect(roll.find((r: { userId: number }) => r.userId === ids.member3)).toMatchObject({ choices: [1], castBy: ids.member4 });

    // member3 moves the delegation to member2: member4 learns it no longer holds it.
    expect(await m3.cmd('vote:delegate', { meetingId, toUserId: ids.member2, commandId: newCommandId() })).toMatchObject({ ok: true });
    await m4.waitFor('vote:delegated', (d) => isFrom3(d) && d.delegation?.toUserId === ids.member2);
    await m2.waitFor('vote:delegated', (d) => isFrom3(d) && d.delegation?.toUserId === ids.member2);
    // Then takes it back: the chair and member2 get `delegation: null`.
    expect(await m3.cmd('vote:delegate', { meetingId, toUserId: null, commandId: newCommandId() })).toMatchObject({ ok: true, data: { delegation: null } });
    await chair.waitFor('vote:delegated', (d) => isFrom3(d) && d.delegation === null);
    await m2.waitFor('vote:delegated', (d) => isFrom3(d) && d.delegation === null);
    expect((await list('member2')).delegations).toEqual([]);
    // Private pushes: nobody uninvolved heard of it.
    expect(m7.received.slice(mark.m7).filter(([e]) => e === 'vote:delegated')).toEqual([]);
    expect(chair.received.slice(mark.chair).filter(([e]) => e === 'vote:delegated').every(([, p]) => p.seq === null)).toBe(true);
  });

  it('a committee may let a delegator vote in person; the proxy can then no longer cast the same vote', async () => {
    const { ids, tablet, createVote, openVote, cast, voted, secretary, committeeId, http, meetingId } = await world(2);
    expect((await (await http('member1')).put(`/api/committees/${committeeId}/vote-settings`, { delegatorMayVote: true })).status).toBe(403);
    expect((await secretary.put(`/api/committees/${committeeId}/vote-settings`, { delegatorMayVote: true })).body).toEqual({ delegatorMayVote: true, maxProxies: 1, substitutesMayVote: false, substitutesCountPresent: true, majority: 'absolute_members' });
    expect(await (await tablet('member1')).cmd('vote:delegate', { meetingId, toUserId: ids.member2 })).toMatchObject({ ok: true });
    await tablet('member2');
    const voteId = await createVote({ kind: 'motion', secret: true });
    await openVote(voteId);
    expect(await cast('member1', { voteId, choices: [1], receipt: newReceipt() })).toMatchObject({ ok: true, data: { voterId: ids.member1 } });
    expect(await cast('member2', { voteId, choices: [0], receipt: newReceipt(), onBehalfOf: ids.member1 })).toMatchObject({ ok: false, error: { code: 'already_voted' } });
    expect(await voted(voteId)).toBe(1);
    expect(await (await tablet('chair')).cmd('vote:close', { voteId })).toMatchObject({ ok: true, data: { vote: { result: { counts: [0, 1] } } } });
  });

  it('a tie under a casting-vote rule waits for the chair, whose casting vote decides at the announcement', async () => {
    const { tablet, createVote, openVote, cast, meetingId } = await world(2);
    const facts: string[] = [];
    s.app.ctx.bus.on('vote:changed', (e) => e.meetingId === meetingId && facts.push(e.state));
    const voteId = await createVote({ kind: 'motion', tieBreak: 'casting_vote' });
    await openVote(voteId);
    expect(await cast('member1', { voteId, choices: [0] })).toMatchObject({ ok: true });
    expect(await cast('member2', { voteId, choices: [1] })).toMatchObject({ ok: true });
    const chair = await tablet('chair');
    expect(await chair.cmd('vote:close', { voteId })).toMatchObject({ ok: true, data: { vote: { result: { outcome: 'tie' } } } });
    expect(await chair.cmd('vote:announce', { voteId })).toMatchObject({ ok: false, error: { code: 'casting_vote_required' } });
    const a = await chair.cmd('vote:announce', { voteId, castingVote: [0] });
    expect(a).toMatchObject({ ok: true, data: { vote: { state: 'announced', result: { outcome: 'adopted', castingVoteApplied: true } } } });
    // Other domains (the minutes) hear every step on the in-process bus, after the commit.
    expect(facts).toEqual(['draft', 'open', 'closed', 'announced']);
  });

  it('a vote with a duration closes by itself and the room receives the result', async () => {
    const { tablet, createVote, openVote, cast, secretary } = await world(2);
    const voteId = await createVote({ kind: 'single', options: ['Phương án 1', 'Phương án 2'], durationSeconds: 10 });
    await openVote(voteId);
    expect(await cast('member1', { voteId, choices: [1] })).toMatchObject({ ok: true });
    const chair = await tablet('chair');
    const ext = await chair.cmd('vote:extend', { voteId, seconds: 10 });
    expect(ext).toMatchObject({ ok: true, data: { vote: { state: 'open' } } });
    expect(Date.parse(ext.ok ? ext.data.vote.closesAt : '') - Date.parse(ext.ok ? ext.data.vote.openedAt : '')).toBeGreaterThanOrEqual(19_000);
    // Twenty-one seconds later (the service's clock moved, no sleeping): a late ballot is refused and the vote closes.
    voteOptions.now = () => Date.now() + 21_000;
    try {
      expect(await cast('member2', { voteId, choices: [0] })).toMatchObject({ ok: false, error: { code: 'vote_closed' } });
    } finally {
      voteOptions.now = () => Date.now();
    }
    const closed = await chair.waitFor('vote:closed', (d) => d.vote.id === voteId);
    expect(closed.vote.result).toMatchObject({ outcome: 'adopted', winners: [1], counts: [0, 1] });
  });
});
