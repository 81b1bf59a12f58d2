import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';
import { computeGenerated } from '../../server/minutes/minutes.generated.js';
import { testSql } from '../helpers/sql.js';

/**
 * What the chair does around a vote (issue #14): the quorum gate with a recorded override, timed votes,
 * the chair's own ballot, roll-call tables, annul and re-run, consent (bloc) votes. Every test builds its
 * own committee and meeting (test/helpers/factories.ts).
 */
describe('votes: the chair’s side', () => {
  let s: TestServer;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
  });
  afterAll(async () => {
    for (const t of sockets) t.close();
    await s?.close();
  });

  /**
   * A live meeting of our own: chair, secretary and `members` voting members, each with a tablet joined to
   * the meeting; `present` (indexes of members) and the chair are checked in. The meeting is opened with a
   * reason when it lacks quorum.
   */
  async function liveMeeting(opts: { members?: number; present?: number[]; agendaItems?: number } = {}) {
    const m: BuiltMeeting = await buildMeeting(s, { members: opts.members ?? 4, agendaItems: opts.agendaItems ?? 1 });
    const tablet = async (http: Awaited<ReturnType<BuiltMeeting['as']>>) => {
      const t = await connected(connectSocket(s.url, http));
      sockets.push(t);
      expect(await t.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
      return t;
    };
    const chair = await tablet(await m.as('chair'));
    const secretary = await tablet(await m.as('secretary'));
    const members: TestSocket[] = [];
    for (let i = 0; i < m.members.length; i++) members.push(await tablet(await m.as('member', i)));
    const checkIn = async (t: TestSocket) => expect(await t.cmd('attendance:check_in', { meetingId: m.meetingId, mode: 'in_room', commandId: newCommandId() })).toMatchObject({ ok: true });
    await checkIn(chair);
    for (const i of opts.present ?? m.members.map((_, i) => i)) await checkIn(members[i]);
    expect(await chair.cmd('meeting:open', { meetingId: m.meetingId, overrideReason: 'Họp thử nghiệm' })).toMatchObject({ ok: true });
    const cmd = (t: TestSocket, event: string, payload: Record<string, unknown>) => t.cmd(event, { commandId: newCommandId(), ...payload });
    const create = async (vote: Record<string, unknown>) => {
      const a = await cmd(chair, 'vote:create', { meetingId: m.meetingId, vote: { title: 'Thông qua kế hoạch', kind: 'motion', ...vote } });
      expect(a, JSON.stringify(a)).toMatchObject({ ok: true });
      return (a as { data: { vote: { id: number } } }).data.vote.id;
    };
    const view = async (voteId: number) => (await (await m.as('secretary')).get(`/api/votes/${voteId}`)).body;
    return { m, chair, secretary, members, checkIn, cmd, create, view };
  }

  const code = (ack: any) => (ack.ok ? 'ok' : ack.error.code);
  const auditOf = async (action: string, voteId: number) =>
    ((await testSql(s).column('SELECT details FROM audit_log WHERE action = ? AND target_id = ? ORDER BY id', action, String(voteId))) as string[]).map((d) => JSON.parse(d));
  const minutesText = async (meetingId: number) => JSON.stringify(await computeGenerated(s.app.ctx, meetingId));

  it('a vote does not open without quorum (no_quorum, nothing changes) unless the chair gives a reason, which is recorded, audited and printed in the result, minutes and CSV', async () => {
    // 5 voting members (chair + 4), only the chair and one member present: the quorum (3) is not met.
    const { m, chair, members, checkIn, cmd, create, view } = await liveMeeting({ present: [0] });
    const voteId = await create({});
    expect(code(await cmd(chair, 'vote:open', { voteId }))).toBe('no_quorum');
    expect(code(await cmd(chair, 'vote:open', { voteId, overrideReason: '   ' }))).toBe('invalid_payload');
    expect(code(await cmd(chair, 'vote:open', { voteId, overrideReason: 7 }))).toBe('invalid_payload');
    expect(code(await cmd(members[0], 'vote:open', { voteId, overrideReason: 'Tôi muốn mở' }))).toBe('forbidden');
    expect(await view(voteId)).toMatchObject({ state: 'draft', openedAt: null, quorumOverrideReason: null });
    expect(await auditOf('vote.opened', voteId)).toEqual([]);

    const reason = 'Các thành viên vắng đã gửi ý kiến bằng văn bản';
    const opened = await cmd(chair, 'vote:open', { voteId, overrideReason: reason });
    expect(opened).toMatchObject({ ok: true, data: { vote: { state: 'open', quorumOverrideReason: reason } } });
    expect(await auditOf('vote.opened', voteId)).toEqual([expect.objectContaining({ overrideReason: reason, quorum: expect.stringMatching(/^2\/5 present, quorum 3: not met$/) })]);
    expect(code(await cmd(members[0], 'vote:cast', { voteId, choices: [0] }))).toBe('ok');
    const closed = await cmd(chair, 'vote:close', { voteId });
    expect(closed).toMatchObject({ ok: true, data: { vote: { state: 'closed', quorumOverrideReason: reason } } });
    expect(await minutesText(m.meetingId)).toContain(`Chủ tọa mở biểu quyết khi chưa đủ số lượng tối thiểu, lý do: ${reason}.`);
    const csv = await (await m.as('secretary')).get(`/api/votes/${voteId}/export.csv`);
    expect(String(csv.body)).toContain(`quorum_override_reason,${reason}`);

    // With quorum the vote opens without a reason, and a reason given anyway is not recorded as an override.
    await checkIn(members[1]);
    const second = await create({ title: 'Nội dung thứ hai' });
    expect(await cmd(chair, 'vote:open', { voteId: second, overrideReason: 'không cần' })).toMatchObject({ ok: true, data: { vote: { quorumOverrideReason: null } } });
    expect((await auditOf('vote.opened', second))[0]).not.toHaveProperty('overrideReason');
  });

  it('the chair votes like any member; a roll-call vote’s table (member, choice, the proxy who cast it) is the same in the result, the minutes, the CSV and the PDF', async () => {
    // member 4 (index 3) is absent and gives their vote to member 3 (index 2) from their own account.
    const { m, chair, members, cmd, create, view } = await liveMeeting({ present: [0, 1, 2] });
    const absent = await connected(connectSocket(s.url, await m.as('member', 3)));
    sockets.push(absent);
    expect(code(await cmd(absent, 'vote:delegate', { meetingId: m.meetingId, toUserId: m.members[2].id }))).toBe('ok');
    const voteId = await create({ secret: false });
    expect(code(await cmd(chair, 'vote:open', { voteId }))).toBe('ok');
    // The chair is a member: their own ballot from the console's socket, counted like any other.
    const mine = await cmd(chair, 'vote:mine', { voteId });
    expect(mine).toMatchObject({ ok: true, data: { canVote: true, hasVoted: false } });
    expect(await cmd(chair, 'vote:cast', { voteId, choices: [0] })).toMatchObject({ ok: true, data: { voterId: m.chair.id } });
    expect(code(await cmd(members[0], 'vote:cast', { voteId, choices: [0] }))).toBe('ok');
    expect(code(await cmd(members[1], 'vote:cast', { voteId, choices: [1] }))).toBe('ok');
    expect(code(await cmd(members[2], 'vote:cast', { voteId, choices: [] }))).toBe('ok');
    expect(code(await cmd(members[2], 'vote:cast', { voteId, choices: [1], onBehalfOf: m.members[3].id }))).toBe('ok');
    const closed = await cmd(chair, 'vote:close', { voteId });
    expect(closed).toMatchObject({ ok: true, data: { vote: { result: { counts: [2, 2], abstentions: 1 } } } });
    const v = await view(voteId);
    const expected = [
      { userId: m.chair.id, choices: [0], castByName: null },
      { userId: m.members[0].id, choices: [0], castByName: null },
      { userId: m.members[1].id, choices: [1], castByName: null },
      { userId: m.members[2].id, choices: [], castByName: null },
      { userId: m.members[3].id, choices: [1], castBy: m.members[2].id, castByName: m.members[2].fullName },
    ];
    expect(v.roll).toHaveLength(5);
    for (const e of expected) expect(v.roll.find((r: { userId: number }) => r.userId === e.userId)).toMatchObject(e);

    const label = (c: number[]) => (c.length ? (c[0] === 0 ? 'Tán thành' : 'Không tán thành') : 'Không biểu quyết');
    const nameOf = (id: number) => [m.chair, ...m.members].find((u) => u.id === id)!.fullName;
    // The minutes: one table row per member, in the roll's order.
    const table = (await computeGenerated(s.app.ctx, m.meetingId))
      .flatMap((x) => x.blocks)
      .find((b) => b.t === 'table' && b.rows[0].join('|') === 'STT|Họ và tên|Lựa chọn') as { rows: string[][] } | undefined;
    expect(table?.rows.slice(1)).toEqual(
      v.roll.map((r: { userId: number; choices: number[]; castByName: string | null }, i: number) => [String(i + 1), r.castByName ? `${nameOf(r.userId)} (qua ủy quyền: ${r.castByName})` : nameOf(r.userId), label(r.choices)]),
    );
    const sec = await m.as('secretary');
    const csv = String((await sec.get(`/api/votes/${voteId}/export.csv`)).body);
    expect(csv).toContain(`${m.members[3].id},${m.members[3].fullName},Không tán thành,${m.members[2].id},${m.members[2].fullName}`);
    const pdf = await fetch(`${s.url}/api/votes/${voteId}/export.pdf`, { headers: { cookie: sec.cookie } });
    expect(pdf.status).toBe(200);
    const file = path.join(s.dataDir, `roll-${voteId}.pdf`);
    fs.writeFileSync(file, Buffer.from(await pdf.arrayBuffer()));
    const text = execFileSync('pdftotext', ['-layout', file, '-']).toString();
    expect(text).toMatch(/STT\s+Họ và tên\s+Lựa chọn/);
    for (const [i, r] of v.roll.entries()) expect(text).toMatch(new RegExp(`${i + 1}\\s+${nameOf(r.userId)}\\s+${label(r.choices)}`));
    expect(text).toContain(`(qua ủy quyền: ${m.members[2].fullName})`);
  });

  it('the chair annuls an open secret vote with a reason: its sealed ballots are deleted unopened, later ballots and closes are refused (vote_annulled); the re-run is a new vote linked to it, and both are in the minutes', async () => {
    const { m, chair, members, cmd, create, view } = await liveMeeting({ present: [0, 1, 2, 3] });
    const voteId = await create({ secret: true });
    expect(code(await cmd(chair, 'vote:open', { voteId }))).toBe('ok');
    const receipt = () => crypto.randomBytes(16).toString('base64url');
    for (const t of members.slice(0, 3)) expect(code(await cmd(t, 'vote:cast', { voteId, choices: [0], receipt: receipt() }))).toBe('ok');
    const sealed = async () => (await testSql(s).value('SELECT count(*) FROM vote_sealed_ballots WHERE vote_id = ?', voteId));
    expect(await sealed()).toBe(3);
    // Refusals change nothing: no reason, a member, a draft.
    expect(code(await cmd(chair, 'vote:annul', { voteId }))).toBe('invalid_payload');
    expect(code(await cmd(chair, 'vote:annul', { voteId, reason: ' ' }))).toBe('invalid_payload');
    expect(code(await cmd(members[0], 'vote:annul', { voteId, reason: 'Tôi không đồng ý' }))).toBe('forbidden');
    const draft = await create({ title: 'Chưa mở' });
    expect(code(await cmd(chair, 'vote:annul', { voteId: draft, reason: 'x' }))).toBe('invalid_state');
    expect(await view(voteId)).toMatchObject({ state: 'open', annulledAt: null });
    expect(await sealed()).toBe(3);

    const reason = 'Máy tính bảng của hai thành viên bị lỗi khi biểu quyết';
    const annulled = await cmd(chair, 'vote:annul', { voteId, reason });
    expect(annulled).toMatchObject({ ok: true, data: { vote: { state: 'annulled', annulReason: reason, result: null, rerunBy: null } } });
    expect(await sealed()).toBe(0);
    expect((await testSql(s).value('SELECT count(*) FROM vote_secret_ballots WHERE vote_id = ?', voteId))).toBe(0);
    expect(await auditOf('vote.annulled', voteId)).toEqual([{ reason, from: 'open', sealedDeleted: 3 }]);
    expect(code(await cmd(members[3], 'vote:cast', { voteId, choices: [1], receipt: receipt() }))).toBe('vote_annulled');
    expect(code(await cmd(chair, 'vote:close', { voteId }))).toBe('vote_annulled');
    expect(code(await cmd(chair, 'vote:annul', { voteId, reason }))).toBe('vote_annulled');
    expect(code(await cmd(chair, 'vote:rerun', { voteId: draft }))).toBe('invalid_state');

    // The re-run: a new draft with the same settings, linked both ways; only one.
    const rerun = await cmd(chair, 'vote:rerun', { voteId });
    expect(rerun).toMatchObject({ ok: true, data: { vote: { state: 'draft', rerunOf: voteId, secret: true, title: 'Thông qua kế hoạch' } } });
    const rerunId = (rerun as { data: { vote: { id: number } } }).data.vote.id;
    expect(rerunId).not.toBe(voteId);
    expect(await view(voteId)).toMatchObject({ state: 'annulled', rerunBy: rerunId });
    expect(code(await cmd(chair, 'vote:rerun', { voteId }))).toBe('invalid_state');
    expect(code(await cmd(chair, 'vote:open', { voteId: rerunId }))).toBe('ok');
    for (const t of members) expect(code(await cmd(t, 'vote:cast', { voteId: rerunId, choices: [0], receipt: receipt() }))).toBe('ok');
    expect(await cmd(chair, 'vote:close', { voteId: rerunId })).toMatchObject({ ok: true, data: { vote: { result: { outcome: 'adopted', counts: [4, 0] } } } });
    // A closed vote can be annulled too; its published result stays on record, marked annulled.
    const minutes = await minutesText(m.meetingId);
    expect(minutes).toContain(`Chủ tọa hủy kết quả biểu quyết, lý do: ${reason}.`);
    expect(minutes).toContain(`Biểu quyết lại, thay cho lần biểu quyết đã hủy (lý do hủy: ${reason}).`);
    const csv = String((await (await m.as('secretary')).get(`/api/votes/${voteId}/export.csv`)).body);
    expect(csv).toContain(`annul_reason,${reason}`);
    expect(csv).toContain(`rerun_by,${rerunId}`);
  });

  it('a consent (bloc) vote adopts several items in one vote; until it opens any member pulls an item out for separate debate, the chair sees who; refusals change nothing', async () => {
    const { m, chair, members, cmd, create, view } = await liveMeeting({ agendaItems: 4 });
    const [a, b, c, d] = m.itemIds;
    // Bad input: items of another meeting, one item twice, a bloc on a non-motion, fewer than two.
    const other = await buildMeeting(s, { members: 1, agendaItems: 1 });
    const bad = (vote: Record<string, unknown>) => cmd(chair, 'vote:create', { meetingId: m.meetingId, vote: { title: 'Gộp', kind: 'motion', ...vote } });
    expect(code(await bad({ bloc: [a, other.itemIds[0]] }))).toBe('not_found');
    expect(code(await bad({ bloc: [a, a] }))).toBe('invalid_payload');
    expect(code(await bad({ bloc: [a] }))).toBe('invalid_payload');
    expect(code(await bad({ kind: 'single', options: ['x', 'y'], bloc: [a, b] }))).toBe('invalid_payload');
    expect(code(await bad({ bloc: [a, '2'] }))).toBe('invalid_payload');
    const voteId = await create({ title: 'Thông qua các nội dung không có ý kiến khác', bloc: [a, b, c] });
    expect((await view(voteId)).bloc.map((x: { agendaItemId: number; pulledBy: null }) => [x.agendaItemId, x.pulledBy])).toEqual([
      [a, null],
      [b, null],
      [c, null],
    ]);
    expect(code(await cmd(members[1], 'vote:bloc_pull', { voteId, agendaItemId: d }))).toBe('not_found');
    expect(code(await cmd(members[1], 'vote:bloc_pull', { voteId, agendaItemId: '2' }))).toBe('invalid_payload');
    // member 2 pulls item b; the room (the chair's console) hears it at once, with who pulled it.
    const pulled = await cmd(members[1], 'vote:bloc_pull', { voteId, agendaItemId: b });
    expect(pulled).toMatchObject({ ok: true, data: { vote: { bloc: [{ agendaItemId: a, pulledBy: null }, { agendaItemId: b, pulledBy: m.members[1].id, pulledByName: m.members[1].fullName }, { agendaItemId: c, pulledBy: null }] } } });
    await chair.waitFor('vote:changed', (x: any) => x.vote.id === voteId && x.vote.bloc[1].pulledBy === m.members[1].id);
    // Pulling again (someone else) keeps the first puller.
    expect(await cmd(members[0], 'vote:bloc_pull', { voteId, agendaItemId: b })).toMatchObject({ ok: true, data: { vote: { bloc: [{}, { pulledBy: m.members[1].id }, {}] } } });
    expect(await auditOf('vote.bloc_pulled', voteId)).toEqual([{ agendaItemId: b }]);
    expect(code(await cmd(chair, 'vote:open', { voteId }))).toBe('ok');
    // Once open nothing more is pulled.
    expect(code(await cmd(members[2], 'vote:bloc_pull', { voteId, agendaItemId: c }))).toBe('invalid_state');
    for (const t of [chair, ...members]) expect(code(await cmd(t, 'vote:cast', { voteId, choices: [0] }))).toBe('ok');
    expect(await cmd(chair, 'vote:close', { voteId })).toMatchObject({ ok: true, data: { vote: { result: { outcome: 'adopted' }, bloc: [{ pulledBy: null }, { pulledBy: m.members[1].id }, { pulledBy: null }] } } });
    const minutes = await minutesText(m.meetingId);
    expect(minutes).toContain('Các nội dung biểu quyết gộp: ');
    expect(minutes).toContain(`Tách ra thảo luận riêng theo đề nghị của thành viên: Nội dung 2 (${m.members[1].fullName}).`);
    const blocLine = (await computeGenerated(s.app.ctx, m.meetingId))
      .flatMap((x) => x.blocks)
      .find((x) => x.t === 'p' && x.runs[0]?.text === 'Các nội dung biểu quyết gộp: ') as { runs: { text: string }[] } | undefined;
    expect(blocLine?.runs[1].text).toBe('Nội dung 1; Nội dung 3.');
    // A bloc whose every item was pulled does not open.
    const empty = await create({ title: 'Gộp hai', bloc: [c, d] });
    for (const item of [c, d]) expect(code(await cmd(members[0], 'vote:bloc_pull', { voteId: empty, agendaItemId: item }))).toBe('ok');
    expect(code(await cmd(chair, 'vote:open', { voteId: empty }))).toBe('invalid_state');
  });
});
