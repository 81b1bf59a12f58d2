import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOwners } from '../../server/cluster/cluster.service.js';
import { startNodes } from '../helpers/cluster.js';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { type TestServer, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';
import { testSql } from '../helpers/sql.js';

const LEASE_MS = 1500;

/**
 * Meeting ownership (issue #18) on two real nodes sharing one PostgreSQL database: a meeting has one owner
 * at a time, held by a lease; the other node refuses it with not_owner; a node that stops hands over at once.
 */
// One journey: its last test stops a node (the hand-over), which the tests after it would otherwise meet.
describe('meeting ownership lease', { shuffle: false }, () => {
  let nodes: TestServer[];
  const sockets: TestSocket[] = [];
  const tablet = async (server: TestServer, m: BuiltMeeting, role: 'chair' | 'secretary' | 'member', index = 0) => {
    const t = await connected(connectSocket(server.url, await m.as(role, index), { reconnection: false }));
    sockets.push(t);
    return t;
  };

  beforeAll(async () => {
    nodes = await startNodes(3, { config: { cluster: { leaseMs: LEASE_MS } } });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await Promise.allSettled(nodes.map((n) => n.close()));
  });

  it('the node a meeting is first joined through owns it; a join through another node is refused with not_owner naming the owner', async () => {
    const [a, b] = nodes;
    const m = await buildMeeting(a, { members: 2, agendaItems: 1 });
    const onA = await tablet(a, m, 'member');
    const joined = await onA.cmd('meeting:join', { meetingId: m.meetingId });
    expect(joined).toMatchObject({ ok: true });
    const owners = (await listOwners(a.app.ctx.store)).filter((o) => o.meetingId === m.meetingId);
    expect(owners).toMatchObject([{ nodeId: 'n1', epoch: 1 }]);
    expect(owners[0].expiresInMs).toBeGreaterThan(0);
    expect(owners[0].expiresInMs).toBeLessThanOrEqual(LEASE_MS);
    // The push epoch names the lease epoch: a client that reaches another owner later resynchronises.
    expect((joined as { data: { epoch: string } }).data.epoch).toMatch(/\.1$/);

    const onB = await tablet(b, m, 'member', 1);
    expect(await onB.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: false, error: { code: 'not_owner', details: { nodeId: 'n1' } } });
    // Renewed: still the owner well past the lease's length, and still refused elsewhere.
    await new Promise((r) => setTimeout(r, LEASE_MS * 2));
    expect(await onB.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: false, error: { code: 'not_owner', details: { nodeId: 'n1' } } });
    expect((await listOwners(a.app.ctx.store)).filter((o) => o.meetingId === m.meetingId)).toMatchObject([{ nodeId: 'n1', epoch: 1 }]);
  });

  it('joins through every node at once: exactly one node takes the meeting, the others answer not_owner', async () => {
    const m = await buildMeeting(nodes[0], { members: 3, agendaItems: 1 });
    const ts = await Promise.all(nodes.map((n, i) => tablet(n, m, 'member', i)));
    const acks = await Promise.all(ts.map((t) => t.cmd('meeting:join', { meetingId: m.meetingId })));
    const ok = acks.flatMap((a, i) => (a.ok ? [i] : []));
    expect(ok).toHaveLength(1);
    const owner = `n${ok[0] + 1}`;
    for (const a of acks.filter((x) => !x.ok)) expect(a).toMatchObject({ ok: false, error: { code: 'not_owner', details: { nodeId: owner } } });
    expect((await listOwners(nodes[0].app.ctx.store)).filter((o) => o.meetingId === m.meetingId)).toMatchObject([{ nodeId: owner, epoch: 1 }]);
  });

  it('a live-meeting command and a vote opened through a node that does not own the meeting are refused with not_owner and change nothing', async () => {
    const [a, b] = nodes;
    const m = await buildMeeting(a, { members: 2, agendaItems: 1 });
    const chairA = await tablet(a, m, 'chair');
    expect(await chairA.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    const chairB = await tablet(b, m, 'chair');
    expect(await chairB.cmd('meeting:open', { meetingId: m.meetingId, overrideReason: 'thử', commandId: newCommandId() })).toMatchObject({ ok: false, error: { code: 'not_owner' } });
    const sql = testSql(a);
    expect(await sql.value('SELECT status FROM meetings WHERE id = ?', m.meetingId)).not.toBe('live');
    expect(await chairA.cmd('meeting:open', { meetingId: m.meetingId, overrideReason: 'thử', commandId: newCommandId() })).toMatchObject({ ok: true });
    const created = await (await m.as('secretary')).post(`/api/meetings/${m.meetingId}/votes`, { title: 'Thông qua chương trình', kind: 'motion', secret: false });
    const voteId = created.body.id as number;
    expect(await chairB.cmd('vote:open', { voteId, overrideReason: 'thử', commandId: newCommandId() })).toMatchObject({ ok: false, error: { code: 'not_owner' } });
    expect(await sql.value('SELECT state FROM votes WHERE id = ?', voteId)).toBe('draft');
    expect(await chairA.cmd('vote:open', { voteId, overrideReason: 'thử', commandId: newCommandId() })).toMatchObject({ ok: true });
  });

  it('a timed vote is closed once, by its meeting’s owner, when its time is up', { timeout: 180_000 }, async () => {
    const [a] = nodes;
    const m = await buildMeeting(a, { members: 2, agendaItems: 1 });
    const chair = await tablet(a, m, 'chair');
    expect(await chair.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    expect(await chair.cmd('meeting:open', { meetingId: m.meetingId, overrideReason: 'thử', commandId: newCommandId() })).toMatchObject({ ok: true });
    const created = await (await m.as('secretary')).post(`/api/meetings/${m.meetingId}/votes`, { title: 'Biểu quyết có hạn giờ', kind: 'motion', secret: false, durationSeconds: 10 });
    expect(created.status).toBe(201);
    const voteId = created.body.id as number;
    expect(await chair.cmd('vote:open', { voteId, overrideReason: 'thử', commandId: newCommandId() })).toMatchObject({ ok: true });
    await until(() => chair.pushes('vote:closed').some((d: { vote: { id: number } }) => d.vote.id === voteId), { timeout: 30_000, what: 'vote:closed' });
    // Every node has had time to run its own timer, if it had one.
    await new Promise((r) => setTimeout(r, 1500));
    const sql = testSql(a);
    expect(Number(await sql.value("SELECT count(*) FROM audit_log WHERE action = 'vote.closed' AND target_id = ?", String(voteId)))).toBe(1);
    expect(chair.pushes('vote:closed').filter((d: { vote: { id: number } }) => d.vote.id === voteId)).toHaveLength(1);
  });

  it('a node that stops gives its meetings up at once: another node takes them over with the next epoch, without waiting for the lease', async () => {
    const c = nodes[2];
    const m = await buildMeeting(nodes[0], { members: 2, agendaItems: 1 });
    const onC = await tablet(c, m, 'member');
    expect(await onC.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    await c.close();
    // Its clients were disconnected (they reconnect through HAProxy to the next owner).
    await until(() => !onC.socket.connected, { what: 'socket closed by the stopping node' });
    const onA = await tablet(nodes[0], m, 'member', 1);
    expect(await onA.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    expect((await listOwners(nodes[0].app.ctx.store)).filter((o) => o.meetingId === m.meetingId)).toMatchObject([{ nodeId: 'n1', epoch: 2 }]);
  });
});
