import { describe, expect, it } from 'vitest';
import { type AbstentionMode, MAJORITY_RULES, type MajorityRule, type VoteQuorum } from '../../shared/rules/majority.js';
import { mulberry32 } from '../../shared/rules/random.js';
import { type TallyRules, type TieBreak, type VoteKind, countBallots, describeRule, tally, validateChoices } from '../../shared/rules/tally.js';

const rules = (over: Partial<TallyRules> = {}): TallyRules => ({
  kind: 'motion',
  majority: 'simple',
  abstentions: 'excluded',
  tieBreak: 'fails',
  quorum: { kind: 'none' },
  maxChoices: 1,
  seats: 1,
  ...over,
});

/** A motion with `f` for, `a` against, `x` abstaining among `members` all present. */
const motion = (f: number, a: number, x: number, over: Partial<TallyRules> = {}, extra: { members?: number; present?: number; castingVote?: number[] } = {}) =>
  tally({ rules: rules(over), counts: [f, a], voted: f + a, abstentions: x, present: extra.present ?? extra.members ?? f + a + x, members: extra.members ?? f + a + x, castingVote: extra.castingVote });

describe('tally: motions', () => {
  it('a simple majority with abstentions excluded passes when for beats against', () => {
    const r = motion(7, 5, 3);
    expect(r.outcome).toBe('adopted');
    expect(r.cast).toBe(12);
    expect(r.required).toBe(7);
    expect(r.explanation.en).toBe('Adopted: 7 of 12 votes cast in favour (58%), more than 1/2 of the votes cast, abstentions not counted required (7); 5 against, 3 abstaining.');
    expect(r.explanation.vi).toBe('Thông qua: 7/12 phiếu biểu quyết tán thành (58%), cần quá 1/2 số phiếu biểu quyết, không tính phiếu không biểu quyết (7); 5 không tán thành, 3 không biểu quyết.');
  });

  it('the Vietnamese usual rule cites all members: "Thông qua: 9/13 thành viên tán thành (69%), cần quá 1/2 tổng số thành viên"', () => {
    const r = motion(9, 2, 1, { majority: 'absolute_members' }, { members: 13, present: 12 });
    expect(r.outcome).toBe('adopted');
    expect(r.explanation.vi).toBe('Thông qua: 9/13 thành viên tán thành (69%), cần quá 1/2 tổng số thành viên (7); 2 không tán thành, 1 không biểu quyết.');
    expect(r.explanation.en).toBe('Adopted: 9 of 13 members in favour (69%), more than 1/2 of all members required (7); 2 against, 1 abstaining.');
    // 3 of 13 present all in favour no longer passes under it (it did under the old lenient default).
    expect(motion(3, 0, 0, { majority: 'absolute_members' }, { members: 13, present: 3 }).explanation.vi).toMatch(/^Không thông qua: 3\/13 thành viên tán thành \(23%\)/);
  });

  it('counting abstentions turns the same 7–5–3 into a rejection (7 is not more than half of 15)', () => {
    const r = motion(7, 5, 3, { abstentions: 'included' });
    expect(r.outcome).toBe('rejected');
    expect(r.required).toBe(8);
    expect(r.explanation.en).toBe('Not adopted: 7 of 15 votes cast in favour (47%), more than 1/2 of the votes cast, abstentions counted required (8); 5 against, 3 abstaining.');
  });

  it('absolute majority of members present and of all members use the roll, not the ballots', () => {
    expect(motion(6, 1, 0, { majority: 'absolute_present' }, { present: 11, members: 15 }).outcome).toBe('adopted');
    expect(motion(6, 1, 0, { majority: 'absolute_present' }, { present: 12, members: 15 }).outcome).toBe('rejected');
    expect(motion(7, 1, 0, { majority: 'absolute_members' }, { present: 12, members: 15 }).outcome).toBe('rejected');
    expect(motion(8, 1, 0, { majority: 'absolute_members' }, { present: 12, members: 15 }).outcome).toBe('adopted');
  });

  it('two thirds: 8 of 12 passes, 7 of 11 does not', () => {
    expect(motion(8, 4, 0, { majority: 'two_thirds' }).outcome).toBe('adopted');
    expect(motion(7, 4, 0, { majority: 'two_thirds' }).outcome).toBe('rejected');
  });

  it('unanimity fails on one vote against, and on one abstention only when abstentions count', () => {
    expect(motion(12, 1, 0, { majority: 'unanimity' }).outcome).toBe('rejected');
    expect(motion(12, 0, 1, { majority: 'unanimity' }).outcome).toBe('adopted');
    expect(motion(12, 0, 1, { majority: 'unanimity', abstentions: 'included' }).outcome).toBe('rejected');
    expect(motion(0, 0, 5, { majority: 'unanimity' }).outcome).toBe('rejected');
  });

  it('a 5–5 tie fails when ties fail', () => {
    const r = motion(5, 5, 1);
    expect(r.outcome).toBe('rejected');
    expect(r.tied).toEqual([0, 1]);
    expect(r.explanation.en).toMatch(/tie fails/);
    expect(r.explanation.vi).toMatch(/hòa/);
  });

  it('a 5–5 tie waits for the chair, then the casting vote decides either way', () => {
    expect(motion(5, 5, 0, { tieBreak: 'casting_vote' }).outcome).toBe('tie');
    const yes = motion(5, 5, 0, { tieBreak: 'casting_vote' }, { castingVote: [0] });
    expect(yes.outcome).toBe('adopted');
    expect(yes.castingVoteApplied).toBe(true);
    expect(yes.explanation.en).toMatch(/casting vote/);
    expect(motion(5, 5, 0, { tieBreak: 'casting_vote' }, { castingVote: [1] }).outcome).toBe('rejected');
  });

  it('a tie one vote could not decide is simply not adopted (5–5 under two thirds)', () => {
    const r = motion(5, 5, 0, { majority: 'two_thirds', tieBreak: 'casting_vote' }, { castingVote: [0] });
    expect(r.outcome).toBe('rejected');
    expect(r.tied).toEqual([]);
    expect(r.castingVoteApplied).toBe(false);
  });

  it('a casting vote is ignored when there is no tie', () => {
    const r = motion(6, 5, 0, { tieBreak: 'casting_vote' }, { castingVote: [1] });
    expect(r.outcome).toBe('adopted');
    expect(r.castingVoteApplied).toBe(false);
  });

  it('without the quorum of ballots the vote is not valid, whatever the counts', () => {
    const r = motion(5, 0, 0, { quorum: { kind: 'majority' } }, { members: 13 });
    expect(r.outcome).toBe('no_quorum');
    expect(r.quorumRequired).toBe(7);
    expect(r.explanation.en).toBe('Not valid: only 5 of 13 members voted and the vote required at least 7.');
    expect(motion(5, 1, 1, { quorum: { kind: 'majority' } }, { members: 13 }).outcome).toBe('adopted');
    expect(motion(5, 1, 1, { quorum: { kind: 'count', count: 8 } }, { members: 13 }).outcome).toBe('no_quorum');
  });

  it('no ballots at all is a rejection, not a crash', () => {
    const r = motion(0, 0, 0);
    expect(r.outcome).toBe('rejected');
    expect(r.explanation.en).not.toMatch(/undefined|NaN/);
  });
});

describe('tally: choices and elections', () => {
  const labels = ['Phương án A', 'Phương án B', 'Phương án C', 'Phương án D'];
  const run = (over: Partial<TallyRules>, ballots: number[][], extra: { members?: number; castingVote?: number[] } = {}) => {
    const c = countBallots(labels.length, ballots);
    return tally({ rules: rules(over), ...c, present: extra.members ?? ballots.length, members: extra.members ?? ballots.length, labels, castingVote: extra.castingVote });
  };

  it('single choice: an option with more than half of the votes is chosen', () => {
    const r = run({ kind: 'single' }, [[0], [0], [0], [1], []]);
    expect(r.outcome).toBe('adopted');
    expect(r.winners).toEqual([0]);
    expect(r.explanation.en).toBe('Chosen: “Phương án A” (3); it needed 3 votes (more than 1/2 of the votes cast, abstentions not counted), 1 abstaining.');
  });

  it('single choice: a plurality short of the majority chooses nothing', () => {
    const r = run({ kind: 'single' }, [[0], [0], [1], [2], [3]]);
    expect(r.outcome).toBe('rejected');
    expect(r.winners).toEqual([]);
    expect(r.explanation.vi).toMatch(/^Không phương án nào được chọn/);
  });

  it('single choice: a decisive tie between two options goes to the chair when configured', () => {
    const r = run({ kind: 'single', tieBreak: 'casting_vote' }, [[0], [0], [1], [1]]);
    expect(r.outcome).toBe('tie');
    expect(r.tied).toEqual([0, 1]);
    const d = run({ kind: 'single', tieBreak: 'casting_vote' }, [[0], [0], [1], [1]], { castingVote: [1] });
    expect(d.outcome).toBe('adopted');
    expect(d.winners).toEqual([1]);
    expect(run({ kind: 'single', tieBreak: 'casting_vote' }, [[0], [0], [1], [1]], { castingVote: [2] }).outcome).toBe('tie');
  });

  it('multiple choice: every option reaching the majority on its own is adopted', () => {
    const r = run({ kind: 'multiple', maxChoices: 3 }, [[0, 1], [0, 2], [0, 1], [3]]);
    expect(r.winners).toEqual([0]);
    const r2 = run({ kind: 'multiple', maxChoices: 3 }, [[0, 1], [0, 1, 2], [0, 1], [3]]);
    expect(r2.winners).toEqual([0, 1]);
  });

  it('election: the best qualified candidates fill the seats in order of votes', () => {
    const r = run({ kind: 'election', seats: 2, maxChoices: 2 }, [[0, 1], [1, 2], [1, 2], [0, 2], [1]]);
    expect(r.winners).toEqual([1, 2]);
    expect(r.explanation.en).toMatch(/^Elected: “Phương án B” \(4\), “Phương án C” \(3\); a candidate needed 3 votes/);
  });

  it('election: a tie for the last seat leaves it empty when ties fail, or goes to the chair', () => {
    const ballots = [[0, 1], [0, 2], [0, 1], [0, 2], [1, 2]];
    const r = run({ kind: 'election', seats: 2, maxChoices: 2 }, ballots);
    expect(r.winners).toEqual([0]);
    expect(r.tied).toEqual([1, 2]);
    expect(r.explanation.en).toMatch(/none of them is chosen/);
    const c = run({ kind: 'election', seats: 2, maxChoices: 2, tieBreak: 'casting_vote' }, ballots);
    expect(c.outcome).toBe('tie');
    expect(c.winners).toEqual([0]);
    const d = run({ kind: 'election', seats: 2, maxChoices: 2, tieBreak: 'casting_vote' }, ballots, { castingVote: [2] });
    expect(d.outcome).toBe('adopted');
    expect(d.winners).toEqual([0, 2]);
  });

  it('election: nobody reaching the majority elects nobody', () => {
    const r = run({ kind: 'election', seats: 2, maxChoices: 2 }, [[0], [1], [2], [3]]);
    expect(r.outcome).toBe('rejected');
    expect(r.explanation.vi).toMatch(/^Không ai trúng cử/);
  });

  it('validateChoices refuses unknown options, duplicates and too many choices; an empty ballot abstains', () => {
    expect(validateChoices({ maxChoices: 2 }, 4, [0, 3])).toBeNull();
    expect(validateChoices({ maxChoices: 2 }, 4, [])).toBeNull();
    expect(validateChoices({ maxChoices: 2 }, 4, [4])).toBe('unknown_option');
    expect(validateChoices({ maxChoices: 2 }, 4, [-1])).toBe('unknown_option');
    expect(validateChoices({ maxChoices: 2 }, 4, [1.5])).toBe('unknown_option');
    expect(validateChoices({ maxChoices: 2 }, 4, [1, 1])).toBe('duplicate_choice');
    expect(validateChoices({ maxChoices: 2 }, 4, [0, 1, 2])).toBe('too_many_choices');
  });

  it('describeRule names the abstention treatment only for rules based on votes cast', () => {
    expect(describeRule({ majority: 'absolute_members', abstentions: 'excluded' }).en).toBe('more than 1/2 of all members');
    expect(describeRule({ majority: 'two_thirds', abstentions: 'included' }).vi).toBe('ít nhất 2/3 số phiếu biểu quyết, có tính phiếu không biểu quyết');
  });
});

// ---------------------------------------------------------------------------------------------
// Seeded property test against a brute-force reference written from the definitions.

/** "k votes satisfy the rule", straight from the wording, as rational comparisons. */
function passes(rule: MajorityRule, k: number, cast: number, present: number, members: number): boolean {
  switch (rule) {
    case 'simple':
      return k / Math.max(cast, 1e-9) > 0.5 && k > 0 && 2 * k > cast;
    case 'absolute_present':
      return 2 * k > present;
    case 'absolute_members':
      return 2 * k > members;
    case 'two_thirds':
      return k > 0 && 3 * k >= 2 * cast;
    case 'unanimity':
      return k > 0 && k >= cast;
  }
}

function reference(kind: VoteKind, majority: MajorityRule, abst: AbstentionMode, tieBreak: TieBreak, quorum: VoteQuorum, seats: number, m: number, ballots: number[][], present: number, members: number) {
  const counts = Array.from({ length: m }, (_, i) => ballots.filter((b) => b.includes(i)).length);
  const voted = ballots.filter((b) => b.length > 0).length;
  const abstentions = ballots.length - voted;
  const cast = voted + (abst === 'included' ? abstentions : 0);
  const need = quorum.kind === 'none' ? 0 : quorum.kind === 'count' ? quorum.count : quorum.kind === 'majority' ? Math.floor(members / 2) + 1 : Math.ceil((2 * members) / 3);
  if (ballots.length < need) return { outcome: 'no_quorum', winners: [] as number[], tied: [] as number[] };
  const ok = (k: number) => passes(majority, k, cast, present, members);
  const okPlus = (k: number) => passes(majority, k + 1, cast + 1, present, members);
  const tieResult = (tied: number[], winners: number[]) => ({ outcome: tieBreak === 'fails' ? (winners.length ? 'adopted' : 'rejected') : 'tie', winners, tied });
  if (kind === 'motion') {
    if (ok(counts[0])) return { outcome: 'adopted', winners: [0], tied: [] };
    if (counts[0] === counts[1] && counts[0] > 0 && okPlus(counts[0])) return { ...tieResult([0, 1], []), outcome: tieBreak === 'fails' ? 'rejected' : 'tie' };
    return { outcome: 'rejected', winners: [], tied: [] };
  }
  if (kind === 'single') {
    for (let i = 0; i < m; i++) if (counts[i] > 0 && counts.every((c, j) => j === i || c < counts[i]) && ok(counts[i])) return { outcome: 'adopted', winners: [i], tied: [] };
    const top = Math.max(...counts);
    const leaders = counts.flatMap((c, i) => (c === top ? [i] : []));
    if (top > 0 && leaders.length > 1 && !ok(top) && okPlus(top)) return tieResult(leaders, []);
    return { outcome: 'rejected', winners: [], tied: [] };
  }
  const q = counts.flatMap((c, i) => (c > 0 && ok(c) ? [i] : []));
  if (kind === 'multiple') return { outcome: q.length ? 'adopted' : 'rejected', winners: q, tied: [] };
  const more = (i: number) => q.filter((j) => counts[j] > counts[i]).length;
  const atLeast = (i: number) => q.filter((j) => counts[j] >= counts[i]).length;
  const winners = q.filter((i) => more(i) < seats && atLeast(i) <= seats);
  const tied = q.filter((i) => more(i) < seats && atLeast(i) > seats);
  if (tied.length) return tieResult(tied, winners);
  return { outcome: winners.length ? 'adopted' : 'rejected', winners, tied: [] };
}

describe('tally: seeded property test against a brute-force reference', () => {
  it('agrees with the reference on 8,000 random votes of every kind, rule and tie policy', () => {
    const rnd = mulberry32(20261123);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
    const kinds: VoteKind[] = ['motion', 'single', 'multiple', 'election'];
    const quorums: VoteQuorum[] = [{ kind: 'none' }, { kind: 'majority' }, { kind: 'two_thirds' }, { kind: 'count', count: 3 }];
    for (let n = 0; n < 8_000; n++) {
      const kind = pick(kinds);
      const m = kind === 'motion' ? 2 : 2 + Math.floor(rnd() * 4);
      const seats = kind === 'election' ? 1 + Math.floor(rnd() * (m - 1)) : 1;
      const maxChoices = kind === 'multiple' ? 1 + Math.floor(rnd() * m) : kind === 'election' ? seats : 1;
      const members = 1 + Math.floor(rnd() * 14);
      const present = Math.floor(rnd() * (members + 1));
      const nBallots = Math.floor(rnd() * (members + 1));
      const ballots: number[][] = [];
      for (let b = 0; b < nBallots; b++) {
        if (rnd() < 0.2) ballots.push([]);
        else {
          const k = 1 + Math.floor(rnd() * maxChoices);
          const set = new Set<number>();
          while (set.size < k) set.add(Math.floor(rnd() * m));
          ballots.push([...set]);
        }
      }
      const r0 = rules({ kind, majority: pick(MAJORITY_RULES), abstentions: pick(['excluded', 'included'] as const), tieBreak: pick(['fails', 'casting_vote'] as const), quorum: pick(quorums), maxChoices, seats });
      for (const b of ballots) expect(validateChoices(r0, m, b)).toBeNull();
      const got = tally({ rules: r0, ...countBallots(m, ballots), present, members });
      const want = reference(kind, r0.majority, r0.abstentions, r0.tieBreak, r0.quorum, seats, m, ballots, present, members);
      const ctx = JSON.stringify({ n, r0, ballots, present, members });
      expect(got.outcome, ctx).toBe(want.outcome);
      expect([...got.winners].sort(), ctx).toEqual([...want.winners].sort());
      expect([...got.tied].sort(), ctx).toEqual([...want.tied].sort());
      expect(got.winners.length <= (kind === 'election' ? seats : m)).toBe(true);
      expect(got.explanation.en.length > 10 && got.explanation.vi.length > 10).toBe(true);
      expect(got.explanation.en + got.explanation.vi, ctx).not.toMatch(/undefined|NaN|null/);
      // A casting vote for one of the tied options always resolves a pending tie.
      if (got.outcome === 'tie') {
        const open = kind === 'election' ? seats - got.winners.length : 1;
        const resolved = tally({ rules: r0, ...countBallots(m, ballots), present, members, castingVote: got.tied.slice(0, open) });
        expect(resolved.outcome, ctx).not.toBe('tie');
        expect(resolved.castingVoteApplied).toBe(true);
      }
    }
  });
});
