import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_CODES } from '../../shared/close-codes.js';
import { itemNotesDocName } from '../../shared/protocol/yjs.js';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected } from '../helpers/socket.js';
import { type TestProvider, openProvider } from '../helpers/yjs.js';

describe('attacker: a participant removed from a meeting keeps nothing', () => {
  let s: TestServer;
  let m: BuiltMeeting;
  const sockets: TestSocket[] = [];
  const providers: TestProvider[] = [];
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
    m = await buildMeeting(s, { members: 2, agendaItems: 1 });
  });
  afterAll(async () => {
    for (const x of sockets) x.close();
    for (const p of providers) p.destroy();
    await s.close();
  });

  const socketOf = async (role: 'member' | 'secretary', index = 0) => {
    const sock = await connected(connectSocket(s.url, await m.as(role, index), { reconnection: false }));
    sockets.push(sock);
    const join = await sock.cmd('meeting:join', { meetingId: m.meetingId });
    expect(join.ok).toBe(true);
    return sock;
  };

  it('removing a participant takes both of their sockets out of the room and closes their Yjs documents; no later push reaches them', async () => {
    const victim = await m.as('member', 0);
    const [a, b] = [await socketOf('member', 0), await socketOf('member', 0)];
    const control = await socketOf('member', 1);
    const p = openProvider(s.url, itemNotesDocName(m.meetingId, m.itemIds[0]), victim.cookie);
    providers.push(p);
    await until(() => p.provider.synced, { what: 'provider synced' });
    const closed = new Promise<number>((resolve) => p.provider.on('closed', (e: { code: number }) => resolve(e.code)));

    const sec = await m.as('secretary');
    const meeting = await sec.get(`/api/meetings/${m.meetingId}`);
    const keep = (meeting.body.participants as { userId: number; role: string; canVote: boolean }[])
      .filter((x) => x.userId !== m.members[0].id)
      .map(({ userId, role, canVote }) => ({ userId, role, canVote }));
    const r = await sec.patch(`/api/meetings/${m.meetingId}`, { version: meeting.body.version, participants: keep });
    expect(r.status).toBe(200);

    for (const x of [a, b]) expect(await x.waitFor('meeting:access_revoked')).toEqual({ meetingId: m.meetingId });
    expect(await closed).toBe(CLOSE_CODES.forbidden);
    expect(control.pushes('meeting:access_revoked')).toEqual([]);

    // A push to the meeting after the removal: the secretary joins (presence). The remaining member gets it, the removed one never.
    const seen = { a: a.received.length, b: b.received.length };
    await socketOf('secretary');
    await control.waitFor('presence:changed', (d) => d.changes.some((c: { userId: number; online: boolean }) => c.userId === m.secretary.id && c.online));
    expect(a.received.slice(seen.a).filter(([e]) => e !== 'notifications:new')).toEqual([]);
    expect(b.received.slice(seen.b).filter(([e]) => e !== 'notifications:new')).toEqual([]);

    // Re-joining is refused as if the meeting did not exist.
    const again = await a.cmd('meeting:join', { meetingId: m.meetingId });
    expect(again).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });
});
