import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../server/db/store.js';
import { startNodes } from '../helpers/cluster.js';
import { type BuiltMeeting, buildMeeting } from '../helpers/factories.js';
import type { TestServer } from '../helpers/server.js';
import { type TestSocket, connectSocket, connected, newCommandId } from '../helpers/socket.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A node runs many meetings (#18), and its ballot queue is the node's: a chair's `vote:close` commits the ballots
 * queued before it, then closes. It waited until the queue was EMPTY — while another meeting's tablets kept
 * voting, every batch found the next one queued, and the close (and everything behind it: the chair's screen, the
 * round of the failover drill under load) waited as long as anyone on the node voted. Here meeting B's tablets
 * stream ballots for 3 s on a database where each ballot batch takes 40 ms (a loaded PostgreSQL; the batches run
 * back to back), and meeting A's chair closes A's vote half a second in: the close must be answered while B is
 * still voting, with A's acknowledged ballots counted, and B's ballots all acknowledged.
 */
describe('a vote:close while another meeting of the node votes', () => {
  let nodes: TestServer[];
  const sockets: TestSocket[] = [];
  const tablet = async (server: TestServer, m: BuiltMeeting, role: 'chair' | 'secretary' | 'member', index = 0) => {
    const t = await connected(connectSocket(server.url, await m.as(role, index), { reconnection: false }));
    sockets.push(t);
    expect(await t.cmd('meeting:join', { meetingId: m.meetingId })).toMatchObject({ ok: true });
    return t;
  };
  /** A command whose answer may take long on the old code (the helper's `cmd` gives up after 5 s). */
  const send = (t: TestSocket, event: string, payload: unknown, ms = 60_000) => t.socket.timeout(ms).emitWithAck(event, payload);

  beforeAll(async () => {
    nodes = await startNodes(1, { config: { cluster: { leaseMs: 60_000 } } });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await Promise.allSettled(nodes.map((n) => n.close()));
  });

  /** A live meeting on the node, its members checked in, with `votes` open named votes. */
  async function liveMeeting(members: number, votes: number) {
    const [node] = nodes;
    const m = await buildMeeting(node, { members, agendaItems: 1 });
    const chair = await tablet(node, m, 'chair');
    const sec = await tablet(node, m, 'secretary');
    for (const u of m.members) expect(await sec.cmd('attendance:check_in', { meetingId: m.meetingId, userId: u.id, mode: 'in_room', commandId: newCommandId() })).toMatchObject({ ok: true });
    expect(await chair.cmd('meeting:open', { meetingId: m.meetingId, overrideReason: 'thử', commandId: newCommandId() })).toMatchObject({ ok: true });
    const secHttp = await m.as('secretary');
    const voteIds: number[] = [];
    for (let i = 0; i < votes; i++) {
      const created = await secHttp.post(`/api/meetings/${m.meetingId}/votes`, { title: `Biểu quyết ${i + 1}`, kind: 'motion', secret: false });
      expect(created.status).toBe(201);
      expect(await chair.cmd('vote:open', { voteId: created.body.id, overrideReason: 'thử', commandId: newCommandId() })).toMatchObject({ ok: true });
      voteIds.push(created.body.id as number);
    }
    const voters: TestSocket[] = [];
    for (let i = 0; i < members; i++) voters.push(await tablet(node, m, 'member', i));
    return { m, chair, voters, voteIds };
  }

  it('is answered while the other meeting still streams ballots, with its own acknowledged ballots counted', async () => {
    const a = await liveMeeting(2, 1);
    const b = await liveMeeting(10, 25);
    const store = nodes[0].app.ctx.store as Store & { atomic: Store['atomic'] };
    const atomic = store.atomic.bind(store);
    // A loaded database: each ballot batch (one statement, in the node's transaction turn) takes 40 ms.
    store.atomic = (fn, label) => atomic(async (q) => (await sleep(40), fn(q)), label);
    try {
      // A's members vote first: acknowledged before the close, so the close must count them.
      for (const [i, v] of a.voters.entries()) expect(await v.cmd('vote:cast', { voteId: a.voteIds[0], choices: [i % 2], commandId: newCommandId() })).toMatchObject({ ok: true });

      // B's tablets: one ballot every 12 ms for 3 s (10 members × 25 votes), never waiting for the answers.
      const casts: Promise<{ ok: boolean }>[] = [];
      let streamEnded = 0;
      const stream = (async () => {
        for (const voteId of b.voteIds)
          for (const [i, v] of b.voters.entries()) {
            casts.push(send(v, 'vote:cast', { voteId, choices: [i % 2], commandId: crypto.randomUUID() }));
            await sleep(12);
          }
        streamEnded = performance.now();
      })();

      await sleep(500);
      const sent = performance.now();
      const closed = await send(a.chair, 'vote:close', { voteId: a.voteIds[0], commandId: newCommandId() });
      const answered = performance.now();
      expect(closed).toMatchObject({ ok: true, data: { vote: { state: 'closed', result: { voted: 2, counts: [1, 1] } } } });
      // Answered while B still votes (the old code answered only once B's stream had ended, ≥ 2.5 s later).
      expect(streamEnded, `the close took ${Math.round(answered - sent)} ms`).toBe(0);
      expect(answered - sent).toBeLessThan(2000);

      await stream;
      const acks = await Promise.all(casts);
      expect(acks.filter((x) => !x.ok)).toEqual([]);
      expect(acks).toHaveLength(250);
    } finally {
      store.atomic = atomic;
    }
  });
});
