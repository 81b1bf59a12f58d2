import { and, eq, inArray } from 'drizzle-orm';
import type { Delegation, MyVote, VoteSettings } from '../../shared/protocol/votes.js';
import { type Roll, computeRoll, voteHolderOf } from '../../shared/rules/roll.js';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import { type Db, tx } from '../db/client.js';
import { meetingParticipants, meetings, voteDelegations, votes } from '../db/schema/index.js';
import { notFound } from '../http/errors.js';
import { meetingAccess } from '../meetings/meetings.access.js';
import { type VotePublisher, voteError as err } from './votes.options.js';
import { type BallotStatements, type VoteRow, delegationsOf, participants, userNames, votingMembers } from './votes.repo.js';
import { assertProxy, committeeVoteSettings, isRoomStation, proxyError, proxySettings, rollParticipant, rollParticipants } from './votes.rules.js';

/** An open vote's working state, kept in memory while it is open (rebuilt from SQLite after a restart). */
export interface OpenVote {
  row: VoteRow;
  committeeId: number;
  members: Map<number, { fullName: string; role: string }>;
  delegations: Map<number, number>;
  /** The committee's voting rules (proxies, majority), read when the vote opened or the server restarted. */
  settings: VoteSettings;
  /** Voters (vote holders) whose ballot is committed. */
  voters: Set<number>;
  /** Who gets the named "not voted yet" list: chairs of the meeting and whoever opened the vote. */
  chairIds: Set<number>;
  /** Eligible count computed recently (the "everyone has voted" check runs per batch). */
  eligibleCache: { at: number; value: number } | null;
}

/**
 * Who may vote: the open votes' working state (members, delegations, voters), presence, vote proxies
 * and delegations (shared/rules/proxies.ts and roll.ts through server/votes/votes.rules.ts), and the
 * eligible count. Part of the {@link VotesService} (server/votes/votes.service.ts).
 */
export class VoteEligibility {
  /** The open votes by id. */
  readonly open = new Map<number, OpenVote>();

  constructor(
    private readonly db: Db,
    private readonly stmts: BallotStatements,
    private readonly publisher: () => VotePublisher | null,
  ) {}

  /** The working state of a vote (kept while it is open); `openedBy` joins the chairs who see who has not voted. */
  runtime(row: VoteRow, openedBy?: number): OpenVote {
    let ov = this.open.get(row.id);
    if (ov) {
      ov.row = row;
      return ov;
    }
    const { db } = this;
    const m = db.select().from(meetings).where(eq(meetings.id, row.meetingId)).get()!;
    ov = {
      row,
      committeeId: m.committeeId,
      members: this.membersOf(row.meetingId),
      delegations: delegationsOf(db, row.meetingId),
      settings: committeeVoteSettings(db, m.committeeId),
      voters: participants(db, row.id),
      chairIds: new Set([...this.chairsOf(row.meetingId), ...(openedBy ? [openedBy] : [])]),
      eligibleCache: null,
    };
    if (row.state === 'open') this.open.set(row.id, ov);
    return ov;
  }

  /** The voting participants of a meeting (not guests, with the right to vote) by user id. */
  membersOf(meetingId: number): Map<number, { fullName: string; role: string }> {
    return new Map(votingMembers(this.db, meetingId).map((m) => [m.userId, m]));
  }

  /** The open vote behind a cast, or the refusal that applies to the caller. */
  visibleOpenVote(user: AuthUser, voteId: number): OpenVote {
    const ov = this.open.get(voteId);
    if (ov && ov.members.has(user.id)) return ov; // hot path: a voting participant of an open vote
    const row = ov?.row ?? this.db.select().from(votes).where(eq(votes.id, voteId)).get();
    if (!row) throw notFound('Vote');
    meetingAccess(this.db, user, row.meetingId); // not visible → not_found
    if (row.state === 'draft') throw err('vote_not_open', 'The vote is not open yet');
    if (row.state === 'annulled') throw err('vote_annulled', 'The vote was annulled');
    if (row.state !== 'open') throw err('vote_closed', 'The vote is closed');
    return ov ?? this.runtime(row);
  }

  /**
   * Whether the caller may cast this ballot now, in their own name or for `onBehalfOf`.
   * @returns the voter (vote holder) the ballot counts for
   * @throws not_proxy, not_eligible, vote_delegated, absent, proxy refusals
   */
  assertMayCast(user: AuthUser, ov: OpenVote, onBehalfOf: number | undefined): number {
    const row = ov.row;
    if (onBehalfOf !== undefined && onBehalfOf !== user.id) {
      // The proxy must still stand now (a withdrawn or replaced one is refused) and still follow the
      // rules of shared/rules/proxies.ts (a proxy recorded before them may not).
      const giver = rollParticipant(this.db, row.meetingId, onBehalfOf);
      if (!giver || voteHolderOf(giver, ov.delegations, proxySettings(ov.settings)) !== user.id) throw err('not_proxy', 'You do not hold this member’s vote', 403);
      if (!ov.members.has(onBehalfOf)) throw err('not_eligible', 'That member has no vote here', 403);
      if (isRoomStation(this.db, user.id)) throw proxyError('proxy_holder_room_station');
      const paperVote = !ov.delegations.has(onBehalfOf) && (giver.proxyKind ?? 'vote') === 'vote';
      if ((ov.delegations.has(onBehalfOf) || paperVote) && !ov.members.has(user.id)) throw proxyError('proxy_holder_not_voter');
    } else {
      if (!ov.members.has(user.id)) throw err('not_eligible', 'You have no vote in this meeting', 403);
      if (this.proxyOf(ov, user.id) !== undefined && !ov.settings.delegatorMayVote) throw err('vote_delegated', 'You delegated your vote for this meeting', 403);
    }
    if (!this.isPresent(row.meetingId, user.id)) throw err('absent', 'Only members checked in to the meeting may vote', 403);
    return onBehalfOf ?? user.id;
  }

  /** The caller's own standing in a vote; `choicesOf` reads a named ballot's choices (null: none or secret). */
  mine(user: AuthUser, row: VoteRow, choicesOf: (voterId: number) => number[] | null): MyVote {
    const { db } = this;
    const voteId = row.id;
    const ov = row.state === 'open' ? this.runtime(row) : null;
    const members = ov?.members ?? this.membersOf(row.meetingId);
    const dels = ov?.delegations ?? delegationsOf(db, row.meetingId);
    const voters = ov?.voters ?? participants(db, voteId);
    const hasVoted = voters.has(user.id);
    const settings = ov?.settings ?? committeeVoteSettings(db, this.committeeOf(row.meetingId));
    const ps = proxySettings(settings);
    const rows = rollParticipants(db, row.meetingId);
    const me = rows.find((r) => r.userId === user.id);
    const delegated = !!me && voteHolderOf(me, dels, ps) !== undefined;
    let reason: string | null = null;
    if (!members.has(user.id)) reason = 'not_eligible';
    else if (delegated && !settings.delegatorMayVote) reason = 'vote_delegated';
    else if (row.state !== 'open') reason = row.state === 'draft' ? 'vote_not_open' : 'vote_closed';
    else if (!this.isPresent(row.meetingId, user.id)) reason = 'absent';
    else if (hasVoted && row.secret) reason = 'already_voted';
    const namedChoices = (voterId: number): number[] | null => (row.secret || !voters.has(voterId) ? null : choicesOf(voterId));
    const choices = namedChoices(user.id);
    // Every member whose vote the caller holds: their own vote proxy or a paper authorization carrying the vote.
    const proxyIds = rows.filter((r) => r.userId !== user.id && members.has(r.userId) && voteHolderOf(r, dels, ps) === user.id).map((r) => r.userId);
    const names = userNames(db, proxyIds);
    return {
      voteId,
      canVote: reason === null,
      reason,
      hasVoted,
      choices,
      proxyFor: proxyIds.map((id) => ({ userId: id, fullName: names.get(id) ?? '', hasVoted: voters.has(id), choices: namedChoices(id) })),
    };
  }

  /** Delegates the caller's vote in the meeting to another participant (null: revokes). */
  delegate(user: AuthUser, meetingId: number, toUserId: number | null): Delegation | null {
    const { db } = this;
    const a = meetingAccess(db, user, meetingId);
    if (!a.canVote) throw err('not_eligible', 'You have no vote to delegate', 403);
    if (a.meeting.status === 'closed') throw err('meeting_closed', 'The meeting is closed');
    // One rule set with the attendance proxy (shared/rules/proxies.ts): a member with a voting right, never
    // the room station, the committee's limit, no chains.
    if (toUserId != null) assertProxy(db, { meetingId, committeeId: a.meeting.committeeId, kind: 'vote', giverId: user.id, holderId: toUserId, recordedBy: user.id, reason: null });
    // The proxy being replaced or revoked must learn it no longer holds this vote.
    const previous = db.select({ to: voteDelegations.toUserId }).from(voteDelegations).where(and(eq(voteDelegations.meetingId, meetingId), eq(voteDelegations.fromUserId, user.id))).get()?.to;
    tx(db, (d) => {
      d.delete(voteDelegations).where(and(eq(voteDelegations.meetingId, meetingId), eq(voteDelegations.fromUserId, user.id))).run();
      if (toUserId != null) d.insert(voteDelegations).values({ meetingId, fromUserId: user.id, toUserId }).run();
      audit(d, { actorId: user.id, action: toUserId == null ? 'vote.delegation_revoked' : 'vote.delegated', targetType: 'meeting', targetId: meetingId, details: { toUserId } });
    });
    for (const ov of this.open.values()) if (ov.row.meetingId === meetingId) ov.delegations = delegationsOf(db, meetingId);
    const d = this.delegations(meetingId).find((x) => x.fromUserId === user.id) ?? null;
    const notify = new Set<number>([user.id, ...(toUserId ? [toUserId] : []), ...(previous ? [previous] : []), ...this.chairsOf(meetingId)]);
    for (const u of notify) this.publisher()?.toUser(u, 'vote:delegated', { meetingId, delegation: d, fromUserId: user.id });
    return d;
  }

  /** Delegations in the meeting (chair: all; others: those they give or hold). */
  delegations(meetingId: number, forUser?: AuthUser, chair = true): Delegation[] {
    const rows = this.db.select().from(voteDelegations).where(eq(voteDelegations.meetingId, meetingId)).all();
    const visible = chair || !forUser ? rows : rows.filter((r) => r.fromUserId === forUser.id || r.toUserId === forUser.id);
    const names = userNames(this.db, [...new Set(visible.flatMap((r) => [r.fromUserId, r.toUserId]))]);
    return visible.map((r) => ({ meetingId, fromUserId: r.fromUserId, fromName: names.get(r.fromUserId) ?? '', toUserId: r.toUserId, toName: names.get(r.toUserId) ?? '', createdAt: r.createdAt }));
  }

  /** Vote holders who may vote now: the one definition of shared/rules/roll.ts (voters added by the callers). */
  eligibleSet(ov: OpenVote): Set<number> {
    return new Set(this.roll(ov).eligibleIds);
  }

  /** How many may vote or have voted; a count computed within `maxAgeMs` is reused. */
  eligibleCount(ov: OpenVote, maxAgeMs = 0): number {
    const now = Date.now();
    if (ov.eligibleCache && now - ov.eligibleCache.at <= maxAgeMs) return Math.max(ov.eligibleCache.value, ov.voters.size);
    const e = this.eligibleSet(ov);
    for (const v of ov.voters) e.add(v);
    ov.eligibleCache = { at: now, value: e.size };
    return e.size;
  }

  /** The chairs and secretaries of a meeting. */
  chairsOf(meetingId: number): number[] {
    return this.db
      .select({ u: meetingParticipants.userId })
      .from(meetingParticipants)
      .where(and(eq(meetingParticipants.meetingId, meetingId), inArray(meetingParticipants.role, ['chair', 'secretary'])))
      .all()
      .map((r) => r.u);
  }

  private committeeOf(meetingId: number): number {
    return this.db.select({ c: meetings.committeeId }).from(meetings).where(eq(meetings.id, meetingId)).get()!.c;
  }

  /** Checked in to the meeting (in the room or remote), as recorded by server/live's attendance. */
  private isPresent(meetingId: number, userId: number): boolean {
    const s = this.stmts.attendance.get(meetingId, userId)?.status;
    return s === 'in_room' || s === 'remote';
  }

  /**
   * Who holds a member's vote: a delegation the member made here (vote:delegate), else the proxy
   * recorded by the secretary in the attendance (ủy quyền). Undefined: nobody.
   */
  private proxyOf(ov: OpenVote, userId: number): number | undefined {
    if (ov.delegations.has(userId)) return ov.delegations.get(userId);
    const a = this.stmts.attendance.get(ov.row.meetingId, userId);
    if (a?.status !== 'proxy') return undefined;
    const p = rollParticipant(this.db, ov.row.meetingId, userId);
    return p && voteHolderOf(p, ov.delegations, proxySettings(ov.settings));
  }

  /** The roll of an open vote now (members, present, eligible, voted). */
  private roll(ov: OpenVote): Roll {
    return computeRoll({ participants: rollParticipants(this.db, ov.row.meetingId), delegations: ov.delegations, settings: proxySettings(ov.settings), voters: ov.voters });
  }
}
