import type { TallyResultView } from '../../shared/protocol/votes.js';
import { type TallyResult, type TallyRules, describeRule, tally } from '../../shared/rules/tally.js';
import type { Store } from '../db/store.js';
import { voteEligibility } from '../db/tables.js';
import { voteError as err } from './votes.options.js';
import { type VoteRow, countVote } from './votes.repo.js';

/*
 * Counting a vote: the official result at the close and the chair's casting vote after a tie, both with
 * the pure tally of shared/rules/tally.ts. The caller (server/votes/votes.service.ts) holds the transaction.
 */

/** The rules of a vote's row the tally needs. */
export function tallyRules(row: VoteRow): TallyRules {
  return { kind: row.kind, majority: row.majority, abstentions: row.abstentions, tieBreak: row.tieBreak, quorum: row.quorum, maxChoices: row.maxChoices, seats: row.seats };
}

/**
 * At the close, inside the closing transaction (after a secret vote's box was published): counts the
 * ballots, tallies them against `eligible` (who could vote, voters included) and `members`, and writes
 * the eligibility snapshot. @returns the tally and the result stored on the vote.
 */
export async function countAtClose(store: Store, row: VoteRow, eligible: ReadonlySet<number>, members: number): Promise<{ t: TallyResult; result: TallyResultView }> {
  const counted = await countVote(store, row);
  const t = tally({ rules: tallyRules(row), ...counted, present: eligible.size, members, labels: row.options });
  const result: TallyResultView = { ...t, present: eligible.size, members, eligible: eligible.size, rule: describeRule(row) };
  if (eligible.size) await store.q.insert(voteEligibility).values([...eligible].map((userId) => ({ voteId: row.id, userId }))).onConflictDoNothing();
  return { t, result };
}

/**
 * The result to announce: a tie awaiting the chair is decided by `castingVote`; any other result as it is.
 * @throws casting_vote_required, invalid_casting_vote
 */
export function announcedResult(row: VoteRow, castingVote: number[] | undefined): TallyResultView {
  const result = row.result!;
  if (result.outcome !== 'tie') return result;
  if (!castingVote) throw err('casting_vote_required', 'The vote is tied: give the casting vote');
  const t = tally({
    rules: tallyRules(row),
    counts: result.counts,
    voted: result.voted,
    abstentions: result.abstentions,
    present: result.present,
    members: result.members,
    castingVote,
    labels: row.options,
  });
  if (t.outcome === 'tie') throw err('invalid_casting_vote', 'The casting vote must pick among the tied options');
  return { ...result, ...t };
}
