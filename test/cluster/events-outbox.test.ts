import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEvents, EventMeta } from '../../server/events.js';
import { startNodes } from '../helpers/cluster.js';
import { type BuiltMeeting, buildMeeting, editMeeting } from '../helpers/factories.js';
import { type HttpClient, type TestServer, until } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected } from '../helpers/socket.js';
import { testSql } from '../helpers/sql.js';

/**
 * Domain events across nodes (issue #18, server/cluster/outbox.ts): a change made through node B reaches what node A
 * holds (a meeting's room, a user's sockets), through the outbox row written in the change's own transaction. Two
 * plain nodes on one database, no Redis: the database is the only way between them.
 */
describe('domain events reach the other nodes through the transaction that made them', () => {
  let nodes: TestServer[];
  let a: TestServer;
  let b: TestServer;
  const sockets: TestSocket[] = [];
  beforeAll(async () => {
    nodes = await startNodes(2);
    [a, b] = nodes;
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await Promise.allSettled(nodes.map((n) => n.close()));
  });

  /** The same signed-in session, its requests sent to `node`. */
  const on = (node: TestServer, client: HttpClient) => Object.assign(node.anonymous(), { cookie: client.cookie });
  const joinedOn = async (node: TestServer, client: HttpClient, meetingId: number) => {
    const s = await connected(connectSocket(node.url, client, { reconnection: false }));
    sockets.push(s);
    const join = await s.cmd('meeting:join', { meetingId });
    expect(join.ok).toBe(true);
    return s;
  };
  /** `meeting:changed` events node `n` heard from another node, for one meeting. */
  const remoteChanges = (n: TestServer, meetingId: number) => {
    const heard: DomainEvents['meeting:changed'][0][] = [];
    const listener = (e: DomainEvents['meeting:changed'][0], meta?: EventMeta) => {
      if (meta?.remote && e.meetingId === meetingId) heard.push(e);
    };
    n.app.ctx.bus.on('meeting:changed', listener);
    return { heard, off: () => n.app.ctx.bus.off('meeting:changed', listener) };
  };

  it('a participant removed through node B is evicted from the room on node A; the others there hear of the change', async () => {
    const m: BuiltMeeting = await buildMeeting(a, { members: 2 });
    const victim = await joinedOn(a, await m.as('member', 0), m.meetingId);
    const other = await joinedOn(a, await m.as('member', 1), m.meetingId);

    await editMeeting(m, { removeParticipants: [m.members[0]], secretary: on(b, await m.as('secretary')) });

    expect(await victim.waitFor('meeting:access_revoked')).toEqual({ meetingId: m.meetingId });
    // The notification node B wrote for the remaining participant rings on node A too.
    expect(await other.waitFor('notifications:new')).toEqual({ kind: 'meeting_updated' });
    expect(other.pushes('meeting:access_revoked')).toEqual([]);
    // Evicted for good: a push to the room after that no longer reaches the victim.
    const sec = on(b, await m.as('secretary'));
    const agenda = await sec.get(`/api/meetings/${m.meetingId}/agenda`);
    expect((await sec.post(`/api/meetings/${m.meetingId}/agenda/items`, { version: agenda.body.version, title: 'Nội dung thêm qua nút B' })).status).toBe(201);
    await other.waitFor('agenda:changed', (d: { items: { title: string }[] }) => d.items.some((i) => i.title === 'Nội dung thêm qua nút B'));
    expect(victim.pushes('agenda:changed')).toEqual([]);
  });

  it('a logout through node B closes that session’s socket on node A', async () => {
    const m = await buildMeeting(a, { members: 1 });
    const member = await m.as('member', 0);
    const s = await joinedOn(a, member, m.meetingId);
    let reason = '';
    s.socket.once('disconnect', (r) => (reason = r));
    expect((await on(b, member).post('/api/auth/logout')).status).toBe(204);
    await until(() => reason, { what: 'the socket on node A closed' });
    expect(reason).toBe('io server disconnect');
  });

  it('an event committed while node A’s listening connection is broken is delivered once it listens again', async () => {
    const m = await buildMeeting(a, { members: 2 });
    const victim = await joinedOn(a, await m.as('member', 0), m.meetingId);
    const reader = a.app.ctx.outbox!;
    const sql = testSql(a);
    const listeners = () => sql.value<number>("select count(*) from pg_stat_activity where application_name = 'ecabinet-outbox-n1'").then(Number);
    expect(reader.listening).toBe(true);
    expect(await listeners()).toBe(1);
    // Deaf for a few seconds after the break, and no periodic read to cover for it meanwhile.
    reader.setOptions({ reconnectMs: 3_000, pollMs: 600_000 });
    const heard = remoteChanges(a, m.meetingId);
    const listeningWhenHeard: boolean[] = [];
    const onChanged = (e: { meetingId: number }, meta?: EventMeta) => {
      if (meta?.remote && e.meetingId === m.meetingId) listeningWhenHeard.push(reader.listening);
    };
    a.app.ctx.bus.on('meeting:changed', onChanged);
    try {
      await sql.value("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'ecabinet-outbox-n1'");
      await until(() => !reader.listening, { what: 'node A no longer listening' });
      await editMeeting(m, { removeParticipants: [m.members[0]], secretary: on(b, await m.as('secretary')) });
      // Committed while nobody on node A listened: its NOTIFY went nowhere.
      expect(reader.listening).toBe(false);
      expect(await listeners()).toBe(0);
      expect(heard.heard).toEqual([]);
      expect(await victim.waitFor('meeting:access_revoked')).toEqual({ meetingId: m.meetingId });
      expect(heard.heard).toEqual([{ meetingId: m.meetingId, removedUserIds: [m.members[0].id] }]);
      // Read by the catch-up that follows the new LISTEN.
      expect(listeningWhenHeard).toEqual([true]);
    } finally {
      a.app.ctx.bus.off('meeting:changed', onChanged);
      heard.off();
      reader.setOptions({ reconnectMs: 100, pollMs: 15_000 });
    }
  });

  it('a rolled-back transaction delivers nothing; the events committed around it arrive once each, in order', async () => {
    const m = await buildMeeting(a, { members: 1 });
    const heard = remoteChanges(a, m.meetingId);
    try {
      const { store, bus } = b.app.ctx;
      await store.tx((q) => bus.share(q, 'meeting:changed', { meetingId: m.meetingId, removedUserIds: [1] }));
      await expect(
        store.tx(async (q) => {
          await bus.share(q, 'meeting:changed', { meetingId: m.meetingId, removedUserIds: [2] });
          throw new Error('refused after the event was written');
        }),
      ).rejects.toThrow('refused after');
      await store.tx((q) => bus.share(q, 'meeting:changed', { meetingId: m.meetingId, removedUserIds: [3] }));
      await until(() => heard.heard.length >= 2, { what: 'the two committed events on node A' });
      // One more read on node A after both arrived: nothing else turns up (the rolled-back id stays a gap).
      await a.app.ctx.outbox!.read();
      expect(heard.heard).toEqual([
        { meetingId: m.meetingId, removedUserIds: [1] },
        { meetingId: m.meetingId, removedUserIds: [3] },
      ]);
    } finally {
      heard.off();
    }
  });
});
