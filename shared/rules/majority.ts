/**
 * Majority and vote-quorum rules, as pure integer arithmetic (no floating point, so "two thirds of
 * 9" is exact). Shared by the server (results) and the client (explaining a rule before a vote).
 */

/**
 * Which majority decides a vote.
 * - `simple`: more than half of the votes cast (what "cast" means depends on {@link AbstentionMode}).
 * - `absolute_present`: more than half of the voting members present when the vote closes.
 * - `absolute_members`: more than half of all members with a voting right.
 * - `two_thirds`: at least two thirds of the votes cast.
 * - `unanimity`: every vote cast, and at least one.
 */
export type MajorityRule = 'simple' | 'absolute_present' | 'absolute_members' | 'two_thirds' | 'unanimity';
export const MAJORITY_RULES: readonly MajorityRule[] = ['simple', 'absolute_present', 'absolute_members', 'two_thirds', 'unanimity'];

/**
 * How abstentions count. `excluded`: an abstention is not a vote cast (it does not raise the bar);
 * `included`: an abstention is a vote cast that is not in favour (it acts like a vote against).
 */
export type AbstentionMode = 'excluded' | 'included';

/**
 * The participation a vote needs to be valid, measured on the ballots returned (abstentions count as
 * participation) against all members with a voting right. `none`: no quorum.
 */
export type VoteQuorum = { kind: 'none' } | { kind: 'majority' } | { kind: 'two_thirds' } | { kind: 'count'; count: number };

/** The numbers a majority is measured against. */
export interface MajorityBase {
  /** Votes cast under the abstention mode (ballots with a choice, plus abstentions when `included`). */
  cast: number;
  /** Voting members present (eligible at close). */
  present: number;
  /** All members with a voting right. */
  members: number;
}

/** The number the rule divides: votes cast, members present, or all members. */
export function majorityDenominator(rule: MajorityRule, base: MajorityBase): number {
  if (rule === 'absolute_present') return base.present;
  if (rule === 'absolute_members') return base.members;
  return base.cast;
}

/**
 * The smallest number of votes in favour that satisfies `rule` (for unanimity: all votes cast, at
 * least 1). A result needs `count >= requiredVotes(...)`.
 */
export function requiredVotes(rule: MajorityRule, base: MajorityBase): number {
  const d = majorityDenominator(rule, base);
  switch (rule) {
    case 'simple':
    case 'absolute_present':
    case 'absolute_members':
      return Math.floor(d / 2) + 1; // strictly more than half
    case 'two_thirds':
      return Math.max(1, Math.ceil((2 * d) / 3));
    case 'unanimity':
      return Math.max(1, d);
  }
}

/** True when `count` votes in favour satisfy `rule`. */
export function meetsMajority(rule: MajorityRule, count: number, base: MajorityBase): boolean {
  return count >= requiredVotes(rule, base);
}

/** The number of ballots a vote quorum requires (0 for none). */
export function requiredParticipation(q: VoteQuorum, members: number): number {
  switch (q.kind) {
    case 'none':
      return 0;
    case 'majority':
      return Math.floor(members / 2) + 1;
    case 'two_thirds':
      return Math.ceil((2 * members) / 3);
    case 'count':
      return q.count;
  }
}

/** True when `ballots` returned satisfy the vote quorum. */
export function voteQuorumMet(q: VoteQuorum, ballots: number, members: number): boolean {
  return ballots >= requiredParticipation(q, members);
}
