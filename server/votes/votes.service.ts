import type { RealtimeHub } from '../realtime/hub.js';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { CreateVoteBody, Delegation, MyVote, TallyResultView, VoteSettings, VoteView } from '../../shared/protocol/votes.js';
import type { ErrorCode } from '../../shared/protocol/errors.js';
import { describeRule, tally, validateChoices } from '../../shared/rules/tally.js';
import { type Roll, computeRoll, voteHolderOf } from '../../shared/rules/roll.js';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import { tx } from '../db/client.js';
import { WalSync } from '../db/wal-sync.js';
import { BallotBox, eraseWal } from './votes.ballots.js';
import { agendaItems, meetingParticipants, meetings, voteDelegations, voteEligibility, votes } from '../db/schema/index.js';
import { AppError, notFound } from '../http/errors.js';
import { meetingAccess, requireChair } from '../meetings/meetings.access.js';
import { attendanceState } from '../live/live.service.js';
import {
  BallotStatements,
  type VoteRow,
  countVote,
  delegationsOf,
  namedRoll,
  participants,
  participationCount,
  receiptKey,
  userNames,
  votingMembers,
} from './votes.repo.js';
import { assertProxy, committeeVoteSettings, isRoomStation, proxyError, proxySettings, rollParticipant, rollParticipants } from './votes.rules.js';

/** How the service reaches the meeting room; set by the socket domain (server/votes/votes.socket.ts). */
/** The hub's typed pushes (only events of shared/protocol's push table, with their payloads). */
export type VotePublisher = Pick<RealtimeHub, 'broadcast' | 'toUser'>;

/** Tunables (benchmarks and tests may lower the interval). */
export const voteOptions = {
  /**
   * Progress pushes of one vote are at least this far apart (trailing: the first one goes out this
   * long after the first ballot), plus one at once when every eligible voter has voted.
   */
  progressIntervalMs: 500,
  /**
   * Durability of an acknowledged ballot. FULL (default): acknowledged only once the WAL holding it
   * is fsynced (group commit, on the thread pool), so it survives a power loss, not only a process
   * crash — what SQLite's `synchronous = FULL` gives, without stalling the loop. NORMAL: acknowledged
   * at commit (survives `kill -9`). See docs/VOTING.md.
   */
  ballotSync: 'FULL' as 'FULL' | 'NORMAL',
  /** The clock deadlines are checked against (tests move it forward instead of sleeping). */
  now: () => Date.now(),
};

const MOTION_LABELS = ['Tán thành', 'Không tán thành'];
const err = (code: ErrorCode, message: string, status = 409) => new AppError(code, message, status);

/** An open vote's working state, kept in memory while it is open (rebuilt from SQLite after a restart). */
interface OpenVote {
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

interface PendingBallot {
  ov: OpenVote;
  voterId: number;
  castBy: number;
  choices: number[];
  key: Buffer | null;
  resolve(v: { changed: boolean }): void;
  reject(e: unknown): void;
}

/**
 * Votes: configuration, lifecycle, eligibility, ballots and results. No HTTP or socket types here;
 * pushes go through a {@link VotePublisher}. Ballots of one event-loop tick are written in one
 * transaction with `synchronous=FULL` and each is acknowledged only after that commit.
 */
export class VotesService {
  publisher: VotePublisher | null = null;

  private readonly stmts: BallotStatements;
  private readonly walSync: WalSync;
  /** Secret ballots, sealed until the close (docs/VOTING.md). */
  private readonly box: BallotBox;
  private readonly open = new Map<number, OpenVote>();
  private queue: PendingBallot[] = [];
  private flushScheduled = false;
  private readonly lastProgress = new Map<number, number>();
  private readonly progressTimers = new Map<number, NodeJS.Timeout>();
  private readonly closeTimers = new Map<number, NodeJS.Timeout>();

  constructor(private readonly ctx: AppContext) {
    this.stmts = new BallotStatements(ctx.db.$client);
    this.walSync = new WalSync(ctx.db.$client);
    this.box = new BallotBox(ctx.db.$client, ctx.config.secret);
  }

  // ----------------------------------------------------------------------------------------------
  // Lifecycle

  /**
   * Prepares a vote (state `draft`) on the meeting, optionally on one of its agenda items.
   * @throws not_found (meeting or item not visible), forbidden (not chair/secretary)
   */
  create(user: AuthUser, meetingId: number, body: CreateVoteBody): VoteView {
    const { db } = this.ctx;
    const a = requireChair(db, user, meetingId);
    if (a.meeting.status === 'closed') throw err('meeting_closed', 'The meeting is closed');
    for (const itemId of [...(body.agendaItemId != null ? [body.agendaItemId] : []), ...(body.bloc ?? [])]) {
      const item = db.select({ id: agendaItems.id }).from(agendaItems).where(and(eq(agendaItems.id, itemId), eq(agendaItems.meetingId, meetingId))).get();
      if (!item) throw notFound('Agenda item');
    }
    const options = body.kind === 'motion' ? MOTION_LABELS : body.options;
    const maxChoices = body.kind === 'multiple' ? (body.maxChoices ?? options.length) : body.kind === 'election' ? body.seats! : 1;
    const row = tx(db, (d) => {
      const r = d
        .insert(votes)
        .values({
          meetingId,
          agendaItemId: body.agendaItemId,
          title: body.title,
          kind: body.kind,
          secret: body.secret,
          options,
          maxChoices,
          seats: body.kind === 'election' ? body.seats! : 1,
          majority: body.majority ?? committeeVoteSettings(db, a.meeting.committeeId).majority,
          abstentions: body.abstentions,
          tieBreak: body.tieBreak,
          quorum: body.quorum,
          durationSeconds: body.durationSeconds,
          bloc: body.bloc ? body.bloc.map((agendaItemId) => ({ agendaItemId, pulledBy: null })) : null,
          createdBy: user.id,
        })
        .returning()
        .get();
      audit(d, { actorId: user.id, action: 'vote.created', targetType: 'vote', targetId: r.id, details: { meetingId, kind: r.kind, secret: r.secret, majority: r.majority, ...(body.bloc ? { bloc: body.bloc } : {}) } });
      return r;
    });
    const view = this.view(row);
    this.publisher?.broadcast(meetingId, 'vote:changed', { vote: view });
    this.ctx.bus.emit('vote:changed', { meetingId, voteId: view.id, state: view.state });
    return view;
  }

  /**
   * Opens a draft vote. Without the meeting's quorum (server/live's attendance, the same count as the
   * quorum badge) only with the chair's `overrideReason`, which is recorded on the vote and audited.
   * @throws not_found, forbidden, invalid_state, meeting_not_live, no_quorum
   */
  openVote(user: AuthUser, voteId: number, overrideReason?: string): VoteView {
    const row = this.chairRow(user, voteId);
    if (row.state !== 'draft') throw err(row.state === 'annulled' ? 'vote_annulled' : 'invalid_state', 'Only a prepared vote can be opened');
    if (row.bloc && !row.bloc.some((b) => b.pulledBy == null)) throw err('invalid_state', 'Every item was pulled out of the bloc: nothing is left to adopt together');
    const m = this.ctx.db.select().from(meetings).where(eq(meetings.id, row.meetingId)).get()!;
    if (m.status !== 'live') throw err('meeting_not_live', 'Open the meeting before opening a vote');
    const q = attendanceState(this.ctx.db, row.meetingId).quorum;
    if (!q.met && !overrideReason) throw err('no_quorum', `No quorum (${q.sentence}); give a reason to open the vote anyway`);
    const reason = q.met ? null : overrideReason!;
    const now = new Date(voteOptions.now());
    const closesAt = row.durationSeconds ? new Date(now.getTime() + row.durationSeconds * 1000).toISOString() : null;
    const updated = tx(this.ctx.db, (d) => {
      const r = d.update(votes).set({ state: 'open', openedAt: now.toISOString(), closesAt, quorumOverrideReason: reason }).where(eq(votes.id, voteId)).returning().get();
      audit(d, { actorId: user.id, action: 'vote.opened', targetType: 'vote', targetId: voteId, details: { closesAt, quorum: q.sentence, ...(reason ? { overrideReason: reason } : {}) } });
      return r;
    });
    const ov = this.runtime(updated, user.id);
    this.scheduleClose(updated);
    const view = this.view(updated, ov);
    this.publisher?.broadcast(row.meetingId, 'vote:changed', { vote: view });
    this.ctx.bus.emit('vote:changed', { meetingId: row.meetingId, voteId: view.id, state: view.state });
    return view;
  }

  /** Moves the automatic close `seconds` later (from now when there was none). */
  extend(user: AuthUser, voteId: number, seconds: number): VoteView {
    const row = this.chairRow(user, voteId);
    if (row.state !== 'open') throw err(row.state === 'annulled' ? 'vote_annulled' : 'vote_not_open', 'The vote is not open');
    const from = Math.max(voteOptions.now(), row.closesAt ? Date.parse(row.closesAt) : 0);
    const closesAt = new Date(from + seconds * 1000).toISOString();
    const updated = tx(this.ctx.db, (d) => {
      const r = d.update(votes).set({ closesAt }).where(eq(votes.id, voteId)).returning().get();
      audit(d, { actorId: user.id, action: 'vote.extended', targetType: 'vote', targetId: voteId, details: { closesAt, seconds } });
      return r;
    });
    const ov = this.open.get(voteId);
    if (ov) ov.row = updated;
    this.scheduleClose(updated);
    const view = this.view(updated, ov);
    this.publisher?.broadcast(row.meetingId, 'vote:changed', { vote: view });
    this.ctx.bus.emit('vote:changed', { meetingId: row.meetingId, voteId: view.id, state: view.state });
    return view;
  }

  /**
   * Closes an open vote and counts it: ballots still queued are committed first, the eligibility
   * snapshot and the result are written in one transaction, then `vote:closed` goes to the room.
   */
  close(user: AuthUser | null, voteId: number): VoteView {
    const row = user ? this.chairRow(user, voteId) : this.ctx.db.select().from(votes).where(eq(votes.id, voteId)).get();
    if (!row) throw notFound('Vote');
    if (row.state === 'draft') throw err('vote_not_open', 'The vote is not open');
    if (row.state === 'annulled') throw err('vote_annulled', 'The vote was annulled');
    if (row.state !== 'open') throw err('vote_closed', 'The vote is already closed');
    if (this.queue.length) this.flush();
    const ov = this.runtime(row);
    const eligible = this.eligibleSet(ov);
    for (const v of ov.voters) eligible.add(v);
    const { db } = this.ctx;
    const closed = tx(db, (d) => {
      // A secret vote's sealed ballots are opened, shuffled and published here (server/votes/votes.ballots.ts).
      if (row.secret) this.box.publish(voteId, row.options.length);
      const counted = countVote(d.$client, row);
      const members = ov.members.size;
      const t = tally({
        rules: { kind: row.kind, majority: row.majority, abstentions: row.abstentions, tieBreak: row.tieBreak, quorum: row.quorum, maxChoices: row.maxChoices, seats: row.seats },
        ...counted,
        present: eligible.size,
        members,
        labels: row.options,
      });
      const result: TallyResultView = { ...t, present: eligible.size, members, eligible: eligible.size, rule: describeRule(row) };
      if (eligible.size) d.insert(voteEligibility).values([...eligible].map((userId) => ({ voteId, userId }))).onConflictDoNothing().run();
      const r = d.update(votes).set({ state: 'closed', closedAt: new Date().toISOString(), result }).where(eq(votes.id, voteId)).returning().get();
      audit(d, {
        actorId: user?.id ?? null,
        action: 'vote.closed',
        targetType: 'vote',
        targetId: voteId,
        details: { outcome: t.outcome, counts: t.counts, abstentions: t.abstentions, eligible: eligible.size, auto: !user },
      });
      return r;
    });
    this.forget(voteId);
    // The WAL holds the vote's page images in commit order until a checkpoint: empty it now.
    if (row.secret) eraseWal(db.$client);
    const view = this.view(closed);
    this.publisher?.broadcast(row.meetingId, 'vote:closed', { vote: view });
    this.ctx.bus.emit('vote:changed', { meetingId: row.meetingId, voteId: view.id, state: view.state });
    return view;
  }

  /** Announces a closed vote; a tie awaiting the chair is decided by `castingVote`. */
  announce(user: AuthUser, voteId: number, castingVote?: number[]): VoteView {
    const row = this.chairRow(user, voteId);
    if (row.state === 'draft' || row.state === 'open') throw err('vote_not_closed', 'Close the vote first');
    if (row.state === 'annulled') throw err('vote_annulled', 'The vote was annulled');
    if (row.state === 'announced') throw err('invalid_state', 'Already announced');
    let result = row.result!;
    if (result.outcome === 'tie') {
      if (!castingVote) throw err('casting_vote_required', 'The vote is tied: give the casting vote');
      const t = tally({
        rules: { kind: row.kind, majority: row.majority, abstentions: row.abstentions, tieBreak: row.tieBreak, quorum: row.quorum, maxChoices: row.maxChoices, seats: row.seats },
        counts: result.counts,
        voted: result.voted,
        abstentions: result.abstentions,
        present: result.present,
        members: result.members,
        castingVote,
        labels: row.options,
      });
      if (t.outcome === 'tie') throw err('invalid_casting_vote', 'The casting vote must pick among the tied options');
      result = { ...result, ...t };
    }
    const updated = tx(this.ctx.db, (d) => {
      const r = d.update(votes).set({ state: 'announced', announcedAt: new Date().toISOString(), result }).where(eq(votes.id, voteId)).returning().get();
      audit(d, { actorId: user.id, action: 'vote.announced', targetType: 'vote', targetId: voteId, details: { outcome: result.outcome, castingVote: result.castingVoteApplied ? castingVote : undefined } });
      return r;
    });
    const view = this.view(updated);
    this.publisher?.broadcast(row.meetingId, 'vote:changed', { vote: view });
    this.ctx.bus.emit('vote:changed', { meetingId: row.meetingId, voteId: view.id, state: view.state });
    return view;
  }

  /**
   * Annuls an open, closed or announced vote with the chair's reason (state `annulled`, audited). An open
   * vote's queued ballots are committed first; an open secret vote's sealed ballots are then deleted
   * unopened (`secure_delete`) and the WAL emptied, so nothing of them is ever counted or readable.
   * @throws not_found, forbidden, invalid_state (a draft), vote_annulled (already annulled)
   */
  annul(user: AuthUser, voteId: number, reason: string): VoteView {
    const row = this.chairRow(user, voteId);
    if (row.state === 'annulled') throw err('vote_annulled', 'The vote was already annulled');
    if (row.state === 'draft') throw err('invalid_state', 'A prepared vote that never opened is not annulled: change it or leave it');
    if (row.state === 'open' && this.queue.length) this.flush();
    const sealedDeleted = { n: 0 };
    const updated = tx(this.ctx.db, (d) => {
      if (row.state === 'open' && row.secret) sealedDeleted.n = this.box.discard(voteId);
      const r = d.update(votes).set({ state: 'annulled', annulledAt: new Date(voteOptions.now()).toISOString(), annulReason: reason }).where(eq(votes.id, voteId)).returning().get();
      audit(d, { actorId: user.id, action: 'vote.annulled', targetType: 'vote', targetId: voteId, details: { reason, from: row.state, ...(row.state === 'open' && row.secret ? { sealedDeleted: sealedDeleted.n } : {}) } });
      return r;
    });
    this.forget(voteId);
    if (row.state === 'open' && row.secret) eraseWal(this.ctx.db.$client);
    const view = this.view(updated);
    this.publisher?.broadcast(row.meetingId, 'vote:changed', { vote: view });
    this.ctx.bus.emit('vote:changed', { meetingId: row.meetingId, voteId: view.id, state: view.state });
    return view;
  }

  /**
   * Prepares the re-run of an annulled vote: a new draft with the same question and rules, linked to it
   * (`rerunOf`); one re-run per annulled vote. @throws not_found, forbidden, invalid_state, meeting_closed
   */
  rerun(user: AuthUser, voteId: number): VoteView {
    const row = this.chairRow(user, voteId);
    if (row.state !== 'annulled') throw err('invalid_state', 'Only an annulled vote is run again');
    const m = this.ctx.db.select({ status: meetings.status }).from(meetings).where(eq(meetings.id, row.meetingId)).get()!;
    if (m.status === 'closed') throw err('meeting_closed', 'The meeting is closed');
    const created = tx(this.ctx.db, (d) => {
      if (d.select({ id: votes.id }).from(votes).where(eq(votes.rerunOf, voteId)).get()) throw err('invalid_state', 'This vote was already run again');
      const r = d
        .insert(votes)
        .values({
          meetingId: row.meetingId,
          agendaItemId: row.agendaItemId,
          title: row.title,
          kind: row.kind,
          secret: row.secret,
          options: row.options,
          maxChoices: row.maxChoices,
          seats: row.seats,
          majority: row.majority,
          abstentions: row.abstentions,
          tieBreak: row.tieBreak,
          quorum: row.quorum,
          durationSeconds: row.durationSeconds,
          bloc: row.bloc ? row.bloc.map((b) => ({ agendaItemId: b.agendaItemId, pulledBy: null })) : null,
          rerunOf: voteId,
          createdBy: user.id,
        })
        .returning()
        .get();
      audit(d, { actorId: user.id, action: 'vote.rerun', targetType: 'vote', targetId: r.id, details: { rerunOf: voteId } });
      return r;
    });
    const view = this.view(created);
    this.publisher?.broadcast(row.meetingId, 'vote:changed', { vote: view });
    this.publisher?.broadcast(row.meetingId, 'vote:changed', { vote: this.view(this.ctx.db.select().from(votes).where(eq(votes.id, voteId)).get()!) });
    this.ctx.bus.emit('vote:changed', { meetingId: row.meetingId, voteId: view.id, state: view.state });
    return view;
  }

  /**
   * Consent (bloc) vote: a member with a vote (or the chair) takes an item out for separate debate; only
   * until the vote opens. Pulling an item already pulled changes nothing.
   * @throws not_found (vote, or an item not in the bloc), not_eligible, invalid_state
   */
  pullFromBloc(user: AuthUser, voteId: number, agendaItemId: number): VoteView {
    const row = this.ctx.db.select().from(votes).where(eq(votes.id, voteId)).get();
    if (!row) throw notFound('Vote');
    const a = meetingAccess(this.ctx.db, user, row.meetingId);
    if (!a.canVote && !a.canChair) throw err('not_eligible', 'Only a member with a vote may pull an item out', 403);
    const item = row.bloc?.find((b) => b.agendaItemId === agendaItemId);
    if (!item) throw notFound('Item of this bloc');
    if (row.state !== 'draft') throw err('invalid_state', 'Items can be pulled out only until the vote opens');
    if (item.pulledBy != null) return this.view(row);
    const bloc = row.bloc!.map((b) => (b.agendaItemId === agendaItemId ? { ...b, pulledBy: user.id } : b));
    const updated = tx(this.ctx.db, (d) => {
      const r = d.update(votes).set({ bloc }).where(and(eq(votes.id, voteId), eq(votes.state, 'draft'))).returning().get();
      if (!r) throw err('invalid_state', 'Items can be pulled out only until the vote opens');
      audit(d, { actorId: user.id, action: 'vote.bloc_pulled', targetType: 'vote', targetId: voteId, details: { agendaItemId } });
      return r;
    });
    const view = this.view(updated);
    this.publisher?.broadcast(row.meetingId, 'vote:changed', { vote: view });
    this.ctx.bus.emit('vote:changed', { meetingId: row.meetingId, voteId: view.id, state: view.state });
    return view;
  }

  // ----------------------------------------------------------------------------------------------
  // Ballots

  /**
   * Casts (or, in a named vote, changes) a ballot; resolves after it is committed.
   * Refusals (each leaves the tally unchanged): not_found, not_eligible, absent, vote_delegated,
   * not_proxy, vote_not_open, vote_closed, unknown_option, too_many_choices, duplicate_choice,
   * receipt_required, already_voted.
   */
  cast(user: AuthUser, p: { voteId: number; choices: number[]; receipt?: string; onBehalfOf?: number }): Promise<{ voteId: number; counted: true; voterId: number }> {
    const ov = this.visibleOpenVote(user, p.voteId);
    const row = ov.row;
    if (row.closesAt && Date.parse(row.closesAt) <= voteOptions.now()) {
      this.close(null, row.id);
      throw err('vote_closed', 'The vote is closed');
    }
    const voterId = p.onBehalfOf ?? user.id;
    if (p.onBehalfOf !== undefined && p.onBehalfOf !== user.id) {
      // The proxy must still stand now (a withdrawn or replaced one is refused) and still follow the
      // rules of shared/rules/proxies.ts (a proxy recorded before them may not).
      const giver = rollParticipant(this.ctx.db, row.meetingId, p.onBehalfOf);
      if (!giver || voteHolderOf(giver, ov.delegations, proxySettings(ov.settings)) !== user.id) throw err('not_proxy', 'You do not hold this member’s vote', 403);
      if (!ov.members.has(p.onBehalfOf)) throw err('not_eligible', 'That member has no vote here', 403);
      if (isRoomStation(this.ctx.db, user.id)) throw proxyError('proxy_holder_room_station');
      const paperVote = !ov.delegations.has(p.onBehalfOf) && (giver.proxyKind ?? 'vote') === 'vote';
      if ((ov.delegations.has(p.onBehalfOf) || paperVote) && !ov.members.has(user.id)) throw proxyError('proxy_holder_not_voter');
    } else {
      if (!ov.members.has(user.id)) throw err('not_eligible', 'You have no vote in this meeting', 403);
      if (this.proxyOf(ov, user.id) !== undefined && !ov.settings.delegatorMayVote) throw err('vote_delegated', 'You delegated your vote for this meeting', 403);
    }
    if (!this.isPresent(row.meetingId, user.id)) throw err('absent', 'Only members checked in to the meeting may vote', 403);
    const bad = validateChoices(row, row.options.length, p.choices);
    if (bad) throw err(bad, bad === 'too_many_choices' ? `Choose at most ${row.maxChoices}` : bad === 'duplicate_choice' ? 'An option is chosen twice' : 'No such option', 400);
    if (row.secret && !p.receipt) throw err('receipt_required', 'A secret ballot needs a receipt from the device', 400);
    if (!row.secret && p.receipt) throw err('invalid_payload', 'A named ballot takes no receipt', 400);
    if (row.secret && ov.voters.has(voterId) && !this.box.has(row.id, receiptKey(row.id, p.receipt!))) {
      throw err('already_voted', 'This vote was already cast');
    }
    return new Promise((resolve, reject) => {
      this.queue.push({
        ov,
        voterId,
        castBy: user.id,
        choices: [...p.choices].sort((x, y) => x - y),
        key: row.secret ? receiptKey(row.id, p.receipt!) : null,
        resolve: () => resolve({ voteId: row.id, counted: true, voterId }),
        reject,
      });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Writes every queued ballot in one transaction, then (with `ballotSync: 'FULL'`) waits until the
   * WAL holding it is fsynced — on the thread pool, never blocking the loop (server/db/wal-sync.ts) —
   * and only then settles each ballot's promise, so an acknowledged ballot survives a power loss.
   */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (!batch.length) return;
    const sqlite = this.ctx.db.$client;
    if (!sqlite.open) {
      for (const b of batch) b.reject(new AppError('internal', 'The server is stopping; retry', 503));
      return;
    }
    const outcomes: (true | unknown)[] = new Array(batch.length);
    try {
      sqlite.transaction(() => {
        batch.forEach((b, i) => {
          try {
            this.applyBallot(b);
            outcomes[i] = true;
          } catch (e) {
            outcomes[i] = e;
          }
        });
      })();
    } catch (e) {
      this.ctx.log.error({ err: e }, 'ballot batch failed');
      outcomes.fill(new AppError('internal', 'The ballot could not be stored; retry', 500));
    }
    const touched = new Set<OpenVote>();
    const committed: PendingBallot[] = [];
    batch.forEach((b, i) => {
      if (outcomes[i] === true) {
        b.ov.voters.add(b.voterId);
        touched.add(b.ov);
        committed.push(b);
      } else b.reject(outcomes[i]);
    });
    for (const ov of touched) this.markProgress(ov);
    if (!committed.length) return;
    this.ctx.metrics.ballots.inc(committed.length);
    if (voteOptions.ballotSync === 'NORMAL') {
      for (const b of committed) b.resolve({ changed: false });
      return;
    }
    this.walSync.durable().then(
      () => {
        for (const b of committed) b.resolve({ changed: false });
      },
      (e: unknown) => {
        // Committed but not known to be on disk: no acknowledgement; the client's retry (same
        // commandId and receipt) is answered as already counted once the disk recovers.
        this.ctx.log.error({ err: e }, 'ballot fsync failed');
        for (const b of committed) b.reject(new AppError('internal', 'The ballot could not be made durable; retry', 500));
      },
    );
  }

  /** One ballot inside the batch transaction. Secret ballots: nothing here links voter and choice. */
  private applyBallot(b: PendingBallot): void {
    const s = this.stmts;
    const voteId = b.ov.row.id;
    if (b.ov.row.state !== 'open') throw err('vote_closed', 'The vote is closed');
    const existing = s.hasVoted.get(voteId, b.voterId);
    const choices = JSON.stringify(b.choices);
    if (b.key) {
      if (existing) {
        // The same device retrying (same receipt) after a lost acknowledgement: already counted.
        if (this.box.has(voteId, b.key)) return;
        throw err('already_voted', 'This vote was already cast');
      }
      s.insertParticipation.run(voteId, b.voterId, b.castBy);
      // Sealed: the participation row and this one share a commit, but not in a readable form.
      this.box.cast(voteId, b.ov.row.options.length, b.key, b.choices);
      s.audit.run(b.castBy, 'vote.ballot_cast', String(voteId), JSON.stringify(b.castBy === b.voterId ? { secret: true } : { secret: true, onBehalfOf: b.voterId }));
    } else {
      if (!existing) s.insertParticipation.run(voteId, b.voterId, b.castBy);
      s.upsertNamed.run(voteId, b.voterId, choices, new Date().toISOString());
      s.audit.run(b.castBy, existing ? 'vote.ballot_changed' : 'vote.ballot_cast', String(voteId), JSON.stringify({ voterId: b.voterId, choices: b.choices }));
    }
  }

  // ----------------------------------------------------------------------------------------------
  // Delegations

  /** Delegates the caller's vote in the meeting to another participant (null: revokes). */
  delegate(user: AuthUser, meetingId: number, toUserId: number | null): Delegation | null {
    const { db } = this.ctx;
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
    for (const u of notify) this.publisher?.toUser(u, 'vote:delegated', { meetingId, delegation: d, fromUserId: user.id });
    return d;
  }

  /** Delegations in the meeting (chair: all; others: those they give or hold). */
  delegations(meetingId: number, forUser?: AuthUser, chair = true): Delegation[] {
    const rows = this.ctx.db.select().from(voteDelegations).where(eq(voteDelegations.meetingId, meetingId)).all();
    const visible = chair || !forUser ? rows : rows.filter((r) => r.fromUserId === forUser.id || r.toUserId === forUser.id);
    const names = userNames(this.ctx.db, [...new Set(visible.flatMap((r) => [r.fromUserId, r.toUserId]))]);
    return visible.map((r) => ({ meetingId, fromUserId: r.fromUserId, fromName: names.get(r.fromUserId) ?? '', toUserId: r.toUserId, toName: names.get(r.toUserId) ?? '', createdAt: r.createdAt }));
  }

  // ----------------------------------------------------------------------------------------------
  // Reading

  /** One vote as the caller may see it. @throws not_found */
  get(user: AuthUser, voteId: number): VoteView {
    const row = this.ctx.db.select().from(votes).where(eq(votes.id, voteId)).get();
    if (!row) throw notFound('Vote');
    meetingAccess(this.ctx.db, user, row.meetingId);
    return this.view(row, this.open.get(voteId));
  }

  /** Votes of a meeting, oldest first. */
  list(user: AuthUser, meetingId: number): VoteView[] {
    meetingAccess(this.ctx.db, user, meetingId);
    return this.listRows(meetingId).map((r) => this.view(r, this.open.get(r.id)));
  }

  listRows(meetingId: number): VoteRow[] {
    return this.ctx.db.select().from(votes).where(eq(votes.meetingId, meetingId)).orderBy(asc(votes.id)).all();
  }

  /** The caller's own standing in a vote. */
  mine(user: AuthUser, voteId: number): MyVote {
    const row = this.ctx.db.select().from(votes).where(eq(votes.id, voteId)).get();
    if (!row) throw notFound('Vote');
    meetingAccess(this.ctx.db, user, row.meetingId);
    const ov = row.state === 'open' ? this.runtime(row) : null;
    const members = ov?.members ?? new Map(votingMembers(this.ctx.db, row.meetingId).map((m) => [m.userId, m]));
    const dels = ov?.delegations ?? delegationsOf(this.ctx.db, row.meetingId);
    const voters = ov?.voters ?? participants(this.ctx.db, voteId);
    const hasVoted = voters.has(user.id);
    const settings = ov?.settings ?? committeeVoteSettings(this.ctx.db, this.committeeOf(row.meetingId));
    const ps = proxySettings(settings);
    const rows = rollParticipants(this.ctx.db, row.meetingId);
    const me = rows.find((r) => r.userId === user.id);
    const delegated = !!me && voteHolderOf(me, dels, ps) !== undefined;
    let reason: string | null = null;
    if (!members.has(user.id)) reason = 'not_eligible';
    else if (delegated && !settings.delegatorMayVote) reason = 'vote_delegated';
    else if (row.state !== 'open') reason = row.state === 'draft' ? 'vote_not_open' : 'vote_closed';
    else if (!this.isPresent(row.meetingId, user.id)) reason = 'absent';
    else if (hasVoted && row.secret) reason = 'already_voted';
    const namedChoices = (voterId: number): number[] | null => {
      if (row.secret || !voters.has(voterId)) return null;
      const raw = this.ctx.db.$client.prepare('SELECT choices FROM vote_named_ballots WHERE vote_id = ? AND voter_id = ?').pluck().get(voteId, voterId) as string | undefined;
      return raw ? JSON.parse(raw) : null;
    };
    const choices = namedChoices(user.id);
    // Every member whose vote the caller holds: their own vote proxy or a paper authorization carrying the vote.
    const proxyIds = rows.filter((r) => r.userId !== user.id && members.has(r.userId) && voteHolderOf(r, dels, ps) === user.id).map((r) => r.userId);
    const names = userNames(this.ctx.db, proxyIds);
    return {
      voteId,
      canVote: reason === null,
      reason,
      hasVoted,
      choices,
      proxyFor: proxyIds.map((id) => ({ userId: id, fullName: names.get(id) ?? '', hasVoted: voters.has(id), choices: namedChoices(id) })),
    };
  }

  /** After the close of a secret vote: every receipt key (hex) with its choice, sorted by key. */
  receipts(user: AuthUser, voteId: number): { voteId: number; ballots: { key: string; choices: number[] }[] } {
    const row = this.ctx.db.select().from(votes).where(eq(votes.id, voteId)).get();
    if (!row) throw notFound('Vote');
    meetingAccess(this.ctx.db, user, row.meetingId);
    if (!row.secret) throw err('invalid_state', 'Only secret votes have receipts');
    if (row.state === 'draft' || row.state === 'open') throw err('vote_not_closed', 'Receipts are published after the close');
    const rows = this.ctx.db.$client.prepare('SELECT receipt_key AS k, choices AS c FROM vote_secret_ballots WHERE vote_id = ? ORDER BY receipt_key').all(voteId) as { k: Buffer; c: string }[];
    return { voteId, ballots: rows.map((r) => ({ key: r.k.toString('hex'), choices: JSON.parse(r.c) })) };
  }

  /** Public view of a vote; `ov` adds live progress for an open vote. */
  view(row: VoteRow, ov?: OpenVote): VoteView {
    const closed = row.state === 'closed' || row.state === 'announced';
    let voted = 0;
    let eligible = 0;
    let members = row.result?.members ?? 0;
    if (row.state === 'open') {
      const o = ov ?? this.runtime(row);
      voted = o.voters.size;
      eligible = this.eligibleCount(o);
      members = o.members.size;
    } else if (closed) {
      voted = row.result ? row.result.voted + row.result.abstentions : participationCount(this.ctx.db.$client, row.id);
      eligible = row.result?.eligible ?? 0;
    }
    return {
      id: row.id,
      meetingId: row.meetingId,
      agendaItemId: row.agendaItemId,
      title: row.title,
      kind: row.kind,
      secret: row.secret,
      options: row.options.map((label, index) => ({ index, label })),
      maxChoices: row.maxChoices,
      seats: row.seats,
      majority: row.majority,
      abstentions: row.abstentions,
      tieBreak: row.tieBreak,
      quorum: row.quorum,
      durationSeconds: row.durationSeconds,
      state: row.state,
      openedAt: row.openedAt,
      closesAt: row.closesAt,
      closedAt: row.closedAt,
      announcedAt: row.announcedAt,
      voted,
      eligible,
      members,
      result: closed ? row.result : null,
      quorumOverrideReason: row.quorumOverrideReason,
      annulledAt: row.annulledAt,
      annulReason: row.annulReason,
      rerunOf: row.rerunOf,
      rerunBy: row.state === 'annulled' ? (this.ctx.db.select({ id: votes.id }).from(votes).where(eq(votes.rerunOf, row.id)).get()?.id ?? null) : null,
      bloc: row.bloc ? this.blocView(row.bloc) : null,
      roll: closed && !row.secret ? namedRoll(this.ctx.db, row.id) : null,
    };
  }

  // ----------------------------------------------------------------------------------------------
  // Internals

  private blocView(bloc: NonNullable<VoteRow['bloc']>): NonNullable<VoteView['bloc']> {
    const { db } = this.ctx;
    const titles = new Map(db.select({ id: agendaItems.id, t: agendaItems.title }).from(agendaItems).where(inArray(agendaItems.id, bloc.map((b) => b.agendaItemId))).all().map((r) => [r.id, r.t]));
    const names = userNames(db, bloc.flatMap((b) => (b.pulledBy != null ? [b.pulledBy] : [])));
    return bloc.map((b) => ({ agendaItemId: b.agendaItemId, title: titles.get(b.agendaItemId) ?? '', pulledBy: b.pulledBy, pulledByName: b.pulledBy != null ? (names.get(b.pulledBy) ?? null) : null }));
  }

  /** Re-reads the roll of open votes of a meeting after its participants changed. */
  refreshMeeting(meetingId: number): void {
    for (const ov of this.open.values()) {
      if (ov.row.meetingId !== meetingId) continue;
      ov.members = new Map(votingMembers(this.ctx.db, meetingId).map((m) => [m.userId, m]));
      this.markProgress(ov);
    }
  }

  /** Presence changed in a meeting room: eligible counts of its open votes may change. */
  presenceChanged(meetingId: number): void {
    for (const ov of this.open.values()) if (ov.row.meetingId === meetingId) this.markProgress(ov);
  }

  /** Schedules automatic closes of open votes after a restart. */
  resumeTimers(): void {
    for (const row of this.ctx.db.select().from(votes).where(eq(votes.state, 'open')).all()) this.scheduleClose(row);
  }

  /** Stops timers (server shutdown). */
  stop(): void {
    for (const t of [...this.closeTimers.values(), ...this.progressTimers.values()]) clearTimeout(t);
    this.closeTimers.clear();
    this.progressTimers.clear();
    if (this.queue.length) this.flush();
    this.walSync.close();
  }

  private chairRow(user: AuthUser, voteId: number): VoteRow {
    const row = this.ctx.db.select().from(votes).where(eq(votes.id, voteId)).get();
    if (!row) throw notFound('Vote');
    requireChair(this.ctx.db, user, row.meetingId);
    return row;
  }

  /** The open vote behind a cast, or the refusal that applies to the caller. */
  private visibleOpenVote(user: AuthUser, voteId: number): OpenVote {
    const ov = this.open.get(voteId);
    if (ov && ov.members.has(user.id)) return ov; // hot path: a voting participant of an open vote
    const row = ov?.row ?? this.ctx.db.select().from(votes).where(eq(votes.id, voteId)).get();
    if (!row) throw notFound('Vote');
    meetingAccess(this.ctx.db, user, row.meetingId); // not visible → not_found
    if (row.state === 'draft') throw err('vote_not_open', 'The vote is not open yet');
    if (row.state === 'annulled') throw err('vote_annulled', 'The vote was annulled');
    if (row.state !== 'open') throw err('vote_closed', 'The vote is closed');
    return ov ?? this.runtime(row);
  }

  private runtime(row: VoteRow, openedBy?: number): OpenVote {
    let ov = this.open.get(row.id);
    if (ov) {
      ov.row = row;
      return ov;
    }
    const { db } = this.ctx;
    const m = db.select().from(meetings).where(eq(meetings.id, row.meetingId)).get()!;
    const members = votingMembers(db, row.meetingId);
    ov = {
      row,
      committeeId: m.committeeId,
      members: new Map(members.map((x) => [x.userId, x])),
      delegations: delegationsOf(db, row.meetingId),
      settings: committeeVoteSettings(db, m.committeeId),
      voters: participants(db, row.id),
      chairIds: new Set([...this.chairsOf(row.meetingId), ...(openedBy ? [openedBy] : [])]),
      eligibleCache: null,
    };
    if (row.state === 'open') this.open.set(row.id, ov);
    return ov;
  }

  private committeeOf(meetingId: number): number {
    return this.ctx.db.select({ c: meetings.committeeId }).from(meetings).where(eq(meetings.id, meetingId)).get()!.c;
  }

  private chairsOf(meetingId: number): number[] {
    return this.ctx.db
      .select({ u: meetingParticipants.userId })
      .from(meetingParticipants)
      .where(and(eq(meetingParticipants.meetingId, meetingId), inArray(meetingParticipants.role, ['chair', 'secretary'])))
      .all()
      .map((r) => r.u);
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
    const p = rollParticipant(this.ctx.db, ov.row.meetingId, userId);
    return p && voteHolderOf(p, ov.delegations, proxySettings(ov.settings));
  }

  /** Vote holders who may vote now: the one definition of shared/rules/roll.ts (voters added by the callers). */
  private eligibleSet(ov: OpenVote): Set<number> {
    return new Set(this.roll(ov).eligibleIds);
  }

  /** The roll of an open vote now (members, present, eligible, voted). */
  private roll(ov: OpenVote): Roll {
    return computeRoll({ participants: rollParticipants(this.ctx.db, ov.row.meetingId), delegations: ov.delegations, settings: proxySettings(ov.settings), voters: ov.voters });
  }

  private eligibleCount(ov: OpenVote, maxAgeMs = 0): number {
    const now = Date.now();
    if (ov.eligibleCache && now - ov.eligibleCache.at <= maxAgeMs) return Math.max(ov.eligibleCache.value, ov.voters.size);
    const e = this.eligibleSet(ov);
    for (const v of ov.voters) e.add(v);
    ov.eligibleCache = { at: now, value: e.size };
    return e.size;
  }

  /**
   * Coalesced progress: at most one push per vote per `progressIntervalMs`, plus one at once when
   * every eligible voter has voted (so the chair sees the final count without waiting).
   */
  private markProgress(ov: OpenVote): void {
    const id = ov.row.id;
    if (this.progressTimers.has(id)) {
      if (ov.voters.size >= this.eligibleCount(ov, 100)) {
        clearTimeout(this.progressTimers.get(id));
        this.progressTimers.delete(id);
        this.emitProgress(ov);
      }
      return;
    }
    const wait = Math.max(voteOptions.progressIntervalMs, (this.lastProgress.get(id) ?? 0) + voteOptions.progressIntervalMs - Date.now());
    if (wait <= 0 || ov.voters.size >= this.eligibleCount(ov, 100)) this.emitProgress(ov);
    else
      this.progressTimers.set(
        id,
        setTimeout(() => {
          this.progressTimers.delete(id);
          if (this.open.has(id)) this.emitProgress(ov);
        }, wait).unref(),
      );
  }

  private emitProgress(ov: OpenVote): void {
    const id = ov.row.id;
    this.lastProgress.set(id, Date.now());
    const eligible = this.eligibleSet(ov);
    for (const v of ov.voters) eligible.add(v);
    ov.eligibleCache = { at: Date.now(), value: eligible.size };
    const data = { voteId: id, voted: ov.voters.size, eligible: eligible.size, members: ov.members.size };
    // The chair's screen first: large rooms are served in slices (server/realtime/hub.ts).
    this.publisher?.broadcast(ov.row.meetingId, 'vote:progress', data, { first: ov.chairIds });
    if (!ov.row.secret) {
      // Named votes only, chair only: who has not voted yet.
      const notVoted = [...eligible].filter((u) => !ov.voters.has(u)).map((u) => ({ userId: u, fullName: ov.members.get(u)?.fullName ?? '' }));
      for (const c of ov.chairIds) this.publisher?.toUser(c, 'vote:progress', { ...data, notVoted });
    }
  }

  private scheduleClose(row: VoteRow): void {
    clearTimeout(this.closeTimers.get(row.id));
    this.closeTimers.delete(row.id);
    if (row.state !== 'open' || !row.closesAt) return;
    const wait = Math.max(0, Date.parse(row.closesAt) - voteOptions.now());
    const t = setTimeout(() => {
      this.closeTimers.delete(row.id);
      try {
        const cur = this.ctx.db.select().from(votes).where(eq(votes.id, row.id)).get();
        if (cur?.state === 'open' && cur.closesAt && Date.parse(cur.closesAt) <= voteOptions.now() + 5) this.close(null, row.id);
      } catch (e) {
        this.ctx.log.error({ err: e, voteId: row.id }, 'automatic close failed');
      }
    }, Math.min(wait, 2 ** 31 - 1));
    t.unref?.();
    this.closeTimers.set(row.id, t);
  }

  private forget(voteId: number): void {
    this.open.delete(voteId);
    clearTimeout(this.closeTimers.get(voteId));
    clearTimeout(this.progressTimers.get(voteId));
    this.closeTimers.delete(voteId);
    this.progressTimers.delete(voteId);
    this.lastProgress.delete(voteId);
  }
}

/** The one VotesService of an app (`ctx.votes`, created by the votes module's `register`; REST routes, the socket part, archives and minutes share it). */
export function votesOf(ctx: AppContext): VotesService {
  if (!ctx.votes) throw new Error('the votes module is not registered');
  return ctx.votes;
}

