import { and, eq, inArray } from 'drizzle-orm';
import type { Delegation, MyVote, VoteSettings } from '../../shared/protocol/votes.js';
import { type Roll, computeRoll, voteHolderOf } from '../../shared/rules/roll.js';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import type { MeetingOwnership } from '../cluster/cluster.service.js';
import type { Store } from '../db/store.js';
import { meetingParticipants, meetings, voteDelegations, votes } from '../db/tables.js';
import { type AppError, notFound } from '../http/errors.js';
import { meetingAccess } from '../meetings/meetings.access.js';
import { commandTx } from '../realtime/commands.repo.js';
import { type VotePublisher, voteError as err } from './votes.options.js';
import { type VoteRow, attendanceStatus, delegationsOf, participants, userNames, votingMembers } from './votes.repo.js';
import { assertProxy, committeeVoteSettings, isRoomStation, proxyError, proxySettings, rollParticipant, rollParticipants } from './votes.rules.js';

/** An open vote's working state, kept in memory while it is open (rebuilt from the database after a restart). */
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
    private readonly store: Store,
    private readonly publisher: () => VotePublisher | null,
    private readonly ownership: () => Pick<MeetingOwnership, 'claim' | 'fence'> = () => ({ claim: async () => 0, fence: async () => {} }),
  ) {}

  /**
   * The working state of a vote (kept while it is open unless `keep` is false: built inside the opening
   * transaction, it is kept by {@link adopt} once that committed); `openedBy` joins the chairs who see who has not voted.
   */
  async runtime(row: VoteRow, openedBy?: number, keep = true): Promise<OpenVote> {
    const known = this.open.get(row.id);
    if (known) {
      known.row = row;
      return known;
    }
    const { store } = this;
    const committeeId = await this.committeeOf(row.meetingId);
    // One after the other: inside the opening transaction (keep = false) they share its one connection.
    const members = await this.membersOf(row.meetingId);
    const delegations = await delegationsOf(store, row.meetingId);
    const settings = await committeeVoteSettings(store, committeeId);
    const voters = await participants(store, row.id);
    const chairs = await this.chairsOf(row.meetingId);
    // Another call chain may have built it meanwhile: one working state per open vote.
    const raced = this.open.get(row.id);
    if (raced) {
      raced.row = row;
      return raced;
    }
    const ov: OpenVote = { row, committeeId, members, delegations, settings, voters, chairIds: new Set([...chairs, ...(openedBy ? [openedBy] : [])]), eligibleCache: null };
    if (keep && row.state === 'open') this.open.set(row.id, ov);
    return ov;
  }

  /** Keeps `ov` as its open vote's working state, unless another call chain kept one meanwhile (which then takes `ov.row`). */
  adopt(ov: OpenVote): OpenVote {
    const known = this.open.get(ov.row.id);
    if (known) {
      known.row = ov.row;
      return known;
    }
    if (ov.row.state === 'open') this.open.set(ov.row.id, ov);
    return ov;
  }

  /** The voting participants of a meeting (not guests, with the right to vote) by user id. */
  async membersOf(meetingId: number): Promise<Map<number, { fullName: string; role: string }>> {
    return new Map((await votingMembers(this.store, meetingId)).map((m) => [m.userId, m]));
  }

  /** The open vote behind a cast, or the refusal that applies to the caller. */
  async visibleOpenVote(user: AuthUser, voteId: number): Promise<OpenVote> {
    const ov = this.open.get(voteId);
    if (ov && ov.members.has(user.id)) return ov; // hot path: a voting participant of an open vote
    const row = ov?.row ?? (await this.store.q.select().from(votes).where(eq(votes.id, voteId)).limit(1))[0];
    if (!row) throw notFound('Vote');
    await meetingAccess(this.store, user, row.meetingId); // not visible → not_found
    if (row.state === 'draft') throw err('vote_not_open', 'The vote is not open yet');
    if (row.state === 'annulled') throw err('vote_annulled', 'The vote was annulled');
    if (row.state !== 'open') throw err('vote_closed', 'The vote is closed');
    return ov ?? (await this.runtime(row));
  }

  /**
   * Whether the caller may cast this ballot now, in their own name or for `onBehalfOf`.
   * A ballot in the caller's own name (the hot path: a thousand a second) reads nothing here: whether they
   * are checked in is read by the ballot batch's own statement, at the moment of use (`presence`; a refusal
   * there gets its error from {@link refusal}) — on PostgreSQL a read here was a round trip in every ballot's wait.
   * @returns the voter (vote holder) the ballot counts for, and who must be checked in at its commit
   * @throws not_proxy, not_eligible, vote_delegated, absent, proxy refusals
   */
  async assertMayCast(user: AuthUser, ov: OpenVote, onBehalfOf: number | undefined): Promise<{ voterId: number; presence: { meetingId: number; userId: number } | null }> {
    const row = ov.row;
    if (onBehalfOf === undefined || onBehalfOf === user.id) {
      if (!ov.members.has(user.id)) throw err('not_eligible', 'You have no vote in this meeting', 403);
      if (!ov.settings.delegatorMayVote && ov.delegations.has(user.id)) throw err('vote_delegated', 'You delegated your vote for this meeting', 403);
      return { voterId: user.id, presence: { meetingId: row.meetingId, userId: user.id } };
    }
    const status = await attendanceStatus(this.store, row.meetingId, user.id);
    // The proxy must still stand now (a withdrawn or replaced one is refused) and still follow the
    // rules of shared/rules/proxies.ts (a proxy recorded before them may not).
    const giver = await rollParticipant(this.store, row.meetingId, onBehalfOf);
    if (!giver || voteHolderOf(giver, ov.delegations, proxySettings(ov.settings)) !== user.id) throw err('not_proxy', 'You do not hold this member’s vote', 403);
    if (!ov.members.has(onBehalfOf)) throw err('not_eligible', 'That member has no vote here', 403);
    if (await isRoomStation(this.store, user.id)) throw proxyError('proxy_holder_room_station');
    const paperVote = !ov.delegations.has(onBehalfOf) && (giver.proxyKind ?? 'vote') === 'vote';
    if ((ov.delegations.has(onBehalfOf) || paperVote) && !ov.members.has(user.id)) throw proxyError('proxy_holder_not_voter');
    if (status !== 'in_room' && status !== 'remote') throw err('absent', 'Only members checked in to the meeting may vote', 403);
    return { voterId: onBehalfOf, presence: null };
  }

  /**
   * Why a ballot in the caller's own name was refused at its commit, given their attendance status then
   * (null: no row): their vote is held by a proxy recorded in the attendance (vote_delegated), else absent.
   */
  async refusal(ov: OpenVote, userId: number, status: string | null): Promise<AppError> {
    if (!ov.settings.delegatorMayVote && (await this.proxyOf(ov, userId, status ?? undefined)) !== undefined) return err('vote_delegated', 'You delegated your vote for this meeting', 403);
    return err('absent', 'Only members checked in to the meeting may vote', 403);
  }

  /** The caller's own standing in a vote; `choicesOf` reads a named ballot's choices (null: none or secret). */
  async mine(user: AuthUser, row: VoteRow, choicesOf: (voterId: number) => Promise<number[] | null>): Promise<MyVote> {
    const { store } = this;
    const voteId = row.id;
    const ov = row.state === 'open' ? await this.runtime(row) : null;
    const members = ov?.members ?? (await this.membersOf(row.meetingId));
    const dels = ov?.delegations ?? (await delegationsOf(store, row.meetingId));
    const voters = ov?.voters ?? (await participants(store, voteId));
    const hasVoted = voters.has(user.id);
    const settings = ov?.settings ?? (await committeeVoteSettings(store, await this.committeeOf(row.meetingId)));
    const ps = proxySettings(settings);
    const rows = await rollParticipants(store, row.meetingId);
    const me = rows.find((r) => r.userId === user.id);
    const delegated = !!me && voteHolderOf(me, dels, ps) !== undefined;
    let reason: string | null = null;
    if (!members.has(user.id)) reason = 'not_eligible';
    else if (delegated && !settings.delegatorMayVote) reason = 'vote_delegated';
    else if (row.state !== 'open') reason = row.state === 'draft' ? 'vote_not_open' : 'vote_closed';
    else if (!(await this.isPresent(row.meetingId, user.id))) reason = 'absent';
    else if (hasVoted && row.secret) reason = 'already_voted';
    const namedChoices = async (voterId: number): Promise<number[] | null> => (row.secret || !voters.has(voterId) ? null : await choicesOf(voterId));
    const choices = await namedChoices(user.id);
    // Every member whose vote the caller holds: their own vote proxy or a paper authorization carrying the vote.
    const proxyIds = rows.filter((r) => r.userId !== user.id && members.has(r.userId) && voteHolderOf(r, dels, ps) === user.id).map((r) => r.userId);
    const names = await userNames(store, proxyIds);
    // One after another: a caller's transaction runs its statements on one connection.
    const theirChoices: (number[] | null)[] = [];
    for (const id of proxyIds) theirChoices.push(await namedChoices(id));
    return {
      voteId,
      canVote: reason === null,
      reason,
      hasVoted,
      choices,
      proxyFor: proxyIds.map((id, i) => ({ userId: id, fullName: names.get(id) ?? '', hasVoted: voters.has(id), choices: theirChoices[i] })),
    };
  }

  /** Delegates the caller's vote in the meeting to another participant (null: revokes). */
  async delegate(user: AuthUser, meetingId: number, toUserId: number | null): Promise<Delegation | null> {
    const { store } = this;
    const a = await meetingAccess(store, user, meetingId);
    if (!a.canVote) throw err('not_eligible', 'You have no vote to delegate', 403);
    if (a.meeting.status === 'closed') throw err('meeting_closed', 'The meeting is closed');
    // One rule set with the attendance proxy (shared/rules/proxies.ts): a member with a voting right, never
    // the room station, the committee's limit, no chains.
    if (toUserId != null) await assertProxy(store, { meetingId, committeeId: a.meeting.committeeId, kind: 'vote', giverId: user.id, holderId: toUserId, recordedBy: user.id, reason: null });
    // The proxy being replaced or revoked must learn it no longer holds this vote.
    const [prev] = await store.q.select({ to: voteDelegations.toUserId }).from(voteDelegations).where(and(eq(voteDelegations.meetingId, meetingId), eq(voteDelegations.fromUserId, user.id))).limit(1);
    const previous = prev?.to;
    // The open votes' delegations live in the owner's memory (`this.open`): only the owner changes them (#18),
    // fenced by its lease; elsewhere not_owner, so a delegation never misses the runtime that counts it.
    const own = this.ownership();
    await own.claim(meetingId);
    const { fresh, d } = await commandTx(
      store,
      async (q) => {
        await own.fence(q, meetingId);
        await q.delete(voteDelegations).where(and(eq(voteDelegations.meetingId, meetingId), eq(voteDelegations.fromUserId, user.id)));
        if (toUserId != null) await q.insert(voteDelegations).values({ meetingId, fromUserId: user.id, toUserId });
        await audit(q, { actorId: user.id, action: toUserId == null ? 'vote.delegation_revoked' : 'vote.delegated', targetType: 'meeting', targetId: meetingId, details: { toUserId } });
        // Read in the transaction: the command's acknowledgement commits with the change (commandTx).
        return { fresh: await delegationsOf(store, meetingId), d: (await this.delegations(meetingId)).find((x) => x.fromUserId === user.id) ?? null };
      },
      ({ d }) => ({ delegation: d }),
    );
    for (const ov of this.open.values()) if (ov.row.meetingId === meetingId) ov.delegations = new Map(fresh);
    const notify = new Set<number>([user.id, ...(toUserId ? [toUserId] : []), ...(previous ? [previous] : []), ...(await this.chairsOf(meetingId))]);
    for (const u of notify) this.publisher()?.toUser(u, 'vote:delegated', { meetingId, delegation: d, fromUserId: user.id });
    return d;
  }

  /** Delegations in the meeting (chair: all; others: those they give or hold). */
  async delegations(meetingId: number, forUser?: AuthUser, chair = true): Promise<Delegation[]> {
    const rows = await this.store.q.select().from(voteDelegations).where(eq(voteDelegations.meetingId, meetingId));
    const visible = chair || !forUser ? rows : rows.filter((r) => r.fromUserId === forUser.id || r.toUserId === forUser.id);
    const names = await userNames(this.store, [...new Set(visible.flatMap((r) => [r.fromUserId, r.toUserId]))]);
    return visible.map((r) => ({ meetingId, fromUserId: r.fromUserId, fromName: names.get(r.fromUserId) ?? '', toUserId: r.toUserId, toName: names.get(r.toUserId) ?? '', createdAt: r.createdAt }));
  }

  /** Vote holders who may vote now: the one definition of shared/rules/roll.ts (voters added by the callers). */
  async eligibleSet(ov: OpenVote): Promise<Set<number>> {
    return new Set((await this.roll(ov)).eligibleIds);
  }

  /** How many may vote or have voted; a count computed within `maxAgeMs` is reused. */
  async eligibleCount(ov: OpenVote, maxAgeMs = 0): Promise<number> {
    const now = Date.now();
    if (ov.eligibleCache && now - ov.eligibleCache.at <= maxAgeMs) return Math.max(ov.eligibleCache.value, ov.voters.size);
    const e = await this.eligibleSet(ov);
    for (const v of ov.voters) e.add(v);
    ov.eligibleCache = { at: now, value: e.size };
    return e.size;
  }

  /** The chairs and secretaries of a meeting. */
  async chairsOf(meetingId: number): Promise<number[]> {
    const rows = await this.store.q
      .select({ u: meetingParticipants.userId })
      .from(meetingParticipants)
      .where(and(eq(meetingParticipants.meetingId, meetingId), inArray(meetingParticipants.role, ['chair', 'secretary'])));
    return rows.map((r) => r.u);
  }

  private async committeeOf(meetingId: number): Promise<number> {
    const [m] = await this.store.q.select({ c: meetings.committeeId }).from(meetings).where(eq(meetings.id, meetingId)).limit(1);
    return m!.c;
  }

  /** Checked in to the meeting (in the room or remote), as recorded by server/live's attendance. */
  private async isPresent(meetingId: number, userId: number): Promise<boolean> {
    const s = await attendanceStatus(this.store, meetingId, userId);
    return s === 'in_room' || s === 'remote';
  }

  /**
   * Who holds a member's vote: a delegation the member made here (vote:delegate), else the proxy
   * recorded by the secretary in the attendance (ủy quyền). Undefined: nobody.
   */
  private async proxyOf(ov: OpenVote, userId: number, status: string | undefined): Promise<number | undefined> {
    if (ov.delegations.has(userId)) return ov.delegations.get(userId);
    if (status !== 'proxy') return undefined;
    const p = await rollParticipant(this.store, ov.row.meetingId, userId);
    return p && voteHolderOf(p, ov.delegations, proxySettings(ov.settings));
  }

  /** The roll of an open vote now (members, present, eligible, voted). */
  private async roll(ov: OpenVote): Promise<Roll> {
    return computeRoll({ participants: await rollParticipants(this.store, ov.row.meetingId), delegations: ov.delegations, settings: proxySettings(ov.settings), voters: ov.voters });
  }
}
