import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { command } from '../../shared/protocol/realtime.js';
import { audit } from '../../server/audit/audit.repo.js';
import { auditLog } from '../../server/db/tables.js';
import { AppError } from '../../server/http/errors.js';
import { MODULES } from '../../server/modules.js';
import { hubOptions } from '../../server/realtime/hub.js';
import { type BuiltMeeting, type BuiltUser, buildCommitteeMeeting, buildMeeting, buildUser } from '../helpers/factories.js';
import { type TestServer, startTestServer, until } from '../helpers/server.js';
import { connectSocket, connected, newCommandId, type TestSocket } from '../helpers/socket.js';
import { testSql } from '../helpers/sql.js';

// A tiny domain registered through the same wrapper as the real ones, so the hub's contract
// (validation, dedupe, persistence, error funnel) is tested on its own.
const TEST_COMMANDS = {
  'test:bump': command({ payload: z.strictObject({ meetingId: z.number().int(), by: z.number().int().min(1).max(10) }), ack: z.object({ total: z.number() }), authoritative: true }),
  'test:fail': command({ payload: z.strictObject({}), ack: z.null() }),
  'test:burst': command({ payload: z.strictObject({ meetingId: z.number().int(), n: z.number().int().min(1).max(20) }), ack: z.null() }),
};
let testHub: import('../../server/realtime/hub.js').RealtimeHub;
let handlerCalls = 0;
/** The hub's broadcast for this file's test-only events (the typed one accepts only the protocol's pushes). */
const untyped = (hub: import('../../server/realtime/hub.js').RealtimeHub) => hub as unknown as { broadcast(meetingId: number, event: string, data: unknown, opts?: { first?: Iterable<number> }): void };
MODULES.push({ name: 'test', socket: (hub, ctx) => {
  hub.commands(TEST_COMMANDS, {
    'test:bump': async ({ meetingId, by }, c) => {
      handlerCalls++;
      await c.access(meetingId);
      const total = await c.tx(async (q) => {
        await audit(q, { actorId: c.user.id, action: 'test.bump', targetType: 'meeting', targetId: meetingId, details: { by } });
        const rows = await q.select().from(auditLog).where(eq(auditLog.action, 'test.bump'));
        return { total: rows.reduce((s, r) => s + Number((r.details as { by: number }).by), 0) };
      });
      untyped(hub).broadcast(meetingId, 'test:bumped', total);
      return total;
    },
    'test:fail': () => {
      throw new AppError('vote_closed', 'The vote is closed', 409);
    },
    'test:burst': ({ meetingId, n }, c) => {
      for (let i = 0; i < n; i++) untyped(hub).broadcast(meetingId, 'test:burst', { i }, { first: [c.user.id] });
      return null;
    },
  });
  testHub = hub;
  hub.snapshot('test', (meetingId) => ({ meetingId, hello: 'world' }));
} });

describe('realtime hub', () => {
  let srv: TestServer;
  const sockets: TestSocket[] = [];
  const open = async (user: BuiltUser | null, opts: Parameters<typeof connectSocket>[2] = {}) => {
    const s = connectSocket(srv.url, user ? await srv.login(user.username, user.password) : null, opts);
    sockets.push(s);
    return s;
  };
  /** A published meeting of the test's own: a chair, a secretary, `members` members and `guests` guests. */
  const world = (members = 3, guests = 0, publish = true): Promise<BuiltMeeting> => buildMeeting(srv, { members, guests, agendaItems: 1, publish });

  beforeAll(async () => {
    srv = await startTestServer({ seed: 'admin' });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await srv?.close();
  });

  it('refuses a handshake without a session cookie with unauthenticated', async () => {
    await expect(connected(await open(null, { reconnection: false }))).rejects.toThrow('unauthenticated');
  });

  it('refuses a handshake from a foreign Origin with csrf, accepts our own Origin', async () => {
    const user = await buildUser(srv);
    await expect(connected(await open(user, { origin: 'https://evil.example', reconnection: false }))).rejects.toThrow('csrf');
    await expect(connected(await open(user, { origin: srv.url }))).resolves.toBeTruthy();
  });

  it('refuses another protocol version with protocol_mismatch', async () => {
    await expect(connected(await open(await buildUser(srv), { protocolVersion: 999, reconnection: false }))).rejects.toThrow('protocol_mismatch');
  });

  it('meeting:join returns access, seq and every domain snapshot; a meeting the caller cannot see is not_found', async () => {
    const m = await world(1, 1);
    const s = await connected(await open(m.members[0]));
    const ack = await s.cmd('meeting:join', { meetingId: m.meetingId });
    expect(ack).toMatchObject({ ok: true, data: { meetingId: m.meetingId, access: { role: 'member', canVote: true, canChair: false }, snapshot: { test: { hello: 'world' } } } });
    const g = await connected(await open(m.guests[0]));
    // Another meeting of the same committee, without the guest.
    const other = await buildCommitteeMeeting(m, { publish: true, participants: [{ user: m.chair, role: 'chair' }, { user: m.members[0], role: 'member' }] });
    expect(await g.cmd('meeting:join', { meetingId: other.meetingId })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await g.cmd('meeting:join', { meetingId: 99999 })).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('a malformed payload is acked invalid_payload without calling the handler', async () => {
    const m = await world(1);
    const meetingId = m.meetingId;
    const s = await connected(await open(m.members[0]));
    const before = handlerCalls;
    for (const bad of [undefined, 42, 'x', [1], { meetingId }, { meetingId, by: 99 }, { meetingId, by: 1, extra: true }, { meetingId, by: 1, commandId: 'short' }]) {
      const ack = await s.cmd('test:bump', bad);
      expect(ack).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    }
    expect(handlerCalls).toBe(before);
  });

  it('a database failure before the handler (the command-id look-up) is acked internal, and the server goes on', async () => {
    const m = await world(1);
    const s = await connected(await open(m.members[0]));
    const store = srv.app.ctx.store as unknown as Record<string, unknown>;
    // The look-up reads through store.sqlite on SQLite and store.q on PostgreSQL: both fail for one command.
    const key = srv.app.ctx.store.dialect === 'sqlite' ? 'sqlite' : 'q';
    const own = Object.getOwnPropertyDescriptor(store, key);
    const gone = () => {
      throw new Error('the database is gone');
    };
    Object.defineProperty(store, key, key === 'q' ? { configurable: true, get: gone } : { configurable: true, writable: true, value: async () => gone() });
    let ack: unknown;
    try {
      ack = await s.cmd('test:bump', { meetingId: m.meetingId, by: 1, commandId: newCommandId() });
    } finally {
      if (own) Object.defineProperty(store, key, own);
      else delete store[key];
    }
    expect(ack).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(await s.cmd('test:bump', { meetingId: m.meetingId, by: 1, commandId: newCommandId() })).toMatchObject({ ok: true });
  });

  it('a command without an ack callback is handled and the socket keeps working', async () => {
    const m = await world(1);
    const s = await connected(await open(m.members[0]));
    await s.cmd('meeting:join', { meetingId: m.meetingId });
    s.socket.emit('test:bump', { meetingId: m.meetingId, by: 1 });
    s.socket.emit('test:bump', 'garbage');
    await s.waitFor('test:bumped');
    expect(await s.cmd('clock:sync', {})).toMatchObject({ ok: true });
  });

  it('an event nobody registered is acked unknown_event', async () => {
    const s = await connected(await open(await buildUser(srv)));
    expect(await s.cmd('no:such', {})).toMatchObject({ ok: false, error: { code: 'unknown_event' } });
  });

  it('a thrown domain error becomes a failed ack with its stable code', async () => {
    const s = await connected(await open(await buildUser(srv)));
    expect(await s.cmd('test:fail', {})).toEqual({ ok: false, error: { code: 'vote_closed', message: 'The vote is closed' } });
  });

  it('a flooding socket gets rate_limited acks while another socket is unaffected', async () => {
    const flood = await connected(await open(await buildUser(srv)));
    const calm = await connected(await open(await buildUser(srv)));
    const acks = await Promise.all(Array.from({ length: hubOptions.ratePoints * 3 }, () => flood.cmd('clock:sync', {})));
    expect(acks.filter((a) => !a.ok && a.error.code === 'rate_limited').length).toBeGreaterThanOrEqual(hubOptions.ratePoints);
    expect(await calm.cmd('clock:sync', {})).toMatchObject({ ok: true });
  });

  it('pushes to a meeting room carry an increasing seq and reach only that room', async () => {
    const m = await world(3);
    const meetingId = m.meetingId;
    const a = await connected(await open(m.members[0]));
    const b = await connected(await open(m.members[1]));
    // A participant who did not join the room.
    const outsider = await connected(await open(m.members[2]));
    const joined = await a.cmd('meeting:join', { meetingId });
    await b.cmd('meeting:join', { meetingId });
    await a.cmd('test:bump', { meetingId, by: 2 });
    await a.cmd('test:bump', { meetingId, by: 3 });
    await until(() => b.pushes('test:bumped').length >= 2);
    const seqs = b.received.filter(([e]) => e === 'test:bumped').map(([, p]) => p.seq);
    expect(seqs[1]).toBeGreaterThan(seqs[0]);
    expect(seqs[0]).toBeGreaterThan(joined.ok ? joined.data.seq : 0);
    // Every push b got from the room (a coalesced presence push may fall between the two) is numbered without a gap.
    const room = b.received.filter(([, p]) => p?.meetingId === meetingId).map(([, p]) => p.seq);
    expect(room.slice(1).map((x, i) => x - room[i])).toEqual(room.slice(1).map(() => 1));
    expect(outsider.pushes('test:bumped')).toEqual([]);
  });

  it('a room larger than a slice gets every push once and in seq order; the `first` users are served in the first slice', async () => {
    const m = await world(5);
    const meetingId = m.meetingId;
    const slice = hubOptions.broadcastSlice;
    hubOptions.broadcastSlice = 2;
    // Every emit reaches the adapter (local or, in cluster mode, Redis); a slice targets socket ids, not named rooms.
    const targeted: string[][] = [];
    const adapter = testHub.io.of('/').adapter;
    const broadcast = adapter.broadcast.bind(adapter);
    adapter.broadcast = ((packet, opts) => {
      const rooms = [...opts.rooms];
      if (rooms.length && rooms.every((r) => !r.includes(':'))) targeted.push(rooms);
      return broadcast(packet, opts);
    }) as typeof adapter.broadcast;
    try {
      const members = await Promise.all(m.members.map(async (u) => connected(await open(u))));
      const chair = await connected(await open(m.chair));
      for (const x of members) await x.cmd('meeting:join', { meetingId });
      const joined = await chair.cmd('meeting:join', { meetingId });
      expect(joined.ok).toBe(true);
      await new Promise((r) => setTimeout(r, hubOptions.presenceCoalesceMs + 50));
      targeted.length = 0;
      await chair.cmd('test:burst', { meetingId, n: 5 });
      for (const s of [chair, ...members]) {
        await until(() => s.pushes('test:burst').length >= 5, { what: 'every burst push' });
        const got = s.received.filter(([e]) => e === 'test:burst').map(([, p]) => p);
        expect(got.map((p) => p.data.i)).toEqual([0, 1, 2, 3, 4]);
        expect(got.map((p) => p.seq - got[0].seq)).toEqual([0, 1, 2, 3, 4]);
      }
      // Sliced: no call targets more than 2 sockets, and the first slice of each push holds only sockets of the
      // chair (the `first` user).
      expect(targeted.length).toBeGreaterThanOrEqual(5 * 3);
      expect(Math.max(...targeted.map((t) => t.length))).toBeLessThanOrEqual(2);
      type Data = { user?: { username: string }; meetings?: Set<number> };
      const chairSockets = new Set(
        [...testHub.io.sockets.sockets.values()].filter((x) => (x.data as Data).user?.username === m.chair.username && (x.data as Data).meetings?.has(meetingId)).map((x) => x.id),
      );
      expect(chairSockets.has(chair.socket.id!)).toBe(true);
      const k = Math.min(chairSockets.size, 2);
      expect(targeted[0].slice(0, k).every((id) => chairSockets.has(id)), JSON.stringify({ first: targeted[0], chair: [...chairSockets] })).toBe(true);
    } finally {
      hubOptions.broadcastSlice = slice;
      adapter.broadcast = broadcast;
    }
  });

  it('presence pushes are coalesced: many joins in a burst make few pushes, with every user’s latest state', async () => {
    const m = await world(3);
    const watcher = await connected(await open(m.chair));
    await watcher.cmd('meeting:join', { meetingId: m.meetingId });
    await new Promise((r) => setTimeout(r, hubOptions.presenceCoalesceMs + 50));
    const before = watcher.pushes('presence:changed').length;
    const users = [...m.members, m.secretary];
    const ss = await Promise.all(users.map(async (u) => connected(await open(u))));
    try {
      await Promise.all(ss.map((s) => s.cmd('meeting:join', { meetingId: m.meetingId })));
      const ids = users.map((u) => u.id);
      const seen = () => new Set(watcher.pushes('presence:changed').slice(before).flatMap((d: any) => d.changes.filter((c: any) => c.online).map((c: any) => c.userId)));
      await until(() => ids.every((id) => seen().has(id)), { what: 'every join announced' });
      const pushes = watcher.pushes('presence:changed').slice(before);
      expect(pushes.length).toBeLessThan(users.length);
      expect(Math.max(...pushes.map((d: any) => d.changes.length))).toBeGreaterThanOrEqual(2);
    } finally {
      for (const s of ss) s.close();
    }
  });

  it('presence:changed announces a participant joining and leaving the room', async () => {
    const m = await world(1);
    const watcher = await connected(await open(m.chair));
    await watcher.cmd('meeting:join', { meetingId: m.meetingId });
    const s = await connected(await open(m.members[0]));
    const id = m.members[0].id;
    await s.cmd('meeting:join', { meetingId: m.meetingId });
    await watcher.waitFor('presence:changed', (d) => d.changes.some((c: any) => c.userId === id && c.online));
    s.close();
    await watcher.waitFor('presence:changed', (d) => d.changes.some((c: any) => c.userId === id && !c.online));
  });

  it('notifications:new reaches the invited members’ sockets when a meeting is published, and nobody else', async () => {
    // An unpublished meeting of the committee (no notification yet); the published one invites the chair and member1.
    const m = await world(2, 0, false);
    const invited = await connected(await open(m.members[0]));
    const outsider = await connected(await open(m.members[1]));
    const before = invited.pushes('notifications:new').length;
    await buildCommitteeMeeting(m, { publish: true, participants: [{ user: m.chair, role: 'chair' }, { user: m.members[0], role: 'member' }] });
    await until(() => invited.pushes('notifications:new').length > before, { what: 'notifications:new' });
    expect(invited.pushes('notifications:new').at(-1)).toEqual({ kind: 'meeting_published' });
    expect(outsider.pushes('notifications:new').filter((d: any) => d.kind === 'meeting_published')).toEqual([]);
    // The list it points to has the notification.
    const list = (await (await m.login(m.members[0])).get('/api/notifications')).body;
    expect(list.notifications.some((n: any) => n.kind === 'meeting_published')).toBe(true);
  });

  it('a logout closes that session’s sockets at once (no more pushes); the same user’s other session stays connected', async () => {
    const m = await world(1);
    const http = await m.login(m.members[0]);
    const other = await m.login(m.members[0]);
    const s = await connected(connectSocket(srv.url, http, { reconnection: false }));
    const o = await connected(connectSocket(srv.url, other, { reconnection: false }));
    sockets.push(s, o);
    await s.cmd('meeting:join', { meetingId: m.meetingId });
    await o.cmd('meeting:join', { meetingId: m.meetingId });
    await http.post('/api/auth/logout');
    await until(() => !s.socket.connected, { what: 'the signed-out socket closed' });
    expect(o.socket.connected).toBe(true);
    expect(await o.cmd('clock:sync', {})).toMatchObject({ ok: true });
    // A reconnect with the ended session is refused at the handshake.
    await expect(connected(connectSocket(srv.url, http, { reconnection: false }))).rejects.toThrow('unauthenticated');
  });

  it('deactivating a user closes every socket of theirs at once', async () => {
    const admin = await srv.login('admin');
    const user = await buildUser(srv, { admin });
    const s = await connected(connectSocket(srv.url, await srv.login(user.username, user.password), { reconnection: false }));
    sockets.push(s);
    expect((await admin.patch(`/api/users/${user.id}`, { active: false })).status).toBe(200);
    await until(() => !s.socket.connected, { what: 'the deactivated user’s socket closed' });
  });

  it('a session that ended without notice (expired) is refused at the next command and the socket is closed', async () => {
    const user = await buildUser(srv);
    const s = await connected(connectSocket(srv.url, await srv.login(user.username, user.password), { reconnection: false }));
    sockets.push(s);
    expect(await s.cmd('clock:sync', {})).toMatchObject({ ok: true });
    hubOptions.sessionRecheckMs = 0;
    try {
      (await testSql(srv).run("UPDATE sessions SET expires_at = '2000-01-01T00:00:00.000Z' WHERE user_id = ?", user.id));
      expect(await s.cmd('clock:sync', {})).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
      await until(() => !s.socket.connected, { what: 'socket closed' });
    } finally {
      hubOptions.sessionRecheckMs = 30_000;
    }
  });

  it('a retried command with the same commandId is applied once and gets the same ack, also after a restart', async () => {
    const m = await world(1);
    const meetingId = m.meetingId;
    const s = await connected(await open(m.secretary));
    const commandId = newCommandId();
    const first = await s.cmd('test:bump', { meetingId, by: 5, commandId });
    const calls = handlerCalls;
    const again = await Promise.all([s.cmd('test:bump', { meetingId, by: 5, commandId }), s.cmd('test:bump', { meetingId, by: 5, commandId })]);
    expect(first.ok).toBe(true);
    expect(again).toEqual([first, first]);
    expect(handlerCalls).toBe(calls);

    s.close();
    const dataDir = srv.dataDir;
    await srv.close();
    srv = await startTestServer({ seed: 'admin', dataDir });
    const t = await connected(await open(m.secretary));
    expect(await t.cmd('test:bump', { meetingId, by: 5, commandId })).toEqual(first);
    expect(handlerCalls).toBe(calls);
    const next = await t.cmd('test:bump', { meetingId, by: 1, commandId: newCommandId() });
    expect(next).toEqual({ ok: true, data: { total: (first.ok ? first.data.total : 0) + 1 } });
  });
});
