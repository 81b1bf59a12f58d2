/**
 * The ONE definition of who counts in a vote: members, present, eligible, voted and counted. Computed
 * here and nowhere else; the server sends the numbers with every vote view and progress push, and the
 * chair console, the tablets, the room display, the minutes and the CSV/PDF exports all print them with
 * {@link rollSentence} (the same vote once showed 6/12, 5/12 and 5/13 in three places).
 *
 * - members: participants with a voting right (never guests) — the base of `absolute_members`.
 * - present: members checked in, plus members represented by a vote holder who is checked in (a vote
 *   proxy, or a substitute when the committee counts substitutes as present).
 * - eligible: member votes that can be cast now — members checked in who kept their vote (or may vote
 *   despite delegating), and votes held by a proxy who is checked in and may cast them — plus every
 *   member who has already voted (a ballot never stops counting because its voter left).
 * - voted: ballots received. counted: ballots in the result (after the close; equals voted).
 */
import { type ProxyKind, type ProxySettings, proxyCarriesVote } from './proxies.js';

/** A participant as attendance records them. */
export interface RollParticipant {
  userId: number;
  role: 'chair' | 'secretary' | 'member' | 'guest';
  canVote: boolean;
  status: 'in_room' | 'remote' | 'absent' | 'proxy' | null;
  proxyHolderId: number | null;
  proxyKind: ProxyKind | null;
}

export interface RollInput {
  participants: readonly RollParticipant[];
  /** Vote proxies given from members' own accounts: giver → holder. */
  delegations: ReadonlyMap<number, number>;
  settings: ProxySettings;
  /** Members whose ballot is in. */
  voters: ReadonlySet<number>;
}

export interface Roll {
  members: number;
  present: number;
  eligible: number;
  voted: number;
  /** Member ids in `eligible` (for the snapshot at close and the chair's "not voted yet"). */
  eligibleIds: number[];
  /** Member ids in `present`. */
  presentIds: number[];
}

const checkedIn = (s: RollParticipant['status'] | undefined) => s === 'in_room' || s === 'remote';

/** A member is a voting member: a voting right and not a guest. */
export function isVotingMember(p: Pick<RollParticipant, 'role' | 'canVote'>): boolean {
  return p.canVote && p.role !== 'guest';
}

/**
 * Who holds a member's vote: their own vote proxy (vote:delegate) first, else a paper authorization
 * the secretary recorded that carries the vote under the committee's rules. Undefined: nobody.
 */
export function voteHolderOf(p: RollParticipant, delegations: ReadonlyMap<number, number>, s: ProxySettings): number | undefined {
  const own = delegations.get(p.userId);
  if (own !== undefined) return own;
  if (p.status === 'proxy' && p.proxyHolderId != null && proxyCarriesVote(p.proxyKind ?? 'vote', s)) return p.proxyHolderId;
  return undefined;
}

/** Computes the roll (see the module comment for every definition). */
export function computeRoll(input: RollInput): Roll {
  const { participants, delegations, settings, voters } = input;
  const byId = new Map(participants.map((p) => [p.userId, p]));
  // A holder who is not a participant (an outside substitute) is vouched for by the secretary who recorded it.
  const holderPresent = (id: number) => {
    const h = byId.get(id);
    return !h || checkedIn(h.status);
  };
  const present: number[] = [];
  const eligible: number[] = [];
  let members = 0;
  for (const p of participants) {
    if (!isVotingMember(p)) continue;
    members++;
    const holder = voteHolderOf(p, delegations, settings);
    const here = checkedIn(p.status);
    const represented =
      p.status === 'proxy' && p.proxyHolderId != null && holderPresent(p.proxyHolderId) && ((p.proxyKind ?? 'vote') === 'vote' || settings.substitutesCountPresent);
    const byDelegation = delegations.has(p.userId) && holderPresent(delegations.get(p.userId)!);
    if (here || represented || byDelegation) present.push(p.userId);
    const canCast = holder === undefined ? here : holderPresent(holder) || (settings.delegatorMayVote && here);
    if (canCast || voters.has(p.userId)) eligible.push(p.userId);
  }
  return { members, present: present.length, eligible: eligible.length, voted: voters.size, eligibleIds: eligible, presentIds: present };
}

/** The numbers every screen prints for a vote. */
export interface RollCounts {
  voted: number;
  eligible: number;
  members: number;
}

/**
 * The one sentence for a vote's participation, identical on every screen and document:
 * "5/12 đã biểu quyết · 13 thành viên" / "5 of 12 eligible have voted · 13 members".
 */
export function rollSentence(c: RollCounts, lang: 'vi' | 'en'): string {
  return lang === 'vi' ? `${c.voted}/${c.eligible} đã biểu quyết · ${c.members} thành viên` : `${c.voted} of ${c.eligible} eligible have voted · ${c.members} members`;
}
