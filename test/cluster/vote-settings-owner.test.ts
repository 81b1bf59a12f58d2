import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOwners } from '../../server/cluster/cluster.service.js';
import { startNodes } from '../helpers/cluster.js';
import { buildMeeting } from '../helpers/factories.js';
import { HttpClient, type TestServer, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';

/**
 * A committee's voting rules changed through a node that does not run the meeting (issue #18): the open vote on
 * the owner node follows them, as it would on one node and as it would after a failover (the next owner reads
 * them afresh) — never silently kept on the owner only.
 */
describe('committee vote settings across nodes', () => {
  let nodes: TestServer[];
  const sockets: TestSocket[] = [];
  const tablet = async (server: TestServer, http: HttpClient) => {
    const t = await connected(connectSocket(server.url, http, { reconnection: false }));
    sockets.push(t);
    return t;
  };
  const via = (server: TestServer, c: HttpClient) => {
    const x = new HttpClient(server.url);
    x.cookie = c.cookie;
    return x;
  };

  beforeAll(async () => {
    nodes = await startNodes(2, { config: { cluster: { leaseMs: 1500 } } });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await Promise.allSettled(nodes.map((n) => n.close()));
  });

  it('a delegator barred from voting by a change made through the other node is refused by the owner, mid-vote', async () => {
    const [a, b] = nodes;
    const m = await buildMeeting(a, { members: 3, agendaItems: 1 });
    const secretary = await m.as('secretary');
    expect((await secretary.put(`/api/committees/${m.committeeId}/vote-settings`, { delegatorMayVote: true })).status).toBe(200);
    const chair = await tablet(a, await m.as('chair'));
    const sec = await tablet(a, secretary);
    expect(await chair.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    for (const u of m.members) expect(await sec.cmd('attendance:check_in', { meetingId: m.meetingId, userId: u.id, mode: 'in_room', commandId: newCommandId() })).toMatchObject({ ok: true });
    expect(await chair.cmd('meeting:open', { meetingId: m.meetingId, commandId: newCommandId() })).toMatchObject({ ok: true });
    const [x, y] = await Promise.all(m.members.slice(0, 2).map(async (u) => tablet(a, await m.login(u))));
    expect(await x.cmd('vote:delegate', { meetingId: m.meetingId, toUserId: m.members[1].id, commandId: newCommandId() })).toMatchObject({ ok: true });
    const created = await secretary.post(`/api/meetings/${m.meetingId}/votes`, { title: 'Thông qua quy chế', kind: 'motion', secret: false });
    const voteId = created.body.id as number;
    expect(await chair.cmd('vote:open', { voteId, commandId: newCommandId() })).toMatchObject({ ok: true });
    expect(await x.cmd('vote:mine', { voteId })).toMatchObject({ ok: true, data: { canVote: true } });

    // The secretary's browser reaches the other node (HAProxy's round robin for REST).
    const changed = await via(b, secretary).put(`/api/committees/${m.committeeId}/vote-settings`, { delegatorMayVote: false });
    expect(changed.status).toBe(200);
    expect((await listOwners(a.app.ctx.store)).filter((o) => o.meetingId === m.meetingId)).toMatchObject([{ nodeId: 'n1' }]);
    await until(
      async () => {
        const mine = await x.cmd('vote:mine', { voteId });
        return mine.ok && mine.data.reason === 'vote_delegated';
      },
      { timeout: 10_000, interval: 100, what: 'the owner to apply the new rule to the open vote' },
    );
    expect(await x.cmd('vote:cast', { voteId, choices: [0], commandId: newCommandId() })).toMatchObject({ ok: false, error: { code: 'vote_delegated' } });
    // Their proxy casts their vote instead, once.
    expect(await y.cmd('vote:cast', { voteId, choices: [1], onBehalfOf: m.members[0].id, commandId: newCommandId() })).toMatchObject({ ok: true });
    const closed = await chair.cmd('vote:close', { voteId, commandId: newCommandId() });
    expect(closed).toMatchObject({ ok: true, data: { vote: { result: { counts: [0, 1], voted: 1 } } } });
  });
});
