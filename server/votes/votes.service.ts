import { and, asc, eq } from 'drizzle-orm';
import type { CreateVoteBody, Delegation, MyVote, VoteView } from '../../shared/protocol/votes.js';
import { audit } from '../audit/audit.repo.js';
import type { AuthUser } from '../auth/sessions.js';
import { ownershipOf } from '../cluster/cluster.service.js';
import type { AppContext } from '../context.js';
import type { Q } from '../db/store.js';
import { agendaItems, meetings, votes } from '../db/tables.js';
import { AppError, notFound } from '../http/errors.js';
import { loadAttendanceState } from '../live/live.service.js';
import { requireChair, meetingAccess } from '../meetings/meetings.access.js';
import { BallotStore, type CastAckRecord } from './votes.ballot-store.js';
import { type OpenVote, VoteEligibility } from './votes.eligibility.js';
import { type VotePublisher, voteError as err, voteOptions } from './votes.options.js';
import { type VoteRow, participants } from './votes.repo.js';
import { committeeVoteSettings } from './votes.rules.js';
import { announcedResult, countAtClose } from './votes.tally.js';
import { VoteTimers } from './votes.timers.js';
import { voteConfig, voteView } from './votes.view.js';
import { commandTx } from '../realtime/commands.repo.js';

export { type VotePublisher, voteOptions } from './votes.options.js';
/**
 * The roll-call table of a named vote (voter, choices, proxy holder by name), read by the generated
 * minutes (`namedRoll(store, voteId)`).
 */
export { namedRoll } from './votes.repo.js';

const MOTION_LABELS = ['Tán thành', 'Không tán thành'];

/**
 * The socket acknowledgement of a vote lifecycle command (`VoteAck`), committed with the change when the call
 * is a command with an id (server/realtime/commands.repo.ts `commandTx`): the view read in that transaction.
 */
const voteAck = ({ view }: { view: VoteView }) => ({ vote: view });

/**
 * Votes: configuration and lifecycle, composed of who may vote ({@link VoteEligibility},
 * votes.eligibility.ts), the ballot store ({@link BallotStore}, votes.ballot-store.ts: batched durable
 * ballots, sealed secret ones), counting (votes.tally.ts) and the clocks ({@link VoteTimers},
 * votes.timers.ts). No HTTP or socket types here; pushes go through a {@link VotePublisher}.
 */
export class VotesService {
  publisher: VotePublisher | null = null;

  private readonly eligibility: VoteEligibility;
  private readonly ballots: BallotStore;
  private readonly timers: VoteTimers;

  constructor(private readonly ctx: AppContext) {
    const publisher = () => this.publisher;
    this.eligibility = new VoteEligibility(ctx.store, publisher, () => ownershipOf(ctx));
    this.timers = new VoteTimers(ctx, this.eligibility, publisher, (voteId) => this.close(null, voteId));
    this.ballots = new BallotStore(
      ctx,
      (ov) => this.timers.markProgress(ov),
      (ov, userId, status) => this.eligibility.refusal(ov, userId, status),
    );
  }

  // ----------------------------------------------------------------------------------------------
  // Lifecycle

  /**
   * Prepares a vote (state `draft`) on the meeting, optionally on one of its agenda items.
   * @throws not_found (meeting or item not visible), forbidden (not chair/secretary)
   */
  async create(user: AuthUser, meetingId: number, body: CreateVoteBody): Promise<VoteView> {
    const { store } = this.ctx;
    const a = await requireChair(store, user, meetingId);
    if (a.meeting.status === 'closed') throw err('meeting_closed', 'The meeting is closed');
    for (const itemId of [...(body.agendaItemId != null ? [body.agendaItemId] : []), ...(body.bloc ?? [])]) {
      const [item] = await store.q.select({ id: agendaItems.id }).from(agendaItems).where(and(eq(agendaItems.id, itemId), eq(agendaItems.meetingId, meetingId))).limit(1);
      if (!item) throw notFound('Agenda item');
    }
    const majority = body.majority ?? (await committeeVoteSettings(store, a.meeting.committeeId)).majority;
    const options = body.kind === 'motion' ? MOTION_LABELS : body.options;
    const maxChoices = body.kind === 'multiple' ? (body.maxChoices ?? options.length) : body.kind === 'election' ? body.seats! : 1;
    const { view } = await this.owned(meetingId, async (q) => {
      const [r] = await q
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
          majority,
          abstentions: body.abstentions,
          tieBreak: body.tieBreak,
          quorum: body.quorum,
          durationSeconds: body.durationSeconds,
          bloc: body.bloc ? body.bloc.map((agendaItemId) => ({ agendaItemId, pulledBy: null })) : null,
          createdBy: user.id,
        })
        .returning();
      await audit(q, { actorId: user.id, action: 'vote.created', targetType: 'vote', targetId: r.id, details: { meetingId, kind: r.kind, secret: r.secret, majority: r.majority, ...(body.bloc ? { bloc: body.bloc } : {}) } });
      return { view: await this.view(r) };
    }, voteAck);
    return this.changed(view);
  }

  /**
   * Opens a draft vote. Without the meeting's quorum (server/live's attendance, the same count as the
   * quorum badge) only with the chair's `overrideReason`, which is recorded on the vote and audited.
   * @throws not_found, forbidden, invalid_state, meeting_not_live, no_quorum
   */
  async openVote(user: AuthUser, voteId: number, overrideReason?: string): Promise<VoteView> {
    const row = await this.chairRow(user, voteId);
    if (row.state !== 'draft') throw err(row.state === 'annulled' ? 'vote_annulled' : 'invalid_state', 'Only a prepared vote can be opened');
    if (row.bloc && !row.bloc.some((b) => b.pulledBy == null)) throw err('invalid_state', 'Every item was pulled out of the bloc: nothing is left to adopt together');
    const [m] = await this.ctx.store.q.select().from(meetings).where(eq(meetings.id, row.meetingId)).limit(1);
    if (m!.status !== 'live') throw err('meeting_not_live', 'Open the meeting before opening a vote');
    const quorum = (await loadAttendanceState(this.ctx.store, row.meetingId)).quorum;
    if (!quorum.met && !overrideReason) throw err('no_quorum', `No quorum (${quorum.sentence}); give a reason to open the vote anyway`);
    const reason = quorum.met ? null : overrideReason!;
    const now = new Date(voteOptions.now());
    const closesAt = row.durationSeconds ? new Date(now.getTime() + row.durationSeconds * 1000).toISOString() : null;
    const { row: updated, ov, view } = await this.owned(
      row.meetingId,
      async (q) => {
        const [r] = await q
          .update(votes)
          .set({ state: 'open', openedAt: now.toISOString(), closesAt, quorumOverrideReason: reason })
          .where(and(eq(votes.id, voteId), eq(votes.state, 'draft')))
          .returning();
        if (!r) throw err('invalid_state', 'Only a prepared vote can be opened');
        await audit(q, { actorId: user.id, action: 'vote.opened', targetType: 'vote', targetId: voteId, details: { closesAt, quorum: quorum.sentence, ...(reason ? { overrideReason: reason } : {}) } });
        // Built in the transaction (the acknowledgement commits with it), kept as the open vote only after the commit.
        const o = await this.eligibility.runtime(r, user.id, false);
        return { row: r, ov: o, view: await this.view(r, o) };
      },
      voteAck,
    );
    this.eligibility.adopt(ov);
    this.timers.scheduleClose(updated);
    return this.changed(view);
  }

  /** Moves the automatic close `seconds` later (from now when there was none). */
  async extend(user: AuthUser, voteId: number, seconds: number): Promise<VoteView> {
    const row = await this.chairRow(user, voteId);
    if (row.state !== 'open') throw err(row.state === 'annulled' ? 'vote_annulled' : 'vote_not_open', 'The vote is not open');
    const from = Math.max(voteOptions.now(), row.closesAt ? Date.parse(row.closesAt) : 0);
    const closesAt = new Date(from + seconds * 1000).toISOString();
    const { row: updated, view } = await this.owned(
      row.meetingId,
      async (q) => {
        const [r] = await q.update(votes).set({ closesAt }).where(eq(votes.id, voteId)).returning();
        await audit(q, { actorId: user.id, action: 'vote.extended', targetType: 'vote', targetId: voteId, details: { closesAt, seconds } });
        const o = this.eligibility.open.get(voteId);
        return { row: r, view: await this.view(r, o && { ...o, row: r }) };
      },
      voteAck,
    );
    const ov = this.eligibility.open.get(voteId);
    if (ov) ov.row = updated;
    this.timers.scheduleClose(updated);
    return this.changed(view);
  }

  /**
   * Closes an open vote and counts it: ballots still queued are committed first, the eligibility
   * snapshot and the result are written in one transaction, then `vote:closed` goes to the room.
   */
  async close(user: AuthUser | null, voteId: number): Promise<VoteView> {
    const row = user ? await this.chairRow(user, voteId) : await this.voteRow(voteId);
    if (!row) throw notFound('Vote');
    if (row.state === 'draft') throw err('vote_not_open', 'The vote is not open');
    if (row.state === 'annulled') throw err('vote_annulled', 'The vote was annulled');
    if (row.state !== 'open') throw err('vote_closed', 'The vote is already closed');
    const ov = await this.eligibility.runtime(row);
    const eligible = await this.eligibility.eligibleSet(ov);
    // Last, so that no ballot acknowledged before the close is left out (a later one is refused: vote_closed).
    await this.ballots.flushPending();
    const { store } = this.ctx;
    const { view } = await this.owned(row.meetingId, async (q) => {
      const [cur] = await q.select({ state: votes.state }).from(votes).where(eq(votes.id, voteId)).limit(1);
      if (cur?.state !== 'open') throw err('vote_closed', 'The vote is already closed');
      // Whoever voted could vote: the committed participation, read inside the closing transaction.
      for (const v of await participants(store, voteId)) eligible.add(v);
      // A secret vote's sealed ballots are opened, shuffled and published here (server/votes/votes.ballots.ts).
      if (row.secret) await this.ballots.publishSecret(voteId, row.options.length);
      const { t, result } = await countAtClose(store, row, eligible, ov.members.size);
      const [r] = await q.update(votes).set({ state: 'closed', closedAt: new Date().toISOString(), result }).where(eq(votes.id, voteId)).returning();
      await audit(q, {
        actorId: user?.id ?? null,
        action: 'vote.closed',
        targetType: 'vote',
        targetId: voteId,
        details: { outcome: t.outcome, counts: t.counts, abstentions: t.abstentions, eligible: eligible.size, auto: !user },
      });
      return { view: await this.view(r) };
    }, voteAck);
    this.timers.forget(voteId);
    // The WAL holds the vote's page images in commit order until a checkpoint: empty it now.
    if (row.secret) await this.ballots.eraseWal();
    return this.changed(view, 'vote:closed');
  }

  /** Announces a closed vote; a tie awaiting the chair is decided by `castingVote`. */
  async announce(user: AuthUser, voteId: number, castingVote?: number[]): Promise<VoteView> {
    const row = await this.chairRow(user, voteId);
    if (row.state === 'draft' || row.state === 'open') throw err('vote_not_closed', 'Close the vote first');
    if (row.state === 'annulled') throw err('vote_annulled', 'The vote was annulled');
    if (row.state === 'announced') throw err('invalid_state', 'Already announced');
    const result = announcedResult(row, castingVote);
    const { view } = await this.owned(
      row.meetingId,
      async (q) => {
        const [r] = await q.update(votes).set({ state: 'announced', announcedAt: new Date().toISOString(), result }).where(and(eq(votes.id, voteId), eq(votes.state, 'closed'))).returning();
        if (!r) throw err('invalid_state', 'Already announced');
        await audit(q, { actorId: user.id, action: 'vote.announced', targetType: 'vote', targetId: voteId, details: { outcome: result.outcome, castingVote: result.castingVoteApplied ? castingVote : undefined } });
        return { view: await this.view(r) };
      },
      voteAck,
    );
    return this.changed(view);
  }

  /**
   * Annuls an open, closed or announced vote with the chair's reason (state `annulled`, audited). An open
   * vote's queued ballots are committed first; an open secret vote's sealed ballots are then deleted
   * unopened (`secure_delete`) and the WAL emptied, so nothing of them is ever counted or readable.
   * @throws not_found, forbidden, invalid_state (a draft), vote_annulled (already annulled)
   */
  async annul(user: AuthUser, voteId: number, reason: string): Promise<VoteView> {
    const row = await this.chairRow(user, voteId);
    if (row.state === 'annulled') throw err('vote_annulled', 'The vote was already annulled');
    if (row.state === 'draft') throw err('invalid_state', 'A prepared vote that never opened is not annulled: change it or leave it');
    if (row.state === 'open') await this.ballots.flushPending();
    const sealedDeleted = { n: 0 };
    const { view } = await this.owned(row.meetingId, async (q) => {
      const [cur] = await q.select({ state: votes.state }).from(votes).where(eq(votes.id, voteId)).limit(1);
      if (cur?.state !== row.state) throw err(cur?.state === 'annulled' ? 'vote_annulled' : 'invalid_state', 'The vote changed meanwhile; try again');
      if (row.state === 'open' && row.secret) sealedDeleted.n = await this.ballots.discardSecret(voteId);
      const [r] = await q.update(votes).set({ state: 'annulled', annulledAt: new Date(voteOptions.now()).toISOString(), annulReason: reason }).where(eq(votes.id, voteId)).returning();
      await audit(q, { actorId: user.id, action: 'vote.annulled', targetType: 'vote', targetId: voteId, details: { reason, from: row.state, ...(row.state === 'open' && row.secret ? { sealedDeleted: sealedDeleted.n } : {}) } });
      return { view: await this.view(r) };
    }, voteAck);
    this.timers.forget(voteId);
    if (row.state === 'open' && row.secret) await this.ballots.eraseWal();
    return this.changed(view);
  }

  /**
   * Prepares the re-run of an annulled vote: a new draft with the same question and rules, linked to it
   * (`rerunOf`); one re-run per annulled vote. @throws not_found, forbidden, invalid_state, meeting_closed
   */
  async rerun(user: AuthUser, voteId: number): Promise<VoteView> {
    const row = await this.chairRow(user, voteId);
    if (row.state !== 'annulled') throw err('invalid_state', 'Only an annulled vote is run again');
    const [m] = await this.ctx.store.q.select({ status: meetings.status }).from(meetings).where(eq(meetings.id, row.meetingId)).limit(1);
    if (m!.status === 'closed') throw err('meeting_closed', 'The meeting is closed');
    const { view } = await this.owned(row.meetingId, async (q) => {
      if ((await q.select({ id: votes.id }).from(votes).where(eq(votes.rerunOf, voteId)).limit(1)).length) throw err('invalid_state', 'This vote was already run again');
      const [r] = await q
        .insert(votes)
        .values({
          meetingId: row.meetingId,
          agendaItemId: row.agendaItemId,
          ...voteConfig(row, row.options),
          bloc: row.bloc ? row.bloc.map((b) => ({ agendaItemId: b.agendaItemId, pulledBy: null })) : null,
          rerunOf: voteId,
          createdBy: user.id,
        })
        .returning();
      await audit(q, { actorId: user.id, action: 'vote.rerun', targetType: 'vote', targetId: r.id, details: { rerunOf: voteId } });
      return { view: await this.view(r) };
    }, voteAck);
    const annulled = await this.view((await this.voteRow(voteId))!);
    this.publisher?.broadcast(row.meetingId, 'vote:changed', { vote: view });
    this.publisher?.broadcast(row.meetingId, 'vote:changed', { vote: annulled });
    this.ctx.bus.emit('vote:changed', { meetingId: row.meetingId, voteId: view.id, state: view.state });
    return view;
  }

  /**
   * Consent (bloc) vote: a member with a vote (or the chair) takes an item out for separate debate; only
   * until the vote opens. Pulling an item already pulled changes nothing.
   * @throws not_found (vote, or an item not in the bloc), not_eligible, invalid_state
   */
  async pullFromBloc(user: AuthUser, voteId: number, agendaItemId: number): Promise<VoteView> {
    const row = await this.voteRow(voteId);
    if (!row) throw notFound('Vote');
    const a = await meetingAccess(this.ctx.store, user, row.meetingId);
    if (!a.canVote && !a.canChair) throw err('not_eligible', 'Only a member with a vote may pull an item out', 403);
    const item = row.bloc?.find((b) => b.agendaItemId === agendaItemId);
    if (!item) throw notFound('Item of this bloc');
    if (row.state !== 'draft') throw err('invalid_state', 'Items can be pulled out only until the vote opens');
    if (item.pulledBy != null) return await this.view(row);
    const bloc = row.bloc!.map((b) => (b.agendaItemId === agendaItemId ? { ...b, pulledBy: user.id } : b));
    const { view } = await this.owned(
      row.meetingId,
      async (q) => {
        const [r] = await q.update(votes).set({ bloc }).where(and(eq(votes.id, voteId), eq(votes.state, 'draft'))).returning();
        if (!r) throw err('invalid_state', 'Items can be pulled out only until the vote opens');
        await audit(q, { actorId: user.id, action: 'vote.bloc_pulled', targetType: 'vote', targetId: voteId, details: { agendaItemId } });
        return { view: await this.view(r) };
      },
      voteAck,
    );
    return this.changed(view);
  }

  // ----------------------------------------------------------------------------------------------
  // Ballots and delegations

  /**
   * Casts (or, in a named vote, changes) a ballot; resolves after it is committed.
   * Refusals (each leaves the tally unchanged): not_found, not_eligible, absent, vote_delegated,
   * not_proxy, vote_not_open, vote_closed, unknown_option, too_many_choices, duplicate_choice,
   * receipt_required, already_voted. `ack`: the command's acknowledgement to record with the ballot (the hub's `takeAck`).
   */
  async cast(user: AuthUser, p: { voteId: number; choices: number[]; receipt?: string; onBehalfOf?: number }, ack?: CastAckRecord): Promise<{ voteId: number; counted: true; voterId: number }> {
    const ov = await this.eligibility.visibleOpenVote(user, p.voteId);
    if (ov.row.closesAt && Date.parse(ov.row.closesAt) <= voteOptions.now()) {
      await this.close(null, ov.row.id).catch((e: unknown) => {
        // Closed by another call meanwhile (the timer, the chair): the refusal is the same.
        if (!(e instanceof AppError && e.code === 'vote_closed')) throw e;
      });
      throw err('vote_closed', 'The vote is closed');
    }
    const { voterId, presence } = await this.eligibility.assertMayCast(user, ov, p.onBehalfOf);
    return this.ballots.enqueue(ov, voterId, user.id, p, ack, presence);
  }

  /** Delegates the caller's vote in the meeting to another participant (null: revokes). */
  delegate(user: AuthUser, meetingId: number, toUserId: number | null): Promise<Delegation | null> {
    return this.eligibility.delegate(user, meetingId, toUserId);
  }

  /** Delegations in the meeting (chair: all; others: those they give or hold). */
  delegations(meetingId: number, forUser?: AuthUser, chair = true): Promise<Delegation[]> {
    return this.eligibility.delegations(meetingId, forUser, chair);
  }

  // ----------------------------------------------------------------------------------------------
  // Reading

  /** One vote as the caller may see it. @throws not_found */
  async get(user: AuthUser, voteId: number): Promise<VoteView> {
    const row = await this.visibleRow(user, voteId);
    return this.view(row, this.eligibility.open.get(voteId));
  }

  /** Votes of a meeting, oldest first. */
  async list(user: AuthUser, meetingId: number): Promise<VoteView[]> {
    await meetingAccess(this.ctx.store, user, meetingId);
    return this.views(await this.listRows(meetingId));
  }

  listRows(meetingId: number): Promise<VoteRow[]> {
    return this.ctx.store.q.select().from(votes).where(eq(votes.meetingId, meetingId)).orderBy(asc(votes.id));
  }

  /** Public views of votes, in order (open ones with their live progress). */
  async views(rows: VoteRow[]): Promise<VoteView[]> {
    const out: VoteView[] = [];
    for (const r of rows) out.push(await this.view(r, this.eligibility.open.get(r.id)));
    return out;
  }

  /** The caller's own standing in a vote. */
  async mine(user: AuthUser, voteId: number): Promise<MyVote> {
    const row = await this.visibleRow(user, voteId);
    return this.eligibility.mine(user, row, (voterId) => this.ballots.namedChoices(voteId, voterId));
  }

  /** After the close of a secret vote: every receipt key (hex) with its choice, sorted by key. */
  async receipts(user: AuthUser, voteId: number): Promise<{ voteId: number; ballots: { key: string; choices: number[] }[] }> {
    const row = await this.visibleRow(user, voteId);
    if (!row.secret) throw err('invalid_state', 'Only secret votes have receipts');
    if (row.state === 'draft' || row.state === 'open') throw err('vote_not_closed', 'Receipts are published after the close');
    return { voteId, ballots: await this.ballots.receipts(voteId) };
  }

  /** Public view of a vote; `ov` adds live progress for an open vote. */
  view(row: VoteRow, ov?: OpenVote): Promise<VoteView> {
    return voteView(this.ctx.store, this.eligibility, row, ov);
  }

  // ----------------------------------------------------------------------------------------------
  // Events and timers

  /** Re-reads the roll and the committee's voting rules of open votes of a meeting after it changed (participants, the rules). */
  async refreshMeeting(meetingId: number): Promise<void> {
    const open = [...this.eligibility.open.values()].filter((ov) => ov.row.meetingId === meetingId);
    if (!open.length) return;
    const members = await this.eligibility.membersOf(meetingId);
    const settings = await committeeVoteSettings(this.ctx.store, open[0].committeeId);
    for (const ov of open) {
      ov.members = new Map(members);
      ov.settings = settings;
      ov.eligibleCache = null;
      this.timers.markProgress(ov);
    }
  }

  /** Presence changed in a meeting room: eligible counts of its open votes may change. */
  presenceChanged(meetingId: number): void {
    for (const ov of this.eligibility.open.values()) if (ov.row.meetingId === meetingId) this.timers.markProgress(ov);
  }

  /**
   * Schedules automatic closes of open votes (those of one meeting: a cluster node that just became its
   * owner) after a restart; overdue ones are closed once, before this resolves.
   */
  resumeTimers(meetingId?: number): Promise<void> {
    return this.timers.resume(meetingId);
  }

  /** This node no longer runs the meeting (a cluster node lost its lease): its votes' timers stop and their working state is dropped. */
  dropMeeting(meetingId: number): void {
    this.timers.forgetMeeting(meetingId);
  }

  /** The server is stopping: timers stop and the ballots queued are committed (the database still open). */
  async drain(): Promise<void> {
    this.timers.stop();
    await this.ballots.drain();
  }

  /** Stops timers, refuses ballots still queued and closes the WAL descriptor (server shutdown, the database closing). */
  stop(): void {
    this.timers.stop();
    this.ballots.stop();
  }

  /**
   * One transaction writing a meeting's votes: preparing a draft (REST or socket), a re-run, a bloc pull, and every
   * move through the states (open, extend, close, announce, annul). In a cluster (#18) only on the meeting's owner
   * node (claimed when its lease is free) and fenced by the lease inside the transaction, so a node that lost the
   * meeting writes nothing (not_owner), and no node but the owner pushes a vote to the meeting's room — a draft
   * prepared elsewhere would be pushed to that node's empty room while the owner's tablets never heard of it. On one node both steps do nothing. The command's id and `ackData(result)` are
   * recorded in it (`commandTx`).
   */
  private async owned<T>(meetingId: number, fn: (q: Q) => Promise<T>, ackData: (result: T) => unknown): Promise<T> {
    const own = ownershipOf(this.ctx);
    await own.claim(meetingId);
    return commandTx(
      this.ctx.store,
      async (q) => {
        await own.fence(q, meetingId);
        return fn(q);
      },
      ackData,
    );
  }

  /** Tells the room (`vote:changed` or `vote:closed`) and the in-process bus about a vote's new state. */
  private changed(view: VoteView, event: 'vote:changed' | 'vote:closed' = 'vote:changed'): VoteView {
    this.publisher?.broadcast(view.meetingId, event, { vote: view });
    this.ctx.bus.emit('vote:changed', { meetingId: view.meetingId, voteId: view.id, state: view.state });
    return view;
  }

  private async voteRow(voteId: number): Promise<VoteRow | undefined> {
    const [row] = await this.ctx.store.q.select().from(votes).where(eq(votes.id, voteId)).limit(1);
    return row;
  }

  private async chairRow(user: AuthUser, voteId: number): Promise<VoteRow> {
    const row = await this.voteRow(voteId);
    if (!row) throw notFound('Vote');
    await requireChair(this.ctx.store, user, row.meetingId);
    return row;
  }

  /** A vote the caller may see (a participant of its meeting, or who may read it). @throws not_found */
  private async visibleRow(user: AuthUser, voteId: number): Promise<VoteRow> {
    const row = await this.voteRow(voteId);
    if (!row) throw notFound('Vote');
    await meetingAccess(this.ctx.store, user, row.meetingId);
    return row;
  }
}

/** The one VotesService of an app (`ctx.votes`, created by the votes module's `register`; REST routes, the socket part, archives and minutes share it). */
export function votesOf(ctx: AppContext): VotesService {
  if (!ctx.votes) throw new Error('the votes module is not registered');
  return ctx.votes;
}
