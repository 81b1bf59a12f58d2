import { describe, expect, it } from 'vitest';
import { MAJORITY_RULES, meetsMajority, requiredParticipation, requiredVotes, voteQuorumMet } from '../../shared/rules/majority.js';

describe('majority rules', () => {
  const base = (cast: number, present = 0, members = 0) => ({ cast, present, members });

  it('simple majority needs strictly more than half of the votes cast', () => {
    expect(requiredVotes('simple', base(10))).toBe(6);
    expect(requiredVotes('simple', base(11))).toBe(6);
    expect(meetsMajority('simple', 5, base(10))).toBe(false);
    expect(meetsMajority('simple', 6, base(10))).toBe(true);
    expect(requiredVotes('simple', base(1))).toBe(1);
    expect(requiredVotes('simple', base(0))).toBe(1);
  });

  it('absolute majorities use members present or all members, not the votes cast', () => {
    expect(requiredVotes('absolute_present', base(4, 13, 15))).toBe(7);
    expect(requiredVotes('absolute_members', base(4, 13, 15))).toBe(8);
    expect(meetsMajority('absolute_members', 7, base(7, 13, 15))).toBe(false);
  });

  it('two thirds is exact integer arithmetic (6 of 9 passes, 6 of 10 does not)', () => {
    expect(meetsMajority('two_thirds', 6, base(9))).toBe(true);
    expect(meetsMajority('two_thirds', 6, base(10))).toBe(false);
    expect(requiredVotes('two_thirds', base(10))).toBe(7);
    expect(requiredVotes('two_thirds', base(3))).toBe(2);
    expect(requiredVotes('two_thirds', base(0))).toBe(1);
  });

  it('unanimity needs every vote cast and at least one', () => {
    expect(meetsMajority('unanimity', 12, base(12))).toBe(true);
    expect(meetsMajority('unanimity', 11, base(12))).toBe(false);
    expect(meetsMajority('unanimity', 0, base(0))).toBe(false);
  });

  it('no count ever satisfies a rule for zero but fails it for more (monotone in the count)', () => {
    for (const rule of MAJORITY_RULES)
      for (let d = 0; d <= 30; d++) {
        const b = base(d, d, d);
        let seen = false;
        for (let k = 0; k <= d + 1; k++) {
          const m = meetsMajority(rule, k, b);
          if (seen) expect(m).toBe(true);
          seen ||= m;
        }
      }
  });

  it('vote quorum counts ballots returned against all members', () => {
    expect(requiredParticipation({ kind: 'none' }, 13)).toBe(0);
    expect(requiredParticipation({ kind: 'majority' }, 13)).toBe(7);
    expect(requiredParticipation({ kind: 'majority' }, 14)).toBe(8);
    expect(requiredParticipation({ kind: 'two_thirds' }, 13)).toBe(9);
    expect(requiredParticipation({ kind: 'count', count: 5 }, 13)).toBe(5);
    expect(voteQuorumMet({ kind: 'majority' }, 6, 13)).toBe(false);
    expect(voteQuorumMet({ kind: 'majority' }, 7, 13)).toBe(true);
  });
});
