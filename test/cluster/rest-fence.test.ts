import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api } from '../../client/services/api.js';
import { startNodes } from '../helpers/cluster.js';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { HttpClient, type TestServer, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';
import { testSql } from '../helpers/sql.js';

/**
 * Writes to a meeting's votes that do not come through its socket room (#18): a draft prepared over REST
 * (POST /api/meetings/:id/votes), a delegation (vote:delegate, from a socket on any node). Only the meeting's
 * owner makes them, under its lease; another node answers not_owner and changes nothing — else the owner's
 * tablets never hear of the draft (the push went to the other node's empty room) and the owner's open votes
 * count with delegations it does not know. The web client sends a refused request once more.
 */
describe('REST and off-room writes of a meeting go to its owner', () => {
  let nodes: TestServer[];
  const sockets: TestSocket[] = [];
  const tablet = async (server: TestServer, m: BuiltMeeting, role: 'chair' | 'secretary' | 'member', index = 0) => {
    const t = await connected(connectSocket(server.url, await m.as(role, index), { reconnection: false }));
    sockets.push(t);
    return t;
  };
  /** The same signed-in user's requests to another node (sessions are in the shared database). */
  const on = (server: TestServer, c: HttpClient) => Object.assign(new HttpClient(server.url), { cookie: c.cookie });

  beforeAll(async () => {
    nodes = await startNodes(2, { config: { cluster: { leaseMs: 1500 } } });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await Promise.allSettled(nodes.map((n) => n.close()));
  });

  it('a vote prepared through a node that does not own the meeting is refused with not_owner; through the owner its tablets get it', async () => {
    const [a, b] = nodes;
    const m = await buildMeeting(a, { members: 2, agendaItems: 1 });
    const chair = await tablet(a, m, 'chair');
    expect(await chair.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    const secretary = await m.as('secretary');
    const refused = await on(b, secretary).post(`/api/meetings/${m.meetingId}/votes`, { title: 'Qua nút khác', kind: 'motion', secret: false });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'not_owner', details: { nodeId: 'n1' } });
    const sql = testSql(a);
    expect(await sql.value('SELECT count(*)::int FROM votes WHERE meeting_id = ?', m.meetingId)).toBe(0);

    const created = await on(a, secretary).post(`/api/meetings/${m.meetingId}/votes`, { title: 'Qua nút chủ', kind: 'motion', secret: false });
    expect(created.status).toBe(201);
    await until(() => chair.pushes('vote:changed').some((d: { vote: { id: number } }) => d.vote.id === created.body.id), { what: 'vote:changed on the owner' });
  });

  it('a delegation sent through a node that does not own the meeting is refused with not_owner and recorded nowhere', async () => {
    const [a, b] = nodes;
    const m = await buildMeeting(a, { members: 2, agendaItems: 1 });
    const chair = await tablet(a, m, 'chair');
    expect(await chair.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    const memberOnB = await tablet(b, m, 'member', 0);
    const ack = await memberOnB.cmd('vote:delegate', { meetingId: m.meetingId, toUserId: m.members[1].id, commandId: newCommandId() });
    expect(ack).toMatchObject({ ok: false, error: { code: 'not_owner', details: { nodeId: 'n1' } } });
    expect(await testSql(a).value('SELECT count(*)::int FROM vote_delegations WHERE meeting_id = ?', m.meetingId)).toBe(0);
    const memberOnA = await tablet(a, m, 'member', 0);
    expect(await memberOnA.cmd('vote:delegate', { meetingId: m.meetingId, toUserId: m.members[1].id, commandId: newCommandId() })).toMatchObject({ ok: true });
  });

  it('the web client sends a request refused with not_owner once more, naming the owner for the load balancer, and only that refusal', async () => {
    let calls = 0;
    const owners: (string | undefined)[] = [];
    const server = http.createServer((req, res) => {
      calls++;
      owners.push(req.headers['x-ecabinet-owner'] as string | undefined);
      res.setHeader('content-type', 'application/json');
      if (req.url === '/owner' && calls === 1) {
        res.statusCode = 409;
        res.end(JSON.stringify({ error: { code: 'not_owner', message: 'not the owner', details: { nodeId: 'n2' } } }));
      } else if (req.url === '/owner') {
        res.statusCode = 201;
        res.end(JSON.stringify({ id: 7 }));
      } else {
        res.statusCode = 409;
        res.end(JSON.stringify({ error: { code: 'conflict', message: 'changed meanwhile' } }));
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const api = new Api({ base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      expect(await api.post('/owner', { title: 'x' })).toEqual({ id: 7 });
      expect(calls).toBe(2);
      // The first attempt goes wherever the load balancer sends it; the second to the owner the refusal named.
      expect(owners).toEqual([undefined, 'n2']);
      calls = 0;
      await expect(api.post('/other', {})).rejects.toMatchObject({ status: 409, code: 'conflict' });
      expect(calls).toBe(1);
    } finally {
      server.close();
    }
  });
});
