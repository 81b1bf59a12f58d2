import { and, asc, eq } from 'drizzle-orm';
import type { VoteSettings } from '../../shared/protocol/votes.js';
import type { MajorityRule } from '../../shared/rules/majority.js';
import { type ProxyKind, type ProxyParty, type ProxyRefusal, type ProxySettings, DEFAULT_PROXY_SETTINGS, checkProxy } from '../../shared/rules/proxies.js';
import type { RollParticipant } from '../../shared/rules/roll.js';
import type { Store } from '../db/store.js';
import { attendance, meetingParticipants, roomStations, voteCommitteeSettings, voteDelegations } from '../db/tables.js';
import { AppError } from '../http/errors.js';

/*
 * The server side of shared/rules/proxies.ts and shared/rules/roll.ts: reads what those pure rules
 * need (committee settings, participants with attendance, room stations, delegations) and throws their
 * refusals as AppErrors. server/live (attendance:set_proxy) and server/votes (vote:delegate, vote:cast)
 * both call it, so the attendance proxy and the vote proxy follow one rule set.
 * Everything reads through the store.
 */

/** A committee's voting settings, with defaults when none were saved. */
export async function committeeVoteSettings(store: Store, committeeId: number): Promise<VoteSettings> {
  const [r] = await store.q.select().from(voteCommitteeSettings).where(eq(voteCommitteeSettings.committeeId, committeeId)).limit(1);
  return withDefaults(r);
}

function withDefaults(r: typeof voteCommitteeSettings.$inferSelect | undefined): VoteSettings {
  return {
    delegatorMayVote: r?.delegatorMayVote ?? DEFAULT_PROXY_SETTINGS.delegatorMayVote,
    maxProxies: r?.maxProxies ?? DEFAULT_PROXY_SETTINGS.maxProxies,
    substitutesMayVote: r?.substitutesMayVote ?? DEFAULT_PROXY_SETTINGS.substitutesMayVote,
    substitutesCountPresent: r?.substitutesCountPresent ?? DEFAULT_PROXY_SETTINGS.substitutesCountPresent,
    majority: (r?.majority ?? 'absolute_members') as MajorityRule,
  };
}

export function proxySettings(s: VoteSettings): ProxySettings {
  return { maxProxies: s.maxProxies, substitutesMayVote: s.substitutesMayVote, substitutesCountPresent: s.substitutesCountPresent, delegatorMayVote: s.delegatorMayVote };
}

const participantColumns = {
  userId: meetingParticipants.userId,
  role: meetingParticipants.role,
  canVote: meetingParticipants.canVote,
  status: attendance.status,
  proxyHolderId: attendance.proxyHolderId,
  proxyKind: attendance.proxyKind,
};

/** One participant of a meeting with attendance and proxy kind (undefined: not a participant). */
export async function rollParticipant(store: Store, meetingId: number, userId: number): Promise<RollParticipant | undefined> {
  const [r] = await store.q
    .select(participantColumns)
    .from(meetingParticipants)
    .leftJoin(attendance, and(eq(attendance.meetingId, meetingParticipants.meetingId), eq(attendance.userId, meetingParticipants.userId)))
    .where(and(eq(meetingParticipants.meetingId, meetingId), eq(meetingParticipants.userId, userId)))
    .limit(1);
  return r;
}

/** Every participant of a meeting with attendance and proxy kind, in user-id order (the roll's input). */
export async function rollParticipants(store: Store, meetingId: number): Promise<RollParticipant[]> {
  return store.q
    .select(participantColumns)
    .from(meetingParticipants)
    .leftJoin(attendance, and(eq(attendance.meetingId, meetingParticipants.meetingId), eq(attendance.userId, meetingParticipants.userId)))
    .where(eq(meetingParticipants.meetingId, meetingId))
    .orderBy(asc(meetingParticipants.userId));
}

/** Vote proxies given from members' own accounts: giver → holder. */
export async function ownDelegations(store: Store, meetingId: number): Promise<Map<number, number>> {
  const rows = await store.q.select().from(voteDelegations).where(eq(voteDelegations.meetingId, meetingId));
  return new Map(rows.map((r) => [r.fromUserId, r.toUserId]));
}

/** Whether a user is a room station account. */
export async function isRoomStation(store: Store, userId: number): Promise<boolean> {
  const [r] = await store.q.select({ u: roomStations.userId }).from(roomStations).where(eq(roomStations.userId, userId)).limit(1);
  return !!r;
}

type ProxyRequest = { meetingId: number; committeeId: number; kind: ProxyKind; giverId: number; holderId: number; recordedBy: number; reason: string | null };

/**
 * Checks a proxy against the rules with the meeting's current state and throws the refusal
 * (attendance:set_proxy, vote:delegate).
 * `replaceFrom`: the giver, whose existing proxy (if any) this one replaces and so does not count
 * against the holder's limit.
 * @throws AppError with a ProxyRefusal code (400; 409 for proxy_limit_reached)
 */
export async function assertProxy(store: Store, p: ProxyRequest): Promise<void> {
  // One after another: this runs inside the command's transaction, whose statements share one connection.
  const settings = await committeeVoteSettings(store, p.committeeId);
  const rows = await rollParticipants(store, p.meetingId);
  const dels = await ownDelegations(store, p.meetingId);
  const giverStation = await isRoomStation(store, p.giverId);
  const holderStation = await isRoomStation(store, p.holderId);
  checkProxyOrThrow(p, proxySettings(settings), rows, dels, (id) => (id === p.giverId ? giverStation : holderStation));
}

function checkProxyOrThrow(p: ProxyRequest, settings: ProxySettings, rows: RollParticipant[], dels: Map<number, number>, roomStation: (userId: number) => boolean): void {
  const party = (userId: number): ProxyParty => {
    const r = rows.find((x) => x.userId === userId);
    const paperHeld = rows.filter((x) => x.userId !== p.giverId && x.status === 'proxy' && x.proxyHolderId === userId).length;
    const ownHeld = [...dels].filter(([from, to]) => from !== p.giverId && to === userId).length;
    return {
      userId,
      role: r?.role ?? null,
      canVote: !!r && r.canVote && r.role !== 'guest',
      present: r?.status === 'in_room' || r?.status === 'remote',
      roomStation: roomStation(userId),
      delegated: dels.has(userId) || (r?.status === 'proxy' && r.proxyHolderId != null),
      holds: paperHeld + ownHeld,
    };
  };
  const refusal = checkProxy({ kind: p.kind, giver: party(p.giverId), holder: party(p.holderId), recordedBy: p.recordedBy, reason: p.reason }, settings);
  if (refusal) throw proxyError(refusal);
}

const MESSAGES: Record<ProxyRefusal, string> = {
  proxy_to_self: 'A member cannot hold their own proxy',
  proxy_giver_not_voter: 'Only a member with a voting right can give a vote proxy',
  proxy_giver_present: 'A paper authorization can only be recorded for a member who is absent',
  proxy_reason_required: 'Give the reason of the paper authorization',
  proxy_holder_room_station: 'The room station account cannot hold a proxy',
  proxy_holder_is_recorder: 'You cannot record a proxy to yourself',
  proxy_holder_not_voter: 'A vote proxy goes only to a member with a voting right',
  proxy_chain: 'That person gave their own vote away, or the giver holds another member’s vote',
  proxy_limit_reached: 'That person already holds as many proxies as the committee allows',
};

export function proxyError(code: ProxyRefusal): AppError {
  return new AppError(code, MESSAGES[code], code === 'proxy_limit_reached' ? 409 : 400);
}
