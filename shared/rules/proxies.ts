/**
 * Proxies: ONE rule set for the attendance proxy the secretary records (a paper authorization) and the
 * vote proxy a member gives from their own account. Pure: the server decides with it (server/live for
 * `attendance:set_proxy`, server/votes for `vote:delegate` and for every ballot cast on someone's
 * behalf); the client uses it to offer only holders the server will accept. See docs/VOTING.md,
 * "Proxies".
 *
 * Two kinds are kept apart:
 * - `vote`: a vote proxy (ủy quyền biểu quyết). Goes only to a participant with a voting right.
 * - `substitute`: an attendance substitute (cử người dự thay) the absent member sends. May speak; counts
 *   for presence when the committee says so (`substitutesCountPresent`); casts the absent member's vote
 *   only when the committee allows substitutes to vote (`substitutesMayVote`).
 */

export type ProxyKind = 'vote' | 'substitute';

/** A committee's proxy rules (PUT /api/committees/:id/vote-settings). */
export interface ProxySettings {
  /** How many proxies one person may hold (vote proxies and paper authorizations together). Default 1. */
  maxProxies: number;
  /** A substitute may also cast the absent member's vote. Default false. */
  substitutesMayVote: boolean;
  /** A member represented by a present substitute counts as present. Default true. */
  substitutesCountPresent: boolean;
  /** A member who gave a vote proxy may still vote in person. Default false. */
  delegatorMayVote: boolean;
}

export const DEFAULT_PROXY_SETTINGS: ProxySettings = { maxProxies: 1, substitutesMayVote: false, substitutesCountPresent: true, delegatorMayVote: false };

/** What the rules need to know about the giver or the holder of a proxy. */
export interface ProxyParty {
  userId: number;
  /** Role in the meeting; null: not a participant of the meeting. */
  role: 'chair' | 'secretary' | 'member' | 'guest' | null;
  /** Has a voting right in the meeting (guests never do). */
  canVote: boolean;
  /** Checked in (in the room or remote). */
  present: boolean;
  /** The account of a smart room's station PC (server/av room_stations). */
  roomStation: boolean;
  /** Gave their own vote away (a vote proxy or a paper authorization of their own). */
  delegated: boolean;
  /** Proxies this person already holds, not counting one from the same giver (which would be replaced). */
  holds: number;
}

export interface ProxyRequest {
  kind: ProxyKind;
  giver: ProxyParty;
  holder: ProxyParty;
  /** Who records it: the giver themself (from their own account) or the secretary (paper authorization). */
  recordedBy: number;
  /** The paper authorization's reason (required when someone other than the giver records it). */
  reason: string | null;
}

/**
 * Why a proxy is refused (stable error codes, docs/PROTOCOL.md):
 * - `proxy_to_self`: giver and holder are the same person.
 * - `proxy_giver_not_voter`: a vote proxy from someone without a voting right.
 * - `proxy_giver_present`: a paper authorization for a member who is checked in (only the member
 *   themself may hand over their vote while present: they are leaving).
 * - `proxy_reason_required`: a paper authorization without its reason.
 * - `proxy_holder_room_station`: the room station account never holds a proxy.
 * - `proxy_holder_is_recorder`: the person recording a paper authorization never holds it.
 * - `proxy_holder_not_voter`: a vote proxy to a guest, a non-participant or someone without a voting right.
 * - `proxy_chain`: the holder gave their own vote away, or the giver holds someone else's vote.
 * - `proxy_limit_reached`: the holder already holds the committee's maximum.
 */
export type ProxyRefusal =
  | 'proxy_to_self'
  | 'proxy_giver_not_voter'
  | 'proxy_giver_present'
  | 'proxy_reason_required'
  | 'proxy_holder_room_station'
  | 'proxy_holder_is_recorder'
  | 'proxy_holder_not_voter'
  | 'proxy_chain'
  | 'proxy_limit_reached';

/** Every refusal code, in the order the checks run. */
export const PROXY_REFUSALS: readonly ProxyRefusal[] = [
  'proxy_to_self',
  'proxy_giver_not_voter',
  'proxy_giver_present',
  'proxy_reason_required',
  'proxy_holder_room_station',
  'proxy_holder_is_recorder',
  'proxy_holder_not_voter',
  'proxy_chain',
  'proxy_limit_reached',
];

/** Whether `kind` of proxy carries the giver's vote under the committee's rules. */
export function proxyCarriesVote(kind: ProxyKind, s: Pick<ProxySettings, 'substitutesMayVote'>): boolean {
  return kind === 'vote' || s.substitutesMayVote;
}

/**
 * Decides a proxy. Returns null when it is acceptable, else the first rule it breaks.
 * A substitute may be any person except the room station account and the recorder (an outside deputy
 * is a user who is not a participant); but a substitute who would cast the vote (the committee lets
 * substitutes vote) is held to the vote proxy's rules except the voting right.
 */
export function checkProxy(r: ProxyRequest, s: ProxySettings): ProxyRefusal | null {
  const { giver, holder } = r;
  if (giver.userId === holder.userId) return 'proxy_to_self';
  const carriesVote = proxyCarriesVote(r.kind, s);
  if (r.kind === 'vote' && !giver.canVote) return 'proxy_giver_not_voter';
  const paper = r.recordedBy !== giver.userId;
  if (paper && giver.present) return 'proxy_giver_present';
  if (paper && !r.reason?.trim()) return 'proxy_reason_required';
  if (holder.roomStation) return 'proxy_holder_room_station';
  if (paper && holder.userId === r.recordedBy) return 'proxy_holder_is_recorder';
  if (r.kind === 'vote' && (!holder.canVote || holder.role === null || holder.role === 'guest')) return 'proxy_holder_not_voter';
  if (carriesVote && (holder.delegated || giver.holds > 0)) return 'proxy_chain';
  if (holder.holds >= s.maxProxies) return 'proxy_limit_reached';
  return null;
}
