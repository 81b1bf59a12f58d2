import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildServer } from '../helpers/child-server.js';
import { buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';
import { testSql } from '../helpers/sql.js';

/**
 * An authoritative command's id is recorded in the transaction of its effect (server/realtime/commands.repo.ts
 * `commandTx`). The crash point is real: with `ECABINET_TEST_CRASH_AFTER_COMMAND=<event>` (NODE_ENV=test only)
 * the server SIGKILLs itself once that command's handler returned — its effect committed — before anything
 * else is written or the client is answered. The retry after the restart must find the acknowledgement.
 */
describe('a command id is recorded with its effect: a retry after kill -9 gets the original result', () => {
  let child: ChildServer;
  // Kept by the child and read at every start: the test moves the crash point between restarts.
  const env: Record<string, string> = { ECABINET_SEED: 'admin', ECABINET_TEST_CRASH_AFTER_COMMAND: 'vote:create' };
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    child = await ChildServer.create(env);
    await child.start();
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await child?.dispose();
  });

  it('vote:create and vote:close killed right after their commit: the retry with the same id is answered, the vote exists once and closes once', async () => {
    const m = await buildMeeting(child as unknown as TestServer, { members: 1, agendaItems: 1 });
    const meetingId = m.meetingId;
    const chair = await connected(connectSocket(child.url, await m.as('chair')));
    sockets.push(chair);
    const sec = await connected(connectSocket(child.url, await m.as('secretary')));
    sockets.push(sec);
    expect(await sec.cmd('attendance:check_in', { meetingId, userId: m.members[0].id, mode: 'in_room', commandId: newCommandId() })).toMatchObject({ ok: true });
    expect(await chair.cmd('meeting:open', { meetingId, overrideReason: 'Thử nghiệm' })).toMatchObject({ ok: true });
    const restart = async (crashAfter: string | null) => {
      if (crashAfter) env.ECABINET_TEST_CRASH_AFTER_COMMAND = crashAfter;
      else delete env.ECABINET_TEST_CRASH_AFTER_COMMAND;
      await child.kill9(); // dead by its own SIGKILL already: this waits for its end
      await child.start();
      await until(() => chair.socket.connected, { what: 'the chair’s tablet reconnected', timeout: 30_000 });
    };
    const sql = await child.sql();
    try {
      // The server dies with the vote committed and the chair unanswered.
      const createId = newCommandId();
      const vote = { title: `Biểu quyết ${createId.slice(0, 8)}`, kind: 'motion', secret: false };
      await expect(chair.cmd('vote:create', { meetingId, vote, commandId: createId })).rejects.toThrow();
      expect(await sql.value('SELECT count(*) FROM votes WHERE meeting_id = ?', meetingId)).toBe(1);

      await restart('vote:close');
      const created = await chair.cmd('vote:create', { meetingId, vote, commandId: createId });
      expect(created).toMatchObject({ ok: true, data: { vote: { meetingId, title: vote.title, state: 'draft' } } });
      const voteId = created.ok ? (created.data.vote.id as number) : 0;
      expect(await sql.column('SELECT id FROM votes WHERE meeting_id = ?', meetingId)).toEqual([voteId]);
      expect(await chair.cmd('vote:create', { meetingId, vote: { ...vote, title: 'Khác' }, commandId: createId })).toEqual(created);

      expect(await chair.cmd('vote:open', { voteId, overrideReason: 'Thử nghiệm', commandId: newCommandId() })).toMatchObject({ ok: true });
      const member = await connected(connectSocket(child.url, await m.login(m.members[0])));
      sockets.push(member);
      expect(await member.cmd('vote:cast', { voteId, choices: [0], commandId: newCommandId() })).toMatchObject({ ok: true });
      const closeId = newCommandId();
      await expect(chair.cmd('vote:close', { voteId, commandId: closeId })).rejects.toThrow();
      expect(await sql.value('SELECT state FROM votes WHERE id = ?', voteId)).toBe('closed');

      await restart(null);
      const closed = await chair.cmd('vote:close', { voteId, commandId: closeId });
      expect(closed).toMatchObject({ ok: true, data: { vote: { id: voteId, state: 'closed', voted: 1 } } });
      expect(await chair.cmd('vote:close', { voteId, commandId: closeId })).toEqual(closed);
      expect(await sql.value("SELECT count(*) FROM audit_log WHERE action = 'vote.closed' AND target_id = ?", String(voteId))).toBe(1);
      // A new id is a new command: refused, the vote being closed.
      expect(await chair.cmd('vote:close', { voteId, commandId: newCommandId() })).toMatchObject({ ok: false, error: { code: 'vote_closed' } });
    } finally {
      sql.close();
    }
  }, 300_000); // three starts of the real server: slow on a loaded machine
});

describe('command ids are per user', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('the chair and the secretary sending the same commandId each get their own vote; each one’s retry gets their own', async () => {
    const m = await buildMeeting(s, { agendaItems: 1 });
    const chair = await connected(connectSocket(s.url, await m.as('chair')));
    const sec = await connected(connectSocket(s.url, await m.as('secretary')));
    try {
      const commandId = newCommandId();
      const send = (t: TestSocket, title: string) => t.cmd('vote:create', { meetingId: m.meetingId, vote: { title, kind: 'motion', secret: false }, commandId });
      const [a, b] = await Promise.all([send(chair, 'Của chủ tọa'), send(sec, 'Của thư ký')]);
      expect(a).toMatchObject({ ok: true, data: { vote: { title: 'Của chủ tọa' } } });
      expect(b).toMatchObject({ ok: true, data: { vote: { title: 'Của thư ký' } } });
      expect(await send(chair, 'Lần nữa')).toEqual(a);
      expect(await send(sec, 'Lần nữa')).toEqual(b);
      expect(await testSql(s).column('SELECT title FROM votes WHERE meeting_id = ? ORDER BY title', m.meetingId)).toEqual(['Của chủ tọa', 'Của thư ký']);
    } finally {
      chair.close();
      sec.close();
    }
  });
});
