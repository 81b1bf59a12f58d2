import { describe, expect, it, vi } from 'vitest';
import type { AppContext } from '../../server/context.js';
import type { BallotWrite } from '../../server/votes/votes.repo.js';

/** Each call of writeBallots: the batch it got; it resolves when the test lets it (a slow commit). */
const calls: { batch: BallotWrite[]; done: () => void }[] = [];
vi.mock('../../server/votes/votes.repo.js', async (original) => ({
  ...(await original<typeof import('../../server/votes/votes.repo.js')>()),
  writeBallots: (_store: unknown, batch: BallotWrite[]) =>
    new Promise<unknown[]>((resolve) => {
      calls.push({ batch, done: () => resolve(batch.map(() => true)) });
    }),
}));
const { BallotStore } = await import('../../server/votes/votes.ballot-store.js');

const turn = () => new Promise((r) => setImmediate(r));

/**
 * The group commit of server/votes/votes.ballot-store.ts: one batch in flight; everything that queues
 * while it is being written goes together in the next one (not a batch per event-loop turn).
 */
describe('ballot batches: group commit', () => {
  const ctx = {
    // PostgreSQL whose role may not emit the WAL flush message: batches commit synchronously, nothing to wait for after.
    store: { dialect: 'postgres', q: { execute: async () => ({ rows: [{ ok: false }] }) } },
    config: { secret: 'a test secret of enough length, 32+ chars' },
    log: { error() {}, warn() {} },
    metrics: { ballots: { inc() {} } },
  } as unknown as AppContext;
  const ov = { row: { id: 7, options: ['yes', 'no'], maxChoices: 1, secret: false }, voters: new Set<number>() } as never;

  it('ballots arriving over several turns while a batch is written go in one next batch; each is acknowledged after its own batch, with its command acknowledgement in it', async () => {
    const store = new BallotStore(ctx, () => {}, async () => { throw new Error('no refusal in this test'); });
    const acked: number[] = [];
    const cast = (voter: number) => store.enqueue(ov, voter, voter, { choices: [0] }, { userId: voter, commandId: `cmd-${voter}`, event: 'vote:cast' }).then(() => acked.push(voter));
    const first = cast(1);
    await turn();
    expect(calls.map((c) => c.batch.length)).toEqual([1]);
    // Twenty more over five turns while the first batch is still being written.
    const rest: Promise<unknown>[] = [];
    for (let t = 0; t < 5; t++) {
      for (let k = 0; k < 4; k++) rest.push(cast(2 + t * 4 + k));
      await turn();
    }
    expect(calls.map((c) => c.batch.length)).toEqual([1]);
    calls[0].done();
    await first;
    expect(acked).toEqual([1]);
    await turn();
    expect(calls.map((c) => c.batch.length)).toEqual([1, 20]);
    expect(calls[1].batch[0].ack).toEqual({ userId: 2, commandId: 'cmd-2', event: 'vote:cast', ack: { ok: true, data: { voteId: 7, counted: true, voterId: 2 } } });
    // flushPending waits for the batch in flight and for what queues meanwhile.
    const late = cast(99);
    let flushed = false;
    const flush = store.flushPending().then(() => (flushed = true));
    calls[1].done();
    await Promise.all(rest);
    await turn();
    expect(flushed).toBe(false);
    expect(calls.map((c) => c.batch.length)).toEqual([1, 20, 1]);
    calls[2].done();
    await Promise.all([late, flush]);
    expect(acked).toHaveLength(22);
  });
});
