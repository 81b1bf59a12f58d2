/**
 * Quorum: how many participants with a vote must be present for the meeting to deliberate.
 * Pure; used by the server (opening the meeting) and the client (the live indicator).
 */

export type QuorumRuleLike = { kind: 'majority' } | { kind: 'two_thirds' } | { kind: 'count'; count: number };

export interface Quorum {
  /** Voting participants counted as present (checked in, or represented by a present proxy holder). */
  present: number;
  /** Voting participants of the meeting. */
  eligible: number;
  /** How many must be present. */
  required: number;
  met: boolean;
}

/**
 * Number of present voters needed: `majority` = more than half, `two_thirds` = at least two thirds
 * (rounded up), `count` = the fixed number. Never less than 1.
 */
export function requiredForQuorum(rule: QuorumRuleLike, eligible: number): number {
  switch (rule.kind) {
    case 'majority':
      return Math.max(1, Math.floor(eligible / 2) + 1);
    case 'two_thirds':
      return Math.max(1, Math.ceil((2 * eligible) / 3));
    case 'count':
      return Math.max(1, rule.count);
  }
}

/** The quorum for `present` of `eligible` voters under `rule`. */
export function computeQuorum(rule: QuorumRuleLike, eligible: number, present: number): Quorum {
  const required = requiredForQuorum(rule, eligible);
  return { present, eligible, required, met: present >= required };
}

/** "18/25 present, quorum 13: met" — the English sentence used in logs, audit and the API. */
export function quorumSentence(q: Quorum): string {
  return `${q.present}/${q.eligible} present, quorum ${q.required}: ${q.met ? 'met' : 'not met'}`;
}

/** Order of the speakers' list: points of order first, then by position. */
export const KIND_PRIORITY = { point_of_order: 0, question: 1, speech: 1 } as const;
