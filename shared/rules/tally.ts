/**
 * Tallying a vote: counts in, outcome and a one-sentence explanation (vi and en) out. Pure: the server
 * computes official results with it, the client previews rules with it, tests compare it with a
 * brute-force reference.
 *
 * Model: a vote has options (a motion has exactly two, "for" = 0 and "against" = 1); a ballot is a set
 * of option indexes, the empty set being an abstention. A motion and a single choice take one index,
 * a multiple choice up to `maxChoices`, an election up to `seats`.
 */
import { type AbstentionMode, type MajorityRule, type VoteQuorum, meetsMajority, requiredParticipation, requiredVotes, voteQuorumMet } from './majority.js';

export type VoteKind = 'motion' | 'single' | 'multiple' | 'election';
/** What a tie does: the motion/candidate fails, or the chair's casting vote decides. */
export type TieBreak = 'fails' | 'casting_vote';

/** Everything about a vote's configuration the tally needs. */
export interface TallyRules {
  kind: VoteKind;
  majority: MajorityRule;
  abstentions: AbstentionMode;
  tieBreak: TieBreak;
  quorum: VoteQuorum;
  /** Most options one ballot may choose (1 for motion and single; ≤ seats for election). */
  maxChoices: number;
  /** Election: seats to fill. Ignored for other kinds. */
  seats: number;
}

export interface TallyInput {
  rules: TallyRules;
  /** Votes per option, by option index. */
  counts: number[];
  /** Ballots with at least one choice. */
  voted: number;
  /** Ballots with no choice (abstentions). */
  abstentions: number;
  /** Voting members present when the vote closed. */
  present: number;
  /** All members with a voting right. */
  members: number;
  /**
   * The chair's casting vote, used only when the result is a decisive tie and `tieBreak` is
   * `casting_vote`: the option indexes the chair picks among the tied ones (a motion: [0] for, [1] against).
   */
  castingVote?: number[];
  /** Display labels of the options, for the explanation; motions use fixed words. */
  labels?: string[];
}

/**
 * `adopted`: the motion passed / at least one option or candidate was chosen. `rejected`: nothing was.
 * `no_quorum`: too few ballots for the vote to be valid. `tie`: a decisive tie waiting for the chair's
 * casting vote (only with `tieBreak: 'casting_vote'`).
 */
export type Outcome = 'adopted' | 'rejected' | 'no_quorum' | 'tie';

export interface TallyResult {
  outcome: Outcome;
  /** Option indexes chosen (a motion: [0] when adopted). */
  winners: number[];
  /** Option indexes in a decisive tie (empty unless there was one). */
  tied: number[];
  /** True when the chair's casting vote decided the result. */
  castingVoteApplied: boolean;
  counts: number[];
  voted: number;
  abstentions: number;
  /** Votes cast under the abstention mode (the base of `simple`, `two_thirds` and `unanimity`). */
  cast: number;
  /** Votes an option (a motion: "for") needed. */
  required: number;
  quorumRequired: number;
  quorumMet: boolean;
  explanation: { vi: string; en: string };
}

/** Why a ballot's choices are not acceptable, or null when they are. */
export type ChoiceError = 'unknown_option' | 'too_many_choices' | 'duplicate_choice' | null;

/**
 * Checks a ballot's option indexes against the vote: every index exists, none repeats, at most
 * `maxChoices` (an empty ballot is an abstention and always valid).
 */
export function validateChoices(rules: Pick<TallyRules, 'maxChoices'>, optionCount: number, choices: readonly number[]): ChoiceError {
  for (const c of choices) if (!Number.isInteger(c) || c < 0 || c >= optionCount) return 'unknown_option';
  if (new Set(choices).size !== choices.length) return 'duplicate_choice';
  if (choices.length > rules.maxChoices) return 'too_many_choices';
  return null;
}

/** Counts raw ballots (option index sets) into the numbers `tally` takes. */
export function countBallots(optionCount: number, ballots: readonly (readonly number[])[]): { counts: number[]; voted: number; abstentions: number } {
  const counts = new Array<number>(optionCount).fill(0);
  let voted = 0;
  let abstentions = 0;
  for (const b of ballots) {
    if (b.length === 0) abstentions++;
    else voted++;
    for (const c of b) counts[c]++;
  }
  return { counts, voted, abstentions };
}

/**
 * The outcome of a vote.
 *
 * Ties: a tie is *decisive* when the tied option(s) fall short of the majority but one more vote
 * would carry one of them (a motion: for = against, e.g. 5–5 under a simple majority). Then
 * `tieBreak: 'fails'` rejects (for an election: leaves the contested seats empty), and
 * `casting_vote` applies `castingVote` if given — the chair's side wins — or reports `tie`.
 * A tie that one vote could not resolve (5–5 under two thirds) is simply not adopted.
 */
export function tally(input: TallyInput): TallyResult {
  const { rules, counts, voted, abstentions, present, members } = input;
  const cast = voted + (rules.abstentions === 'included' ? abstentions : 0);
  const base = { cast, present, members };
  const required = requiredVotes(rules.majority, base);
  const quorumRequired = requiredParticipation(rules.quorum, members);
  const quorumMet = voteQuorumMet(rules.quorum, voted + abstentions, members);
  const r: TallyResult = {
    outcome: 'rejected',
    winners: [],
    tied: [],
    castingVoteApplied: false,
    counts: [...counts],
    voted,
    abstentions,
    cast,
    required,
    quorumRequired,
    quorumMet,
    explanation: { vi: '', en: '' },
  };
  // The chair's extra vote counts in the base too (it is one more vote cast) when it decides.
  const plusOne = { cast: cast + 1, present, members };
  const decisive = (c: number) => !meetsMajority(rules.majority, c, base) && meetsMajority(rules.majority, c + 1, plusOne);

  if (!quorumMet) {
    r.outcome = 'no_quorum';
  } else if (rules.kind === 'motion') {
    const [f, a] = [counts[0] ?? 0, counts[1] ?? 0];
    if (meetsMajority(rules.majority, f, base)) {
      r.outcome = 'adopted';
      r.winners = [0];
    } else if (f === a && f > 0 && decisive(f)) {
      r.tied = [0, 1];
      resolveTie(r, rules, input.castingVote, 1);
    }
  } else if (rules.kind === 'single') {
    const top = Math.max(0, ...counts);
    const leaders = indexesWith(counts, top);
    if (top > 0 && leaders.length === 1 && meetsMajority(rules.majority, top, base)) {
      r.outcome = 'adopted';
      r.winners = leaders;
    } else if (top > 0 && leaders.length > 1 && decisive(top)) {
      r.tied = leaders;
      resolveTie(r, rules, input.castingVote, 1);
    }
  } else if (rules.kind === 'multiple') {
    r.winners = counts.map((c, i) => (c > 0 && meetsMajority(rules.majority, c, base) ? i : -1)).filter((i) => i >= 0);
    r.outcome = r.winners.length ? 'adopted' : 'rejected';
  } else {
    const qualified = counts
      .map((c, i) => ({ c, i }))
      .filter((x) => x.c > 0 && meetsMajority(rules.majority, x.c, base))
      .sort((x, y) => y.c - x.c || x.i - y.i);
    if (qualified.length <= rules.seats) {
      r.winners = qualified.map((x) => x.i);
    } else {
      const boundary = qualified[rules.seats - 1].c;
      const above = qualified.filter((x) => x.c > boundary).map((x) => x.i);
      const atBoundary = qualified.filter((x) => x.c === boundary).map((x) => x.i);
      const open = rules.seats - above.length;
      r.winners = above;
      if (atBoundary.length > open) {
        r.tied = atBoundary;
        resolveTie(r, rules, input.castingVote, open);
        if (r.outcome !== 'tie') r.winners = [...above, ...r.winners.filter((i) => !above.includes(i))];
      } else r.winners = [...above, ...atBoundary];
    }
    if (r.outcome !== 'tie') r.outcome = r.winners.length ? 'adopted' : 'rejected';
    r.winners.sort((x, y) => counts[y] - counts[x] || x - y);
  }
  r.explanation = explain(r, rules, input.labels ?? [], members, present);
  return r;
}

function indexesWith(counts: number[], value: number): number[] {
  return counts.map((c, i) => (c === value ? i : -1)).filter((i) => i >= 0);
}

/** Applies the tie rule to `r.tied`; `seats` tied options may still be chosen. */
function resolveTie(r: TallyResult, rules: TallyRules, castingVote: number[] | undefined, seats: number): void {
  if (rules.tieBreak === 'fails') {
    r.outcome = 'rejected';
    return;
  }
  const pick = castingVote && castingVote.length === seats && castingVote.every((i) => r.tied.includes(i)) && new Set(castingVote).size === seats ? castingVote : null;
  if (!pick) {
    r.outcome = 'tie';
    return;
  }
  r.castingVoteApplied = true;
  if (rules.kind === 'motion') {
    r.outcome = pick[0] === 0 ? 'adopted' : 'rejected';
    r.winners = pick[0] === 0 ? [0] : [];
  } else {
    r.outcome = 'adopted';
    r.winners = [...r.winners, ...pick];
  }
}

const RULE_TEXT: Record<MajorityRule, { vi: string; en: string }> = {
  simple: { vi: 'quá 1/2 số phiếu biểu quyết', en: 'more than 1/2 of the votes cast' },
  absolute_present: { vi: 'quá 1/2 số thành viên có mặt', en: 'more than 1/2 of the members present' },
  absolute_members: { vi: 'quá 1/2 tổng số thành viên', en: 'more than 1/2 of all members' },
  two_thirds: { vi: 'ít nhất 2/3 số phiếu biểu quyết', en: 'at least 2/3 of the votes cast' },
  unanimity: { vi: 'toàn bộ số phiếu biểu quyết', en: 'every vote cast' },
};

/** What the share of a motion is counted against, per rule (for the result sentence). */
const BASE_NOUN: Record<MajorityRule, { vi: string; en: string }> = {
  simple: { vi: 'phiếu biểu quyết', en: 'votes cast' },
  absolute_present: { vi: 'thành viên có mặt', en: 'members present' },
  absolute_members: { vi: 'thành viên', en: 'members' },
  two_thirds: { vi: 'phiếu biểu quyết', en: 'votes cast' },
  unanimity: { vi: 'phiếu biểu quyết', en: 'votes cast' },
};

/** The rule in words, e.g. "more than half of the votes cast, abstentions not counted". */
export function describeRule(rules: Pick<TallyRules, 'majority' | 'abstentions'>): { vi: string; en: string } {
  const t = RULE_TEXT[rules.majority];
  const usesCast = rules.majority === 'simple' || rules.majority === 'two_thirds' || rules.majority === 'unanimity';
  if (!usesCast) return t;
  return rules.abstentions === 'excluded'
    ? { vi: `${t.vi}, không tính phiếu không biểu quyết`, en: `${t.en}, abstentions not counted` }
    : { vi: `${t.vi}, có tính phiếu không biểu quyết`, en: `${t.en}, abstentions counted` };
}

function explain(r: TallyResult, rules: TallyRules, labels: string[], members: number, present: number): { vi: string; en: string } {
  const rule = describeRule(rules);
  const q = (i: number, lang: 'vi' | 'en') => `“${labels[i] ?? (lang === 'vi' ? `Phương án ${i + 1}` : `Option ${i + 1}`)}”`;
  const list = (ids: number[], lang: 'vi' | 'en') => ids.map((i) => `${q(i, lang)} (${r.counts[i]})`).join(', ');
  const ballots = r.voted + r.abstentions;
  if (r.outcome === 'no_quorum') {
    return {
      vi: `Không hợp lệ: chỉ ${ballots}/${members} thành viên bỏ phiếu, trong khi cần ít nhất ${r.quorumRequired}.`,
      en: `Not valid: only ${ballots} of ${members} members voted and the vote required at least ${r.quorumRequired}.`,
    };
  }
  if (rules.kind === 'motion') {
    const [f, a] = [r.counts[0] ?? 0, r.counts[1] ?? 0];
    const vi = `${f} tán thành, ${a} không tán thành, ${r.abstentions} không biểu quyết`;
    const en = `${f} for, ${a} against, ${r.abstentions} abstaining`;
    if (r.outcome === 'tie') return { vi: `Hòa: ${vi}; chủ tọa quyết định.`, en: `Tied: ${en}; the chair's casting vote decides.` };
    if (r.tied.length && r.castingVoteApplied) {
      return r.outcome === 'adopted'
        ? { vi: `Thông qua theo quyết định của chủ tọa khi hòa: ${vi}.`, en: `Adopted by the chair's casting vote after a tie: ${en}.` }
        : { vi: `Không thông qua theo quyết định của chủ tọa khi hòa: ${vi}.`, en: `Not adopted by the chair's casting vote after a tie: ${en}.` };
    }
    if (r.tied.length) return { vi: `Không thông qua vì kết quả hòa: ${vi}.`, en: `Not adopted because the vote is tied and a tie fails: ${en}.` };
    // The sentence cites the rule against its own base: "9/13 thành viên tán thành (69%), cần quá 1/2 tổng số thành viên".
    const base = rules.majority === 'absolute_members' ? members : rules.majority === 'absolute_present' ? present : r.cast;
    const noun = BASE_NOUN[rules.majority];
    const pct = base > 0 ? Math.round((100 * f) / base) : 0;
    const rest = { vi: `${a} không tán thành, ${r.abstentions} không biểu quyết`, en: `${a} against, ${r.abstentions} abstaining` };
    const head = { vi: `${f}/${base} ${noun.vi} tán thành (${pct}%), cần ${rule.vi} (${r.required})`, en: `${f} of ${base} ${noun.en} in favour (${pct}%), ${rule.en} required (${r.required})` };
    return r.outcome === 'adopted'
      ? { vi: `Thông qua: ${head.vi}; ${rest.vi}.`, en: `Adopted: ${head.en}; ${rest.en}.` }
      : { vi: `Không thông qua: ${head.vi}; ${rest.vi}.`, en: `Not adopted: ${head.en}; ${rest.en}.` };
  }
  const abst = { vi: `${r.abstentions} không biểu quyết`, en: `${r.abstentions} abstaining` };
  if (r.outcome === 'tie') {
    return {
      vi: `Hòa giữa ${list(r.tied, 'vi')}; chủ tọa quyết định.`,
      en: `Tied between ${list(r.tied, 'en')}; the chair's casting vote decides.`,
    };
  }
  const by = r.castingVoteApplied ? { vi: ' (có quyết định của chủ tọa khi hòa)', en: " (with the chair's casting vote after a tie)" } : { vi: '', en: '' };
  const tiedFail = r.tied.length && !r.castingVoteApplied ? { vi: `; hòa giữa ${list(r.tied, 'vi')} nên không ai được chọn thêm`, en: `; tied between ${list(r.tied, 'en')}, so none of them is chosen` } : { vi: '', en: '' };
  if (rules.kind === 'election') {
    return r.winners.length
      ? {
          vi: `Trúng cử${by.vi}: ${list(r.winners, 'vi')}; mỗi ứng viên cần ${r.required} phiếu (${rule.vi}), ${rules.seats} vị trí, ${abst.vi}${tiedFail.vi}.`,
          en: `Elected${by.en}: ${list(r.winners, 'en')}; a candidate needed ${r.required} votes (${rule.en}) for ${rules.seats} seats, ${abst.en}${tiedFail.en}.`,
        }
      : {
          vi: `Không ai trúng cử: mỗi ứng viên cần ${r.required} phiếu (${rule.vi}), ${abst.vi}${tiedFail.vi}.`,
          en: `No one elected: a candidate needed ${r.required} votes (${rule.en}), ${abst.en}${tiedFail.en}.`,
        };
  }
  return r.winners.length
    ? {
        vi: `Được chọn${by.vi}: ${list(r.winners, 'vi')}; cần ${r.required} phiếu (${rule.vi}), ${abst.vi}.`,
        en: `Chosen${by.en}: ${list(r.winners, 'en')}; it needed ${r.required} votes (${rule.en}), ${abst.en}.`,
      }
    : {
        vi: `Không phương án nào được chọn: cần ${r.required} phiếu (${rule.vi}), ${abst.vi}${tiedFail.vi}.`,
        en: `No option chosen: it needed ${r.required} votes (${rule.en}), ${abst.en}${tiedFail.en}.`,
      };
}
