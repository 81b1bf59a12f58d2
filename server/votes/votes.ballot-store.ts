import { validateChoices } from '../../shared/rules/tally.js';
import type { AppContext } from '../context.js';
import { notOwner } from '../cluster/cluster.service.js';
import { AppError } from '../http/errors.js';
import { BallotBox } from './votes.ballots.js';
import type { OpenVote } from './votes.eligibility.js';
import { voteError as err, voteOptions } from './votes.options.js';
import { BallotAbsent, BallotDurability, BallotReplay, type BallotWrite, eraseWal, namedChoices, publishedBallots, receiptKey, writeBallots } from './votes.repo.js';

/** Who and what the vote:cast command's acknowledgement is recorded under (the hub's `takeAck`). */
export type CastAckRecord = { userId: number; commandId: string; event: string };

/** What a counted ballot's command answers. */
export type CastResult = { voteId: number; counted: true; voterId: number };

/** The caster who must be checked in at the ballot's commit (see {@link BallotWrite.presence}). */
export type Presence = { meetingId: number; userId: number };

/** The most ballots one transaction takes (bounds a batch's statement and how long it holds the transaction gate); more go in the next. */
const MAX_BATCH = 1000;

interface PendingBallot {
  /** Its place in the node's queue (1, 2, …): batches take ballots in this order. */
  seq: number;
  ov: OpenVote;
  voterId: number;
  castBy: number;
  choices: number[];
  key: Buffer | null;
  ack: CastAckRecord | undefined;
  presence: Presence | null;
  /** Settles the cast: counted now, or (a retry of an acknowledged command) with the answer recorded then. */
  resolve(replayed?: CastResult): void;
  reject(e: unknown): void;
}

/**
 * Casting and recording ballots, with a group commit: one batch is written at a time, and everything
 * queued while it was being written becomes the next batch (the first ballot after a quiet spell waits
 * one event-loop turn for the others of its turn). Each ballot is acknowledged only after its commit
 * (and, with `ballotSync: 'FULL'`, after the WAL's fsync), its command's acknowledgement committed with
 * it (server/votes/votes.repo.ts `writeBallots`). Secret ballots go sealed into the {@link BallotBox} (server/votes/votes.ballots.ts, docs/VOTING.md): nothing
 * written here links a voter to a choice. Part of the {@link VotesService} (server/votes/votes.service.ts).
 */
export class BallotStore {
  private readonly durability: BallotDurability;
  /** Secret ballots, sealed until the close (docs/VOTING.md). */
  private readonly box: BallotBox;
  private queue: PendingBallot[] = [];
  private flushScheduled = false;
  /**
   * The batch being written, if any. While it is, ballots only queue: taking a batch per event-loop turn
   * instead made many small transactions in a row under a burst on PostgreSQL (each a handful of round
   * trips), so the queue grew faster than it drained.
   */
  private inFlight: Promise<void> | null = null;
  /** The last ballot queued, and the last one whose batch was written: every ballot up to it is settled or being settled. */
  private queuedSeq = 0;
  private writtenSeq = 0;
  private stopped = false;

  /**
   * @param committed called once per vote with ballots in a committed batch (progress pushes).
   * @param refusal the error for a ballot whose caster was not checked in at its commit (their attendance status).
   */
  constructor(
    private readonly ctx: AppContext,
    private readonly committed: (ov: OpenVote) => void,
    private readonly refusal: (ov: OpenVote, userId: number, status: string | null) => Promise<AppError>,
  ) {
    this.durability = new BallotDurability(ctx.store, ctx.log);
    this.box = new BallotBox(ctx.store, ctx.config.secret);
  }

  /**
   * Checks a ballot's shape and queues it for the next batch; resolves after it is committed.
   * @throws unknown_option, too_many_choices, duplicate_choice, receipt_required, invalid_payload, already_voted
   */
  async enqueue(ov: OpenVote, voterId: number, castBy: number, p: { choices: number[]; receipt?: string }, ack?: CastAckRecord, presence: Presence | null = null): Promise<CastResult> {
    const row = ov.row;
    const bad = validateChoices(row, row.options.length, p.choices);
    if (bad) throw err(bad, bad === 'too_many_choices' ? `Choose at most ${row.maxChoices}` : bad === 'duplicate_choice' ? 'An option is chosen twice' : 'No such option', 400);
    if (row.secret && !p.receipt) throw err('receipt_required', 'A secret ballot needs a receipt from the device', 400);
    if (!row.secret && p.receipt) throw err('invalid_payload', 'A named ballot takes no receipt', 400);
    const key = row.secret ? receiptKey(row.id, p.receipt!) : null;
    if (key && ov.voters.has(voterId) && !(await this.box.has(row.id, key))) {
      throw err('already_voted', 'This vote was already cast');
    }
    return new Promise((resolve, reject) => {
      this.queue.push({
        seq: ++this.queuedSeq,
        ov,
        voterId,
        castBy,
        choices: [...p.choices].sort((x, y) => x - y),
        key,
        ack,
        presence,
        resolve: (replayed) => resolve(replayed ?? { voteId: row.id, counted: true, voterId }),
        reject,
      });
      if (!this.flushScheduled && !this.inFlight) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Commits the ballots queued until now and waits for their batches to be written (before a close, an annulment
   * or the shutdown). Only those: the queue is the node's, shared by every meeting it runs, and waiting until it
   * was empty never ended while other meetings' ballots kept coming — each batch found the next one queued, and a
   * chair's close waited as long as any tablet of the node voted. A ballot queued after this call is the caller's
   * to refuse (the close's transaction finds the vote closed: vote_closed).
   */
  async flushPending(): Promise<void> {
    const upTo = this.queuedSeq;
    while (this.writtenSeq < upTo) {
      this.flush();
      if (!this.inFlight) break; // nothing queued up to `upTo` is left (stopped: refused)
      await this.inFlight;
    }
  }

  /** At a secret vote's close, inside the closing transaction: opens the sealed box (BallotBox.publish). */
  async publishSecret(voteId: number, options: number): Promise<void> {
    await this.box.publish(voteId, options);
  }

  /** An annulled open secret vote, inside the annulling transaction: its sealed ballots deleted unopened. @returns how many */
  discardSecret(voteId: number): Promise<number> {
    return this.box.discard(voteId);
  }

  /** After a secret vote's close or annulment: the WAL (its page images in commit order) is emptied. */
  eraseWal(): Promise<void> {
    return eraseWal(this.ctx.store);
  }

  /** A voter's named ballot (null: none). */
  namedChoices(voteId: number, voterId: number): Promise<number[] | null> {
    return namedChoices(this.ctx.store, voteId, voterId);
  }

  /** A closed secret vote's published ballots: every receipt key (hex) with its choice, sorted by key. */
  receipts(voteId: number): Promise<{ key: string; choices: number[] }[]> {
    return publishedBallots(this.ctx.store, voteId);
  }

  /** Commits what is queued (the server is stopping; its database still open). */
  drain(): Promise<void> {
    return this.flushPending();
  }

  /**
   * The database is closing (server shutdown, after {@link drain}): ballots still queued are refused with
   * a retry, and the WAL descriptor is closed.
   */
  stop(): void {
    this.stopped = true;
    const late = this.queue;
    this.queue = [];
    for (const b of late) b.reject(new AppError('internal', 'The server is stopping; retry', 503));
    this.durability.close();
  }

  /**
   * Unless a batch is being written: takes the queued ballots (up to {@link MAX_BATCH}) as one batch and
   * writes it in one transaction, then (with `ballotSync: 'FULL'`) waits until the WAL holding it is
   * fsynced — on the thread pool, never blocking the loop (server/db/wal-sync.ts; on PostgreSQL the batch
   * commits with synchronous_commit off and the server's WAL flush is waited for the same way) — and only then settles
   * each ballot's promise, so an acknowledged ballot survives a power loss. When the write is done, what
   * queued meanwhile goes next.
   */
  private flush(): void {
    this.flushScheduled = false;
    if (this.inFlight || !this.queue.length) return;
    const batch = this.queue.length > MAX_BATCH ? this.queue.splice(0, MAX_BATCH) : this.queue;
    if (batch === this.queue) this.queue = [];
    const last = batch[batch.length - 1].seq;
    this.inFlight = this.write(batch)
      .catch((e: unknown) => this.ctx.log.error({ err: e }, 'ballot batch failed'))
      .finally(() => {
        this.writtenSeq = last;
        this.inFlight = null;
        this.flush();
      });
  }

  private async write(batch: PendingBallot[]): Promise<void> {
    if (this.stopped) {
      for (const b of batch) b.reject(new AppError('internal', 'The server is stopping; retry', 503));
      return;
    }
    // Several server nodes (#18): each ballot is written under the lease epoch of its meeting, checked in the
    // batch's statement; a meeting this node no longer owns is refused before any write (the client retries on the owner).
    const own = this.ctx.ownership?.enabled ? this.ctx.ownership : null;
    if (own) {
      const unowned = batch.filter((b) => own.epoch(b.ov.row.meetingId) === null);
      for (const b of unowned) b.reject(notOwner(b.ov.row.meetingId, null));
      if (unowned.length) batch = batch.filter((b) => !unowned.includes(b));
      if (!batch.length) return;
    }
    let outcomes: unknown[];
    try {
      // PostgreSQL: committed without waiting for the WAL flush, which `durability.durable()` waits for below.
      const asyncCommit = await this.durability.asyncCommit();
      const writes: BallotWrite[] = batch.map((b) => ({
        voteId: b.ov.row.id,
        voterId: b.voterId,
        castBy: b.castBy,
        choices: b.choices,
        sealed: b.key ? this.box.seal(b.ov.row.id, b.ov.row.options.length, b.key, b.choices) : null,
        ack: b.ack ? { ...b.ack, ack: { ok: true, data: { voteId: b.ov.row.id, counted: true, voterId: b.voterId } } } : null,
        ...(own ? { fence: { meetingId: b.ov.row.meetingId, epoch: own.epoch(b.ov.row.meetingId)! } } : {}),
        presence: b.presence,
      }));
      outcomes = await writeBallots(this.ctx.store, writes, own?.nodeId ?? null, { asyncCommit });
      // A fence that failed: this node lost the meeting (paused past its lease, or taken over) and steps down.
      if (own) writes.forEach((w, i) => outcomes[i] instanceof AppError && (outcomes[i] as AppError).code === 'not_owner' && own.stepDown(w.fence!.meetingId, w.fence!.epoch, 'ballot fence'));
    } catch (e) {
      this.ctx.log.error({ err: e }, 'ballot batch failed');
      outcomes = new Array(batch.length).fill(e instanceof AppError && e.status === 503 ? e : new AppError('internal', 'The ballot could not be stored; retry', 500));
    }
    const touched = new Set<OpenVote>();
    const committed: PendingBallot[] = [];
    /** Retries of commands acknowledged before: answered as then, once what was committed before is on disk too. */
    const replayed: [PendingBallot, CastResult][] = [];
    batch.forEach((b, i) => {
      const o = outcomes[i];
      if (o === true) {
        b.ov.voters.add(b.voterId);
        touched.add(b.ov);
        committed.push(b);
      } else if (o instanceof BallotReplay) {
        // Only counted ballots' answers are recorded (writeBallots), so a recorded answer is always a success.
        const stored = o.ack as { ok: boolean; data?: CastResult };
        if (stored.ok && stored.data) replayed.push([b, stored.data]);
        else b.reject(new AppError('internal', 'The recorded answer of this command cannot be replayed', 500));
      } else if (o instanceof BallotAbsent) {
        this.refusal(b.ov, b.castBy, o.status).then(b.reject, b.reject);
      } else b.reject(o);
    });
    for (const ov of touched) this.committed(ov);
    if (!committed.length && !replayed.length) return;
    this.ctx.metrics.ballots.inc(committed.length);
    const settle = () => {
      for (const b of committed) b.resolve();
      for (const [b, data] of replayed) b.resolve(data);
    };
    if (voteOptions.ballotSync === 'NORMAL') {
      settle();
      return;
    }
    // Not awaited: the next batch is written while this one's fsync runs (group commit).
    this.durability.durable().then(
      settle,
      (e: unknown) => {
        // Committed but not known to be on disk: no acknowledgement; the client's retry (same
        // commandId and receipt) is answered as already counted once the disk recovers.
        this.ctx.log.error({ err: e }, 'ballot fsync failed');
        for (const b of [...committed, ...replayed.map(([r]) => r)]) b.reject(new AppError('internal', 'The ballot could not be made durable; retry', 500));
      },
    );
  }
}
