import { and, eq } from 'drizzle-orm';
import type { MeetingOwnership } from '../cluster/cluster.service.js';
import type { AppContext } from '../context.js';
import { AppError } from '../http/errors.js';
import { votes } from '../db/tables.js';
import type { OpenVote, VoteEligibility } from './votes.eligibility.js';
import { type VotePublisher, voteOptions } from './votes.options.js';
import { type VoteRow, orphanedTimedVotes } from './votes.repo.js';

/**
 * The clocks of open votes: the automatic close at `closesAt` (rescheduled from the database after a restart,
 * so a deadline survives a crash) and the coalesced `vote:progress` pushes. Part of the
 * {@link VotesService} (server/votes/votes.service.ts), which it calls back to close a vote.
 */
export class VoteTimers {
  private readonly lastProgress = new Map<number, number>();
  private readonly progressTimers = new Map<number, NodeJS.Timeout>();
  private readonly closeTimers = new Map<number, NodeJS.Timeout>();
  /** The meeting of each vote with a close timer (a cluster node stepping down from a meeting stops its votes'). */
  private readonly meetingOf = new Map<number, number>();

  /** @param autoClose closes a vote whose deadline passed (the service's `close(null, voteId)`). */
  constructor(
    private readonly ctx: AppContext,
    private readonly eligibility: VoteEligibility,
    private readonly publisher: () => VotePublisher | null,
    private readonly autoClose: (voteId: number) => Promise<unknown>,
  ) {}

  /**
   * After a restart: a vote whose deadline passed while the server was down is closed before this returns
   * (the server listens only afterwards, so nobody sees it open), the others get their timers.
   */
  async resume(meetingId?: number): Promise<void> {
    const open = meetingId === undefined ? eq(votes.state, 'open') : and(eq(votes.state, 'open'), eq(votes.meetingId, meetingId));
    for (const row of await this.ctx.store.q.select().from(votes).where(open)) {
      if (row.closesAt && Date.parse(row.closesAt) <= voteOptions.now()) {
        await this.autoClose(row.id).catch((e: unknown) => this.ctx.log.error({ err: e, voteId: row.id }, 'automatic close failed'));
      } else this.scheduleClose(row);
    }
  }

  /** (Re)schedules a vote's automatic close at its `closesAt`; none for a vote without one or not open. */
  scheduleClose(row: VoteRow): void {
    clearTimeout(this.closeTimers.get(row.id));
    this.closeTimers.delete(row.id);
    if (row.state !== 'open' || !row.closesAt) return;
    const wait = Math.max(0, Date.parse(row.closesAt) - voteOptions.now());
    const t = setTimeout(() => {
      this.closeTimers.delete(row.id);
      void (async () => {
        const [cur] = await this.ctx.store.q.select().from(votes).where(eq(votes.id, row.id)).limit(1);
        if (cur?.state === 'open' && cur.closesAt && Date.parse(cur.closesAt) <= voteOptions.now() + 5) await this.autoClose(row.id);
      })().catch((e: unknown) => this.ctx.log.error({ err: e, voteId: row.id }, 'automatic close failed'));
    }, Math.min(wait, 2 ** 31 - 1));
    t.unref?.();
    this.closeTimers.set(row.id, t);
    this.meetingOf.set(row.id, row.meetingId);
  }

  /**
   * Coalesced progress: at most one push per vote per `progressIntervalMs`, plus one at once when
   * every eligible voter has voted (so the chair sees the final count without waiting).
   */
  markProgress(ov: OpenVote): void {
    this.progress(ov).catch((e: unknown) => this.ctx.log.error({ err: e, voteId: ov.row.id }, 'vote progress failed'));
  }

  private async progress(ov: OpenVote): Promise<void> {
    const id = ov.row.id;
    const everyone = ov.voters.size >= (await this.eligibility.eligibleCount(ov, 100));
    if (this.progressTimers.has(id)) {
      if (everyone) {
        clearTimeout(this.progressTimers.get(id));
        this.progressTimers.delete(id);
        await this.emitProgress(ov);
      }
      return;
    }
    const wait = Math.max(voteOptions.progressIntervalMs, (this.lastProgress.get(id) ?? 0) + voteOptions.progressIntervalMs - Date.now());
    if (wait <= 0 || everyone) await this.emitProgress(ov);
    else
      this.progressTimers.set(
        id,
        setTimeout(() => {
          this.progressTimers.delete(id);
          if (this.eligibility.open.has(id)) this.emitProgress(ov).catch((e: unknown) => this.ctx.log.error({ err: e, voteId: id }, 'vote progress failed'));
        }, wait).unref(),
      );
  }

  /** A vote closed or was annulled: its timers stop and its working state is dropped. */
  forget(voteId: number): void {
    this.eligibility.open.delete(voteId);
    clearTimeout(this.closeTimers.get(voteId));
    clearTimeout(this.progressTimers.get(voteId));
    this.closeTimers.delete(voteId);
    this.progressTimers.delete(voteId);
    this.lastProgress.delete(voteId);
    this.meetingOf.delete(voteId);
  }

  /** Every vote of a meeting: timers stopped, working state dropped (a cluster node stepped down from the meeting). */
  forgetMeeting(meetingId: number): void {
    for (const [voteId, m] of this.meetingOf) if (m === meetingId) this.forget(voteId);
    for (const ov of [...this.eligibility.open.values()]) if (ov.row.meetingId === meetingId) this.forget(ov.row.id);
  }

  /** Stops every timer (server shutdown). */
  stop(): void {
    for (const t of [...this.closeTimers.values(), ...this.progressTimers.values()]) clearTimeout(t);
    this.closeTimers.clear();
    this.progressTimers.clear();
  }

  private async emitProgress(ov: OpenVote): Promise<void> {
    const id = ov.row.id;
    this.lastProgress.set(id, Date.now());
    const eligible = await this.eligibility.eligibleSet(ov);
    if (!this.eligibility.open.has(id)) return; // closed meanwhile: vote:closed carries the final count
    for (const v of ov.voters) eligible.add(v);
    ov.eligibleCache = { at: Date.now(), value: eligible.size };
    const data = { voteId: id, voted: ov.voters.size, eligible: eligible.size, members: ov.members.size };
    // The chair's screen first: large rooms are served in slices (server/realtime/hub.ts).
    this.publisher()?.broadcast(ov.row.meetingId, 'vote:progress', data, { first: ov.chairIds });
    if (!ov.row.secret) {
      // Named votes only, chair only: who has not voted yet.
      const notVoted = [...eligible].filter((u) => !ov.voters.has(u)).map((u) => ({ userId: u, fullName: ov.members.get(u)?.fullName ?? '' }));
      for (const c of ov.chairIds) this.publisher()?.toUser(c, 'vote:progress', { ...data, notVoted });
    }
  }
}

/**
 * Several nodes (#18): a meeting's vote timers run on its owner, which a client's `meeting:join` makes — so
 * when the owner dies and no tablet comes back (the room's tablets asleep, bad Wi-Fi), nobody would close a
 * timed vote at its deadline. Every node looks, about once per lease length (jittered, so the nodes do not
 * ask together), for meetings with an open timed vote and no living owner, and claims them: the lease lets
 * exactly one node win, and winning runs the `onAcquired` hooks — the votes' timers resumed, a deadline that
 * passed while nobody owned the meeting closed at once (one `vote.closed`, the close being fenced). The
 * clients that come back later follow `not_owner` to that node. @returns stop
 */
export function sweepOrphanedDeadlines(ctx: AppContext, own: MeetingOwnership, everyMs: number): () => Promise<void> {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = async () => {
    for (const meetingId of await orphanedTimedVotes(ctx.store)) {
      if (stopped) return;
      await own.claim(meetingId).catch((err: unknown) => {
        // Another node was quicker (or this one is stopping): that is the lease doing its job.
        if (!(err instanceof AppError && err.code === 'not_owner')) throw err;
      });
    }
  };
  const next = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick()
        .catch((err: unknown) => ctx.log.warn({ err }, 'sweep of timed votes without an owner failed'))
        .finally(() => {
          running = null;
          next();
        });
    }, everyMs * (0.5 + Math.random()));
    timer.unref();
  };
  next();
  // Stopping waits for a sweep in flight: its queries must not outlive the database.
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
  };
}
