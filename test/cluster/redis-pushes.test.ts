import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltMeeting, buildMeeting, buildUser, editMeeting } from '../helpers/factories.js';
import { startNodes } from '../helpers/cluster.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../helpers/redis.js';
import { type HttpClient, type TestServer, startTestServer, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected } from '../helpers/socket.js';

/**
 * Issue #18: a user's sockets may be on any node; what concerns the user (a logout, a deactivation, a
 * notification, a meeting taken away) reaches them on every node through Redis (server/realtime/redis.ts), and a
 * Redis restart or outage costs no node and no push made after Redis is back.
 */
describe('per-user pushes and disconnections reach every node through Redis', () => {
  let redis: ThrowawayRedis;
  let nodes: TestServer[];
  let a: TestServer;
  let b: TestServer;
  let c: TestServer;
  let admin: HttpClient;
  const sockets: TestSocket[] = [];
  beforeAll(async () => {
    redis = await startThrowawayRedis();
    nodes = await startNodes(3, { redisUrl: redis.url });
    [a, b, c] = nodes;
    admin = await a.login('admin');
  }, 120_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await Promise.allSettled(nodes.map((n) => n.close()));
    await redis.stop();
  });

  /** A socket of `http`'s session connected to `node` (no reconnection: a closed socket stays closed). */
  const socketOn = async (node: TestServer, http: HttpClient) => {
    const s = await connected(connectSocket(node.url, http, { reconnection: false }));
    sockets.push(s);
    return s;
  };
  /** The same session's cookie, used against another node (sessions live in the shared database). */
  const on = (node: TestServer, http: HttpClient) => {
    const other = node.anonymous();
    other.cookie = http.cookie;
    return other;
  };

  it('a logout through node A closes that session’s sockets on B and C; the same user’s other session stays connected', async () => {
    const user = await buildUser(a, { admin });
    const session = await a.login(user.username, user.password);
    const other = await a.login(user.username, user.password);
    const [onB, onC] = [await socketOn(b, session), await socketOn(c, session)];
    const otherOnB = await socketOn(b, other);
    expect((await session.post('/api/auth/logout')).status).toBe(204);
    await until(() => !onB.socket.connected && !onC.socket.connected, { what: 'the signed-out session’s sockets on B and C closed' });
    expect(otherOnB.socket.connected).toBe(true);
    expect(await otherOnB.cmd('clock:sync', {})).toMatchObject({ ok: true });
  });

  it('deactivating a user through node A closes their sockets on B and C', async () => {
    const user = await buildUser(a, { admin });
    const http = await b.login(user.username, user.password);
    const [onB, onC] = [await socketOn(b, http), await socketOn(c, http)];
    expect((await admin.patch(`/api/users/${user.id}`, { active: false })).status).toBe(200);
    await until(() => !onB.socket.connected && !onC.socket.connected, { what: 'the deactivated user’s sockets on B and C closed' });
  });

  it('a notification created through node A reaches the recipient’s socket on node B', async () => {
    const m = await buildMeeting(a, { members: 1, agendaItems: 1, publish: false });
    const member = await socketOn(b, on(b, await m.as('member')));
    const sec = await m.as('secretary');
    expect((await sec.post(`/api/meetings/${m.meetingId}/publish`)).status).toBe(200);
    expect(await member.waitFor('notifications:new', (d) => d.kind === 'meeting_published')).toEqual({ kind: 'meeting_published' });
  });

  it('a participant removed through node A is told on their sockets on B and C, and the other members are not', async () => {
    const m: BuiltMeeting = await buildMeeting(a, { members: 2, agendaItems: 1 });
    const victim = await m.as('member', 0);
    const [onB, onC] = [await socketOn(b, on(b, victim)), await socketOn(c, on(c, victim))];
    const control = await socketOn(b, on(b, await m.as('member', 1)));
    await editMeeting(m, { removeParticipants: [m.members[0]] });
    for (const s of [onB, onC]) expect(await s.waitFor('meeting:access_revoked')).toEqual({ meetingId: m.meetingId });
    // Told once per socket, though every node checked its own sockets.
    await new Promise((r) => setTimeout(r, 300));
    for (const s of [onB, onC]) expect(s.pushes('meeting:access_revoked')).toHaveLength(1);
    expect(control.pushes('meeting:access_revoked')).toEqual([]);
  });

  it('sign-in attempts made through different nodes count together', async () => {
    const user = await buildUser(a, { admin });
    const attempt = (node: TestServer) => node.anonymous().post('/api/auth/login', { username: user.username, password: 'wrong-password-123' }, { 'x-forwarded-for': '10.9.8.7' });
    // The limit is 5 per account and source (startTestServer's loginLimits): 2 wrong on each node, then a 7th.
    const codes: string[] = [];
    for (const node of [a, b, c, a, b, c]) codes.push((await attempt(node)).body.error.code);
    expect(codes.slice(0, 5)).toEqual(Array(5).fill('invalid_credentials'));
    expect(codes[5]).toBe('rate_limited');
    expect((await attempt(b)).status).toBe(429);
    // The right password from that address waits too (the lockout is shared), and from another address it works.
    expect((await c.anonymous().post('/api/auth/login', { username: user.username, password: user.password }, { 'x-forwarded-for': '10.9.8.7' })).status).toBe(429);
    expect((await c.anonymous().post('/api/auth/login', { username: user.username, password: user.password }, { 'x-forwarded-for': '10.9.8.8' })).status).toBe(200);
  });
});

describe('Redis restarted or away during a meeting', () => {
  let redis: ThrowawayRedis;
  let nodes: TestServer[];
  const logged: string[] = [];
  const sockets: TestSocket[] = [];
  beforeAll(async () => {
    redis = await startThrowawayRedis();
    nodes = await startNodes(1, { redisUrl: redis.url });
    // The second node records its log: what it says while Redis is away.
    nodes.push(
      await startTestServer({
        dataDir: nodes[0].dataDir,
        logLevel: 'info',
        logTo: { write: (line: string) => void logged.push(line) },
        config: { cluster: { nodeId: 'n2', redisUrl: redis.url } },
      }),
    );
  }, 120_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await Promise.allSettled(nodes.map((n) => n.close()));
    await redis.stop();
  });

  it('after a restart of Redis a per-user push from A reaches B; meanwhile the meeting goes on; while Redis is down the nodes log and serve', async () => {
    const [a, b] = nodes;
    const m = await buildMeeting(a, { members: 2, agendaItems: 1 });
    const member = await m.as('member', 0);
    const onB = await connected(connectSocket(b.url, member, { reconnection: false }));
    const chairOnB = await connected(connectSocket(b.url, await m.as('chair'), { reconnection: false }));
    sockets.push(onB, chairOnB);
    expect((await onB.cmd('meeting:join', { meetingId: m.meetingId })).ok).toBe(true);
    expect((await chairOnB.cmd('meeting:join', { meetingId: m.meetingId })).ok).toBe(true);

    await redis.restart();
    // A later notification made through A (the member invited to another meeting) reaches the socket on B.
    const before = onB.pushes('notifications:new').length;
    const other = await buildMeeting(a, { members: 1, agendaItems: 1, publish: false });
    await editMeeting(other, { addParticipants: [{ user: m.members[0], role: 'member' }] });
    expect((await (await other.as('secretary')).post(`/api/meetings/${other.meetingId}/publish`)).status).toBe(200);
    await until(() => onB.pushes('notifications:new').length > before, { what: 'notifications:new on B after the Redis restart' });

    // Redis away: every node keeps serving (sign-in counts in memory, meeting pushes are local), and says why.
    await redis.kill();
    const signedIn = await b.login(m.members[1].username, m.members[1].password);
    const presence = chairOnB.received.length;
    const third = await connected(connectSocket(b.url, signedIn, { reconnection: false }));
    sockets.push(third);
    expect((await third.cmd('meeting:join', { meetingId: m.meetingId })).ok).toBe(true);
    await until(() => chairOnB.received.slice(presence).some(([e]) => e === 'presence:changed'), { what: 'a meeting push while Redis is down' });
    await until(() => logged.some((l) => l.includes('Redis unreachable')), { what: 'the node logged the outage' });

    // Back: a push made after that reaches B again.
    await redis.restart();
    const after = onB.pushes('notifications:new').length;
    const last = await buildMeeting(a, { members: 1, agendaItems: 1, publish: false });
    await editMeeting(last, { addParticipants: [{ user: m.members[0], role: 'member' }] });
    expect((await (await last.as('secretary')).post(`/api/meetings/${last.meetingId}/publish`)).status).toBe(200);
    await until(() => onB.pushes('notifications:new').length > after, { what: 'notifications:new on B after Redis came back', timeout: 15_000 });
    expect(onB.socket.connected).toBe(true);
  }, 90_000);
});
