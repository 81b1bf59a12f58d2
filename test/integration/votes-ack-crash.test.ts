import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildServer } from '../helpers/child-server.js';
import { buildMeeting } from '../helpers/factories.js';
import { type HttpClient, type TestServer, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';

/**
 * A ballot's command acknowledgement is committed with the ballot (server/votes/votes.repo.ts
 * `writeBallots`): after kill -9 a retry of the command is answered from the record, not cast again.
 */
describe('vote:cast acknowledgements survive kill -9', () => {
  let child: ChildServer;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    child = await ChildServer.create({ ECABINET_SEED: 'admin' });
    await child.start();
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await child?.dispose();
  });

  it('a ballot acknowledged before kill -9: its retry after the restart (same commandId, other choices) gets the original acknowledgement and changes nothing', async () => {
    const m = await buildMeeting(child as unknown as TestServer, { members: 1, agendaItems: 1 });
    const meetingId = m.meetingId;
    const secretary: HttpClient = await m.as('secretary');
    const connect = async (http: HttpClient) => {
      const t = await connected(connectSocket(child.url, http));
      sockets.push(t);
      return t;
    };
    const chair = await connect(await m.as('chair'));
    const sec = await connect(secretary);
    expect(await sec.cmd('attendance:check_in', { meetingId, userId: m.members[0].id, mode: 'in_room', commandId: newCommandId() })).toMatchObject({ ok: true });
    // One member checked in: no quorum, opened with the chair's reason.
    expect(await chair.cmd('meeting:open', { meetingId, overrideReason: 'Thử nghiệm' })).toMatchObject({ ok: true });
    const created = await secretary.post(`/api/meetings/${meetingId}/votes`, { title: 'Biểu quyết công khai', kind: 'motion', secret: false });
    const voteId = created.body.id as number;
    expect(await chair.cmd('vote:open', { voteId, overrideReason: 'Thử nghiệm', commandId: newCommandId() })).toMatchObject({ ok: true });
    const member = await connect(await m.login(m.members[0]));
    const commandId = newCommandId();
    const original = await member.cmd('vote:cast', { voteId, choices: [0], commandId });
    expect(original).toMatchObject({ ok: true, data: { voteId, counted: true } });

    await child.kill9();
    await child.start();
    await until(() => member.socket.connected, { what: 'tablet reconnected', timeout: 20_000 });
    expect(await member.cmd('vote:cast', { voteId, choices: [1], commandId })).toEqual(original);
    expect(await member.cmd('vote:mine', { voteId })).toMatchObject({ ok: true, data: { hasVoted: true, choices: [0] } });
    expect((await secretary.get(`/api/votes/${voteId}`)).body.voted).toBe(1);
  }, 180_000); // a restart of the real server: slow on a loaded machine
});
