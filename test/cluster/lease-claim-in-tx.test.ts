import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodes } from '../helpers/cluster.js';
import { buildMeeting } from '../helpers/factories.js';
import type { TestServer } from '../helpers/server.js';

/**
 * A lease acquisition (#18) runs its hooks (the votes' timers resumed, an overdue vote closed, the ballots
 * before it flushed), which need the node's transaction turn: `claim` awaited inside a transaction would wait
 * on itself, the node's every write behind it while PostgreSQL shows only an idle transaction. It is refused
 * there, loudly, and the acquisition never runs in its caller's transaction.
 */
describe('claiming a meeting inside a transaction', () => {
  let nodes: TestServer[];

  beforeAll(async () => {
    nodes = await startNodes(1, { config: { cluster: { leaseMs: 60_000 } } });
  });
  afterAll(async () => {
    await Promise.allSettled(nodes.map((n) => n.close()));
  });

  it('refuses a claim made inside a transaction (its hooks need the transaction turn the caller holds) and takes no lease in it', async () => {
    const [a] = nodes;
    const m = await buildMeeting(a, { members: 1, agendaItems: 1 });
    const own = a.app.ctx.ownership!;
    await expect(a.app.ctx.store.tx(async () => own.claim(m.meetingId))).rejects.toThrow(/inside a transaction/);
    expect(own.epoch(m.meetingId)).toBeNull();
    // Claimed properly, the meeting is this node's.
    expect(await own.claim(m.meetingId)).toBe(1);
  });
});
