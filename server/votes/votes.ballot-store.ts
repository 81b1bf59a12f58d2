import { validateChoices } from '../../shared/rules/tally.js';
import type { AppContext } from '../context.js';
import { WalSync } from '../db/wal-sync.js';
import { AppError } from '../http/errors.js';
import { eraseWal } from '../db/wal-erase.js';
import { BallotBox } from './votes.ballots.js';
import type { OpenVote } from './votes.eligibility.js';
import { voteError as err, voteOptions } from './votes.options.js';
import { type BallotStatements, receiptKey } from './votes.repo.js';

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
 * Casting and recording ballots. Ballots of one event-loop tick are written in one transaction and each
 * is acknowledged only after that commit (and, with `ballotSync: 'FULL'`, after the WAL's fsync). Secret
 * ballots go sealed into the {@link BallotBox} (server/votes/votes.ballots.ts, docs/VOTING.md): nothing
 * written here links a voter to a choice. Part of the {@link VotesService} (server/votes/votes.service.ts).
 */
export class BallotStore {
  private readonly walSync: WalSync;
  /** Secret ballots, sealed until the close (docs/VOTING.md). */
  private readonly box: BallotBox;
  private queue: PendingBallot[] = [];
  private flushScheduled = false;

  /** @param committed called once per vote with ballots in a committed batch (progress pushes). */
  constructor(
    private readonly ctx: AppContext,
    private readonly stmts: BallotStatements,
    private readonly committed: (ov: OpenVote) => void,
  ) {
    this.walSync = new WalSync(ctx.db.$client);
    this.box = new BallotBox(ctx.db.$client, ctx.config.secret);
  }

  /**
   * Checks a ballot's shape and queues it for the next batch; resolves after it is committed.
   * @throws (synchronously) unknown_option, too_many_choices, duplicate_choice, receipt_required,
   * invalid_payload, already_voted
   */
  enqueue(ov: OpenVote, voterId: number, castBy: number, p: { choices: number[]; receipt?: string }): Promise<{ voteId: number; counted: true; voterId: number }> {
    const row = ov.row;
    const bad = validateChoices(row, row.options.length, p.choices);
    if (bad) throw err(bad, bad === 'too_many_choices' ? `Choose at most ${row.maxChoices}` : bad === 'duplicate_choice' ? 'An option is chosen twice' : 'No such option', 400);
    if (row.secret && !p.receipt) throw err('receipt_required', 'A secret ballot needs a receipt from the device', 400);
    if (!row.secret && p.receipt) throw err('invalid_payload', 'A named ballot takes no receipt', 400);
    const key = row.secret ? receiptKey(row.id, p.receipt!) : null;
    if (key && ov.voters.has(voterId) && !this.box.has(row.id, key)) {
      throw err('already_voted', 'This vote was already cast');
    }
    return new Promise((resolve, reject) => {
      this.queue.push({
        ov,
        voterId,
        castBy,
        choices: [...p.choices].sort((x, y) => x - y),
        key,
        resolve: () => resolve({ voteId: row.id, counted: true, voterId }),
        reject,
      });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits the ballots still queued now (before a close, an annulment or the shutdown). */
  flushPending(): void {
    if (this.queue.length) this.flush();
  }

  /** At a secret vote's close, inside the closing transaction: opens the sealed box (BallotBox.publish). */
  publishSecret(voteId: number, options: number): void {
    this.box.publish(voteId, options);
  }

  /** An annulled open secret vote, inside the annulling transaction: its sealed ballots deleted unopened. @returns how many */
  discardSecret(voteId: number): number {
    return this.box.discard(voteId);
  }

  /** After a secret vote's close or annulment: the WAL (its page images in commit order) is emptied. */
  eraseWal(): void {
    eraseWal(this.ctx.db.$client);
  }

  /** A voter's named ballot (null: none). */
  namedChoices(voteId: number, voterId: number): number[] | null {
    const raw = this.ctx.db.$client.prepare('SELECT choices FROM vote_named_ballots WHERE vote_id = ? AND voter_id = ?').pluck().get(voteId, voterId) as string | undefined;
    return raw ? JSON.parse(raw) : null;
  }

  /** A closed secret vote's published ballots: every receipt key (hex) with its choice, sorted by key. */
  receipts(voteId: number): { key: string; choices: number[] }[] {
    const rows = this.ctx.db.$client.prepare('SELECT receipt_key AS k, choices AS c FROM vote_secret_ballots WHERE vote_id = ? ORDER BY receipt_key').all(voteId) as { k: Buffer; c: string }[];
    return rows.map((r) => ({ key: r.k.toString('hex'), choices: JSON.parse(r.c) }));
  }

  /** Commits what is queued and closes the WAL descriptor (server shutdown). */
  stop(): void {
    this.flushPending();
    this.walSync.close();
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
    for (const ov of touched) this.committed(ov);
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
}
