import { describe, expect, it } from 'vitest';
import { computeQuorum, quorumSentence, requiredForQuorum } from '../../shared/rules/quorum.js';

describe('quorum rules', () => {
  it('majority needs more than half: 13 of 25, 13 of 24, 1 of 1', () => {
    expect(requiredForQuorum({ kind: 'majority' }, 25)).toBe(13);
    expect(requiredForQuorum({ kind: 'majority' }, 24)).toBe(13);
    expect(requiredForQuorum({ kind: 'majority' }, 1)).toBe(1);
  });
  it('two thirds rounds up: 17 of 25, 2 of 3, 1 of 0 eligible', () => {
    expect(requiredForQuorum({ kind: 'two_thirds' }, 25)).toBe(17);
    expect(requiredForQuorum({ kind: 'two_thirds' }, 3)).toBe(2);
    expect(requiredForQuorum({ kind: 'two_thirds' }, 0)).toBe(1);
  });
  it('a fixed count is used as is', () => {
    expect(requiredForQuorum({ kind: 'count', count: 7 }, 25)).toBe(7);
  });
  it('says "18/25 present, quorum 13: met" and "12/25 … not met"', () => {
    expect(quorumSentence(computeQuorum({ kind: 'majority' }, 25, 18))).toBe('18/25 present, quorum 13: met');
    expect(quorumSentence(computeQuorum({ kind: 'majority' }, 25, 12))).toBe('12/25 present, quorum 13: not met');
  });
});
