import crypto from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../server/db/store.js';
import { openPgStore } from '../../server/db/store.pg.js';
import { auditLog, committees, meetings, realtimeCommands, users, voteParticipation, voteSealedBallots, voteSecretBallots, votes } from '../../server/db/tables.js';
import { BallotBox } from '../../server/votes/votes.ballots.js';
import { type VoteRow, countVote, publishedBallots, receiptKey, writeBallots } from '../../server/votes/votes.repo.js';
import { type ThrowawayPg, startThrowawayPg } from '../helpers/pg.js';
import { verifyStoredAuditChain } from '../../server/audit/audit.repo.js';

/**
 * The ballot path's PostgreSQL branch (server/votes/votes.repo.ts): the batch writes through the query
 * builder in one transaction, where a refused ballot must not abort the others (on PostgreSQL a failed
 * statement aborts its whole transaction), and the sealed box publishes and deletes through it.
 */
describe('ballots on PostgreSQL (server/votes/votes.repo.ts)', () => {
  let pg: ThrowawayPg;
  let store: Store;
  let voters: number[];
  let meetingId: number;
  const auditActions = async (voteId: number) =>
    (await store.q.select({ action: auditLog.action }).from(auditLog).where(and(eq(auditLog.targetType, 'vote'), eq(auditLog.targetId, String(voteId)))).orderBy(asc(auditLog.id))).map((r) => r.action);
  const newVote = async (secret: boolean, state: VoteRow['state'] = 'open'): Promise<VoteRow> => {
    const [v] = await store.q
      .insert(votes)
      .values({ meetingId, title: 't', kind: 'motion', secret, options: ['yes', 'no'], maxChoices: 1, seats: 1, majority: 'simple', abstentions: 'excluded', tieBreak: 'fails', quorum: { kind: 'none' }, state })
      .returning();
    return v;
  };

  beforeAll(async () => {
    pg = await startThrowawayPg();
    store = await openPgStore(await pg.createDatabase('votes_repo'));
    const made = await store.q
      .insert(users)
      .values(['a', 'b', 'c'].map((n) => ({ username: `pg-voter-${n}`, passwordHash: 'x', fullName: `Voter ${n}` })))
      .returning({ id: users.id });
    voters = made.map((u) => u.id);
    const [c] = await store.q.insert(committees).values({ name: 'PG committee' }).returning({ id: committees.id });
    const [m] = await store.q
      .insert(meetings)
      .values({ committeeId: c.id, title: 'PG meeting', startsAt: '2026-12-05T08:00:00Z', endsAt: '2026-12-05T10:00:00Z', quorumRule: { kind: 'none' } as never, status: 'live' })
      .returning({ id: meetings.id });
    meetingId = m.id;
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await pg?.stop();
  });

  it('named ballots: cast, changed and a ballot for a closed vote in one batch — the refusal leaves the others written', async () => {
    const vote = await newVote(false);
    const closed = await newVote(false, 'closed');
    const [a, b] = voters;
    const first = await writeBallots(
      store,
      [
        { voteId: vote.id, voterId: a, castBy: a, choices: [0], sealed: null },
        { voteId: closed.id, voterId: a, castBy: a, choices: [0], sealed: null },
        { voteId: vote.id, voterId: b, castBy: b, choices: [1], sealed: null },
      ],
    );
    expect(first[0]).toBe(true);
    expect(first[1]).toMatchObject({ code: 'vote_closed' });
    expect(first[2]).toBe(true);
    expect(await writeBallots(store, [{ voteId: vote.id, voterId: a, castBy: a, choices: [1], sealed: null }])).toEqual([true]);
    expect(await countVote(store, vote)).toEqual({ counts: [0, 2], voted: 2, abstentions: 0 });
    expect(await auditActions(vote.id)).toEqual(['vote.ballot_cast', 'vote.ballot_cast', 'vote.ballot_changed']);
    expect(await auditActions(closed.id)).toEqual([]);
    expect(await store.q.select().from(voteParticipation).where(eq(voteParticipation.voteId, closed.id))).toEqual([]);
  });

  it('secret ballots: a retry with the same receipt counts once, another receipt is already_voted; the close publishes them and deletes the sealed rows', async () => {
    const vote = await newVote(true);
    const box = new BallotBox(store, 'a test secret of enough length, 32+ chars');
    const [a, b] = voters;
    const ra = receiptKey(vote.id, 'receipt-a');
    const sealedA = box.seal(vote.id, 2, ra, [0]);
    const out = await writeBallots(
      store,
      [
        { voteId: vote.id, voterId: a, castBy: a, choices: [0], sealed: sealedA },
        { voteId: vote.id, voterId: a, castBy: a, choices: [0], sealed: box.seal(vote.id, 2, ra, [0]) },
        { voteId: vote.id, voterId: a, castBy: a, choices: [1], sealed: box.seal(vote.id, 2, receiptKey(vote.id, 'other'), [1]) },
        { voteId: vote.id, voterId: b, castBy: b, choices: [], sealed: box.seal(vote.id, 2, receiptKey(vote.id, 'receipt-b'), []) },
      ],
    );
    expect(out.slice(0, 2)).toEqual([true, true]);
    expect(out[2]).toMatchObject({ code: 'already_voted' });
    expect(out[3]).toBe(true);
    expect(await box.has(vote.id, ra)).toBe(true);
    const sealed = await store.q.select().from(voteSealedBallots).where(eq(voteSealedBallots.voteId, vote.id));
    expect(sealed).toHaveLength(2);
    expect(new Set(sealed.map((s) => s.sealed.length)).size).toBe(1);
    await store.tx(async () => {
      expect(await box.publish(vote.id, 2)).toBe(2);
    });
    expect(await store.q.select().from(voteSealedBallots).where(eq(voteSealedBallots.voteId, vote.id))).toEqual([]);
    expect(await countVote(store, vote)).toEqual({ counts: [1, 0], voted: 1, abstentions: 1 });
    const published = await publishedBallots(store, vote.id);
    expect(published.find((p) => p.key === ra.toString('hex'))?.choices).toEqual([0]);
    expect(await store.q.select().from(voteSecretBallots).where(eq(voteSecretBallots.voteId, vote.id))).toHaveLength(2);
  });

  it('an annulled open secret vote: its sealed ballots are deleted unopened', async () => {
    const vote = await newVote(true);
    const box = new BallotBox(store, 'a test secret of enough length, 32+ chars');
    const [, , c] = voters;
    const key = receiptKey(vote.id, crypto.randomBytes(8).toString('hex'));
    expect(await writeBallots(store, [{ voteId: vote.id, voterId: c, castBy: c, choices: [1], sealed: box.seal(vote.id, 2, key, [1]) }])).toEqual([true]);
    expect(await store.tx(() => box.discard(vote.id))).toBe(1);
    expect(await box.has(vote.id, key)).toBe(false);
    expect(await store.q.select().from(voteSecretBallots).where(eq(voteSecretBallots.voteId, vote.id))).toEqual([]);
  });

  it('the acknowledgements of counted ballots are written with them, none of refused ones; the audit chain holds across the batch statement', async () => {
    const vote = await newVote(true);
    const closed = await newVote(false, 'closed');
    const box = new BallotBox(store, 'a test secret of enough length, 32+ chars');
    const [a, b] = voters;
    const ra = receiptKey(vote.id, 'ack-a');
    const ack = (userId: number, commandId: string) => ({ userId, commandId, event: 'vote:cast', ack: { ok: true, data: { voteId: vote.id, counted: true, voterId: userId } } });
    const out = await writeBallots(store, [
      { voteId: vote.id, voterId: a, castBy: a, choices: [0], sealed: box.seal(vote.id, 2, ra, [0]), ack: ack(a, 'cmd-a-1') },
      { voteId: closed.id, voterId: b, castBy: b, choices: [0], sealed: null, ack: ack(b, 'cmd-b-closed') },
    ]);
    expect(out[0]).toBe(true);
    expect(out[1]).toMatchObject({ code: 'vote_closed' });
    // The same device again under a new commandId (already counted: acknowledged), another receipt (refused).
    const again = await writeBallots(store, [
      { voteId: vote.id, voterId: a, castBy: a, choices: [0], sealed: box.seal(vote.id, 2, ra, [0]), ack: ack(a, 'cmd-a-2') },
    ]);
    const other = await writeBallots(store, [
      { voteId: vote.id, voterId: a, castBy: a, choices: [1], sealed: box.seal(vote.id, 2, receiptKey(vote.id, 'ack-other'), [1]), ack: ack(a, 'cmd-a-3') },
    ]);
    expect(again).toEqual([true]);
    expect(other[0]).toMatchObject({ code: 'already_voted' });
    const rows = await store.q.select({ c: realtimeCommands.commandId, ack: realtimeCommands.ack }).from(realtimeCommands).orderBy(asc(realtimeCommands.commandId));
    expect(rows.filter((r) => r.c.startsWith('cmd-'))).toEqual([
      { c: 'cmd-a-1', ack: ack(a, 'cmd-a-1').ack },
      { c: 'cmd-a-2', ack: ack(a, 'cmd-a-2').ack },
    ]);
    expect(await auditActions(vote.id)).toEqual(['vote.ballot_cast']);
    const chain = await verifyStoredAuditChain(store);
    expect(chain).toMatchObject({ ok: true });
  });
});
