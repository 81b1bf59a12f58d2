import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOwners } from '../../server/cluster/cluster.service.js';
import { startNodes } from '../helpers/cluster.js';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { type TestServer, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';
import { testSql } from '../helpers/sql.js';

/**
 * Fencing (issue #18): a former owner that still believes it owns a meeting (its lease ran out while it was
 * stalled; here the lease is long, so its own renewal has not noticed yet, and the test ends the lease in the
 * database as a stall past it would) writes nothing once another node took over: the ballot batch and the
 * vote close check the lease inside their transaction, answer not_owner, and the node steps down.
 */
describe('a former owner cannot write', () => {
  let nodes: TestServer[];
  const sockets: TestSocket[] = [];
  const tablet = async (server: TestServer, m: BuiltMeeting, role: 'chair' | 'secretary' | 'member', index = 0) => {
    const t = await connected(connectSocket(server.url, await m.as(role, index), { reconnection: false }));
    sockets.push(t);
    return t;
  };

  beforeAll(async () => {
    nodes = await startNodes(2, { config: { cluster: { leaseMs: 60_000 } } });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await Promise.allSettled(nodes.map((n) => n.close()));
  });

  /** A live meeting owned by nodes[0] with an open vote of the given kind. */
  async function openVoteOnFirst(secret: boolean) {
    const [a] = nodes;
    const m = await buildMeeting(a, { members: 2, agendaItems: 2 });
    const chair = await tablet(a, m, 'chair');
    expect(await chair.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    const sec = await tablet(a, m, 'secretary');
    for (const u of m.members) expect(await sec.cmd('attendance:check_in', { meetingId: m.meetingId, userId: u.id, mode: 'in_room', commandId: newCommandId() })).toMatchObject({ ok: true });
    expect(await chair.cmd('meeting:open', { meetingId: m.meetingId, overrideReason: 'thử', commandId: newCommandId() })).toMatchObject({ ok: true });
    const created = await (await m.as('secretary')).post(`/api/meetings/${m.meetingId}/votes`, { title: 'Biểu quyết', kind: 'motion', secret });
    const voteId = created.body.id as number;
    expect(await chair.cmd('vote:open', { voteId, overrideReason: 'thử', commandId: newCommandId() })).toMatchObject({ ok: true });
    return { m, chair, voteId };
  }

  /** The lease ends (as after a stall longer than it) and the other node takes the meeting: epoch 2. */
  async function takeOver(m: BuiltMeeting) {
    const [a, b] = nodes;
    await testSql(a).run("UPDATE meeting_owners SET expires_at = now() - interval '1 second' WHERE meeting_id = ?", m.meetingId);
    const onB = await tablet(b, m, 'chair');
    expect(await onB.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    expect((await listOwners(a.app.ctx.store)).filter((o) => o.meetingId === m.meetingId)).toMatchObject([{ nodeId: 'n2', epoch: 2 }]);
    return onB;
  }

  it('a ballot batch of the former owner is refused with not_owner and writes nothing; the former owner steps down and the ballot counts once on the new owner', async () => {
    const { m, chair, voteId } = await openVoteOnFirst(true);
    const voter = await tablet(nodes[0], m, 'member');
    const onB = await takeOver(m);
    const receipt = crypto.randomBytes(16).toString('base64url');
    const commandId = newCommandId();
    expect(await voter.cmd('vote:cast', { voteId, choices: [0], receipt, commandId })).toMatchObject({ ok: false, error: { code: 'not_owner' } });
    const sql = testSql(nodes[0]);
    expect(Number(await sql.value('SELECT count(*) FROM vote_participation WHERE vote_id = ?', voteId))).toBe(0);
    expect(Number(await sql.value('SELECT count(*) FROM vote_sealed_ballots WHERE vote_id = ?', voteId))).toBe(0);
    expect(Number(await sql.value('SELECT count(*) FROM realtime_commands WHERE command_id = ?', commandId))).toBe(0);
    // Stepped down: the meeting's sockets on the former owner were closed (their clients reconnect to the owner).
    await until(() => !chair.socket.connected, { what: 'former owner closed the room' });
    expect(nodes[0].app.ctx.ownership!.epoch(m.meetingId)).toBeNull();

    const voterOnB = await tablet(nodes[1], m, 'member');
    expect(await voterOnB.cmd('vote:cast', { voteId, choices: [0], receipt, commandId })).toMatchObject({ ok: true, data: { counted: true } });
    expect(await onB.cmd('vote:close', { voteId, commandId: newCommandId() })).toMatchObject({ ok: true, data: { vote: { result: { counts: [1, 0], voted: 1 } } } });
  });

  it('a close of the former owner is refused with not_owner and the vote stays open; the new owner closes it once', async () => {
    const { m, chair, voteId } = await openVoteOnFirst(false);
    const onB = await takeOver(m);
    expect(await chair.cmd('vote:close', { voteId, commandId: newCommandId() })).toMatchObject({ ok: false, error: { code: 'not_owner' } });
    const sql = testSql(nodes[0]);
    expect(await sql.value('SELECT state FROM votes WHERE id = ?', voteId)).toBe('open');
    expect(await onB.cmd('vote:close', { voteId, commandId: newCommandId() })).toMatchObject({ ok: true });
    expect(Number(await sql.value("SELECT count(*) FROM audit_log WHERE action = 'vote.closed' AND target_id = ?", String(voteId)))).toBe(1);
  });

  it('a live command of the former owner (next agenda item) is refused with not_owner', async () => {
    const { m, chair } = await openVoteOnFirst(false);
    await takeOver(m);
    const sql = testSql(nodes[0]);
    const before = await sql.value("SELECT id FROM agenda_items WHERE meeting_id = ? AND status = 'current'", m.meetingId);
    const ack = await chair.cmd('agenda:next', { meetingId: m.meetingId, commandId: newCommandId() });
    expect(ack).toMatchObject({ ok: false, error: { code: 'not_owner' } });
    expect(await sql.value("SELECT id FROM agenda_items WHERE meeting_id = ? AND status = 'current'", m.meetingId)).toBe(before);
  });
});
