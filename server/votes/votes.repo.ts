import crypto from 'node:crypto';
import type Database from 'better-sqlite3';
import { and, asc, count, eq, inArray, ne, sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { auditInsertPg, prepareAudit } from '../audit/audit.repo.js';
import type { Q, Store } from '../db/store.js';
import { executeNamed } from '../db/store.pg.js';
import {
  attendance,
  meetingParticipants,
  users,
  voteCommitteeSettings,
  voteDelegations,
  voteNamedBallots,
  voteParticipation,
  voteSealedBallots,
  voteSecretBallots,
  votes,
} from '../db/tables.js';
import { eraseWal as eraseSqliteWal } from '../db/wal-erase.js';
import { tickBatch } from '../db/tick-batch.js';
import { PgWalFlush, WalSync, pgWalFlushAvailable } from '../db/wal-sync.js';
import { notOwner } from '../cluster/cluster.service.js';
import { AppError } from '../http/errors.js';
import { type CommandAckRecord, saveCommandAcksPg, saveCommandAcksSqlite, storedAckPg, storedAckSqlite } from '../realtime/commands.repo.js';
import { voteError as err } from './votes.options.js';

export type VoteRow = typeof votes.$inferSelect;

/**
 * The key a secret ballot is stored under: SHA-256 of the vote id and the voter's receipt. Knowing
 * the receipt (only the voter's device does) finds the ballot; the key alone reveals nothing.
 */
export function receiptKey(voteId: number, receipt: string): Buffer {
  return crypto.createHash('sha256').update(`${voteId}:${receipt}`).digest();
}

/**
 * Prepared statements of the ballot hot path on SQLite (raw better-sqlite3: Drizzle's query builder
 * measured about 2× slower here). One instance per database connection ({@link ballotStatements}).
 */
class BallotStatements {
  readonly hasVoted: Database.Statement<[number, number], { castBy: number }>;
  readonly insertParticipation: Database.Statement<[number, number, number]>;
  readonly upsertNamed: Database.Statement<[number, number, string, string]>;
  readonly audit: Database.Statement<[number, string, string, string]>;
  /** One participant's attendance row (server/live owns the table). */
  readonly attendance: Database.Statement<[number, number], { status: string; holder: number | null }>;
  readonly voteState: Database.Statement<[number], { state: string }>;
  readonly insertSealed: Database.Statement<[number, Buffer, Buffer]>;
  readonly findSealed: Database.Statement<[number, Buffer], { one: number }>;

  constructor(readonly sqlite: Database.Database) {
    this.hasVoted = sqlite.prepare('SELECT cast_by AS castBy FROM vote_participation WHERE vote_id = ? AND voter_id = ?');
    this.insertParticipation = sqlite.prepare('INSERT INTO vote_participation (vote_id, voter_id, cast_by) VALUES (?, ?, ?)');
    this.upsertNamed = sqlite.prepare(
      'INSERT INTO vote_named_ballots (vote_id, voter_id, choices, updated_at) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (vote_id, voter_id) DO UPDATE SET choices = excluded.choices, updated_at = excluded.updated_at',
    );
    this.attendance = sqlite.prepare('SELECT status, proxy_holder_id AS holder FROM attendance WHERE meeting_id = ? AND user_id = ?');
    this.audit = prepareAudit(sqlite, 'vote');
    this.voteState = sqlite.prepare('SELECT state FROM votes WHERE id = ?');
    this.insertSealed = sqlite.prepare('INSERT INTO vote_sealed_ballots (vote_id, tag, sealed) VALUES (?, ?, ?)');
    this.findSealed = sqlite.prepare('SELECT 1 AS one FROM vote_sealed_ballots WHERE vote_id = ? AND tag = ?');
  }
}

const prepared = new WeakMap<Database.Database, BallotStatements>();

function ballotStatements(sqlite: Database.Database): BallotStatements {
  let s = prepared.get(sqlite);
  if (!s) prepared.set(sqlite, (s = new BallotStatements(sqlite)));
  return s;
}

// ------------------------------------------------------------------------------------------------
// The ballot hot path (SQLite: prepared statements through store.sqlite; PostgreSQL: the builder)

/** One queued ballot as written by {@link writeBallots}; a secret one arrives sealed (server/votes/votes.ballots.ts). */
export interface BallotWrite {
  voteId: number;
  voterId: number;
  castBy: number;
  choices: number[];
  /** A secret ballot: the keyed tag of its receipt key and the sealed ballot. Null: a named ballot. */
  sealed: { tag: Buffer; sealed: Buffer } | null;
  /**
   * The vote:cast command's acknowledgement, committed with the ballot when it is counted (null: none to
   * record). A command id already acknowledged (a retry after a lost answer) writes nothing: {@link BallotReplay}.
   */
  ack?: CommandAckRecord | null;
  /** Several server nodes (#18): the lease epoch of the vote's meeting under which this node writes it. */
  fence?: { meetingId: number; epoch: number };
  /**
   * The caster who must be checked in (in the room or remote) when the ballot is committed — read in the
   * batch's own statement, at the moment of use (null: checked by the caller). Else {@link BallotAbsent}.
   */
  presence?: { meetingId: number; userId: number } | null;
}

/**
 * How a ballot batch commits on PostgreSQL. `asyncCommit`: with `synchronous_commit = off` (set for its own
 * transaction only): the commit returns before its WAL is flushed, and the caller waits for the flush before it
 * acknowledges anything (BallotDurability.durable) — the transaction turn and the connection are free meanwhile.
 * Ignored on SQLite (its commit never waits for an fsync; the WAL is synced the same way after it).
 */
export interface BallotCommit {
  asyncCommit?: boolean;
}

/** A ballot of the batch whose command was already acknowledged: nothing written; `ack` is the recorded answer. */
export class BallotReplay {
  constructor(readonly ack: unknown) {}
}

/** A ballot of the batch refused because its caster was not checked in at the commit; `status`: their attendance (null: no row). */
export class BallotAbsent {
  constructor(readonly status: string | null) {}
}

/**
 * Writes a batch of ballots in one transaction, each with its audit entry. A ballot that is refused
 * (vote_closed: its vote is no longer open in the database, e.g. closed while the batch waited for its
 * turn; already_voted) or fails leaves the others in: @returns per ballot `true` (written, or a
 * secret ballot's retry with the same receipt, already counted) or its error. @throws if the
 * transaction as a whole failed (nothing written), a {@link BallotReplay} or a {@link BallotAbsent}.
 * Secret ballots: nothing written links voter and choice.
 * A counted ballot's command acknowledgement (`ack`) is written in the same transaction: a retry of that
 * commandId after a crash is answered with it, and a failure to record it fails the batch (no ballot
 * is counted without the answer its retry gets).
 */
export async function writeBallots(store: Store, batch: BallotWrite[], nodeId: string | null = null, opts: BallotCommit = {}): Promise<unknown[]> {
  const outcomes: unknown[] = new Array(batch.length);
  if (store.dialect === 'sqlite') {
    await store.sqlite((db) => {
      if (!db.open) throw new AppError('internal', 'The server is stopping; retry', 503);
      const s = ballotStatements(db);
      const open = new Map<number, boolean>();
      db.transaction(() => {
        batch.forEach((b, i) => {
          try {
            const stored = b.ack ? storedAckSqlite(db, b.ack.userId, b.ack.commandId) : undefined;
            if (stored !== undefined) {
              outcomes[i] = new BallotReplay(stored);
              return;
            }
            if (!open.has(b.voteId)) open.set(b.voteId, s.voteState.get(b.voteId)?.state === 'open');
            if (!open.get(b.voteId)) throw err('vote_closed', 'The vote is closed');
            if (b.presence) {
              const status = s.attendance.get(b.presence.meetingId, b.presence.userId)?.status ?? null;
              if (status !== 'in_room' && status !== 'remote') {
                outcomes[i] = new BallotAbsent(status);
                return;
              }
            }
            writeBallotSqlite(s, b);
            outcomes[i] = true;
          } catch (e) {
            outcomes[i] = e;
          }
        });
        saveCommandAcksSqlite(
          db,
          batch.flatMap((b, i) => (outcomes[i] === true && b.ack ? [b.ack] : [])),
        );
      })();
    });
    return outcomes;
  }
  const key = (b: BallotWrite) => `${b.voteId}:${b.voterId}`;
  if (batch.length > 1 && new Set(batch.map(key)).size < batch.length) {
    // One voter twice for the same vote (a retry racing its original): ballot by ballot, in order, in one
    // transaction, so the second sees the first.
    await store.tx(async (q) => {
      for (const [i, b] of batch.entries()) {
        const one: unknown[] = [undefined];
        await writeBallotsPg(q, [b], one, nodeId, opts);
        outcomes[i] = one[0];
      }
    });
  } else await store.atomic((q) => writeBallotsPg(q, batch, outcomes, nodeId, opts), 'ballot batch');
  return outcomes;
}

/**
 * The PostgreSQL batch: one statement, committed on its own (`store.atomic`: no BEGIN/COMMIT round trips; under
 * a burst each round trip waits its turn on a busy machine, and the batch of separate statements in a
 * transaction measured several times slower): which votes are open, the participation rows (ON CONFLICT DO NOTHING: a voter already in is not
 * an error, which would abort the transaction), the sealed ballots of the new secret ones in an order of
 * their own, the named ballots (cast or changed), the audit entries and the acknowledgements of the counted
 * ballots. A batch holding one voter twice for the same vote (a retry racing its original) is written
 * ballot by ballot, in order, so the second sees the first.
 */
async function writeBallotsPg(q: Q, batch: BallotWrite[], outcomes: unknown[], nodeId: string | null, opts: BallotCommit): Promise<void> {
  const arr = <T>(xs: T[], type: string) => sql`${sql.param(xs)}::${sql.raw(type)}`;
  const ballots = batch.map((b, i) => ({ b, i }));
  // Sealed rows go in shuffled: their order must owe nothing to the participation rows' (which name the voters).
  const sealed = ballots.filter(({ b }) => b.sealed);
  for (let k = sealed.length - 1; k > 0; k--) {
    const j = crypto.randomInt(k + 1);
    [sealed[k], sealed[j]] = [sealed[j], sealed[k]];
  }
  const now = new Date().toISOString();
  const open = sql`(SELECT id FROM open)`;
  // Several server nodes (#18): the lease of each meeting is checked in this very statement (no round trip
  // more), held FOR SHARE until the commit so no takeover lands in between; a meeting whose lease is gone
  // has no open vote here, so nothing of its ballots is written. One node (nodeId null): none of it.
  const fences = nodeId ? [...new Map(batch.map((b) => [b.fence!.meetingId, b.fence!.epoch])).entries()] : [];
  const fence = nodeId
    ? sql`fence AS (
      SELECT o.meeting_id FROM meeting_owners o
        JOIN unnest(${arr(fences.map(([m]) => m), 'int[]')}, ${arr(fences.map(([, e]) => e), 'int[]')}) AS f(meeting_id, epoch)
          ON f.meeting_id = o.meeting_id AND f.epoch = o.epoch
       WHERE o.node_id = ${nodeId} AND o.expires_at > now() FOR SHARE OF o
    ),`
    : sql``;
  const fenced = nodeId ? sql` AND meeting_id IN (SELECT meeting_id FROM fence)` : sql``;
  const owned = nodeId ? sql`vote_id IN (SELECT id FROM votes WHERE id IN (SELECT vote_id FROM input) AND meeting_id IN (SELECT meeting_id FROM fence))` : sql`true`;
  const fresh = sql`(SELECT ord FROM fresh)`;
  // Named: prepared once per connection (one text with the fence, one without; every value a parameter).
  const rows = await executeNamed<{ ord: number; open: boolean; fresh: boolean; known: boolean; replay: unknown; owned: boolean; absent: boolean; status: string | null }>(q, nodeId ? 'ballot_batch_fenced' : 'ballot_batch', sql`
    WITH input AS (
      SELECT * FROM unnest(
        ${arr(ballots.map(({ i }) => i), 'int[]')}, ${arr(batch.map((b) => b.voteId), 'int[]')}, ${arr(batch.map((b) => b.voterId), 'int[]')},
        ${arr(batch.map((b) => b.castBy), 'int[]')}, ${arr(batch.map((b) => b.sealed?.tag ?? null), 'bytea[]')},
        ${arr(batch.map((b) => (b.sealed ? null : JSON.stringify(b.choices))), 'text[]')},
        ${arr(batch.map((b) => JSON.stringify(auditDetails(b))), 'text[]')},
        ${arr(batch.map((b) => b.ack?.userId ?? null), 'int[]')}, ${arr(batch.map((b) => b.ack?.commandId ?? null), 'text[]')},
        ${arr(batch.map((b) => b.ack?.event ?? null), 'text[]')}, ${arr(batch.map((b) => (b.ack ? JSON.stringify(b.ack.ack) : null)), 'text[]')},
        ${arr(batch.map((b) => b.presence?.meetingId ?? null), 'int[]')}, ${arr(batch.map((b) => b.presence?.userId ?? null), 'int[]')}
      ) AS i(ord, vote_id, voter_id, cast_by, tag, choices, details, ack_user, ack_command, ack_event, ack, p_meeting, p_user)
    ),
    ${fence}
    -- How this transaction commits: without waiting for the WAL flush when asked (BallotCommit), else as the session says.
    commit_mode AS (SELECT set_config('synchronous_commit', CASE WHEN ${opts.asyncCommit === true}::boolean THEN 'off' ELSE current_setting('synchronous_commit') END, true)),
    open AS (SELECT id FROM votes WHERE id IN (SELECT vote_id FROM input) AND state = 'open'${fenced}),
    -- The command already acknowledged (a retry whose answer was lost): its recorded answer, nothing written.
    replayed AS (SELECT ord, ${storedAckPg(sql`ack_user`, sql`ack_command`)} AS ack FROM input WHERE ack_user IS NOT NULL),
    -- The caster not checked in now (the moment of use, in this statement's snapshot).
    absent AS (
      SELECT i.ord, a.status FROM input i LEFT JOIN attendance a ON a.meeting_id = i.p_meeting AND a.user_id = i.p_user
       WHERE i.p_user IS NOT NULL AND (a.status IS NULL OR a.status NOT IN ('in_room', 'remote'))
    ),
    go AS (
      SELECT * FROM input
       WHERE vote_id IN ${open} AND ord NOT IN (SELECT ord FROM replayed WHERE ack IS NOT NULL) AND ord NOT IN (SELECT ord FROM absent)
    ),
    part AS (
      INSERT INTO vote_participation (vote_id, voter_id, cast_by)
      SELECT vote_id, voter_id, cast_by FROM go ORDER BY ord
      ON CONFLICT DO NOTHING RETURNING vote_id, voter_id
    ),
    fresh AS (SELECT i.ord FROM input i JOIN part p ON p.vote_id = i.vote_id AND p.voter_id = i.voter_id),
    -- A secret ballot already in the box (committed before this statement): the same device retrying.
    known AS (SELECT i.ord FROM input i JOIN vote_sealed_ballots s ON s.vote_id = i.vote_id AND s.tag = i.tag),
    counted AS (
      SELECT * FROM go WHERE tag IS NULL OR ord IN ${fresh} OR ord IN (SELECT ord FROM known)
    ),
    sealed AS (
      INSERT INTO vote_sealed_ballots (vote_id, tag, sealed)
      SELECT s.vote_id, s.tag, s.sealed
        FROM unnest(${arr(sealed.map(({ i }) => i), 'int[]')}, ${arr(sealed.map(({ b }) => b.voteId), 'int[]')},
                    ${arr(sealed.map(({ b }) => b.sealed!.tag), 'bytea[]')}, ${arr(sealed.map(({ b }) => b.sealed!.sealed), 'bytea[]')})
             WITH ORDINALITY AS s(ballot, vote_id, tag, sealed, n)
       WHERE s.ballot IN ${fresh} ORDER BY s.n
    ),
    named AS (
      INSERT INTO vote_named_ballots (vote_id, voter_id, choices, updated_at)
      SELECT vote_id, voter_id, choices::jsonb, ${now}::timestamptz FROM go WHERE tag IS NULL ORDER BY ord
      ON CONFLICT (vote_id, voter_id) DO UPDATE SET choices = excluded.choices, updated_at = excluded.updated_at
    ),
    audited AS (
      ${auditInsertPg(sql`SELECT cast_by, CASE WHEN ord IN ${fresh} THEN 'vote.ballot_cast' ELSE 'vote.ballot_changed' END, 'vote', vote_id::text, details::json
          FROM go WHERE tag IS NULL OR ord IN ${fresh} ORDER BY tag IS NULL, ord`)}
    ),
    acked AS (
      ${saveCommandAcksPg(sql`SELECT ack_user, ack_command, ack_event, ack::jsonb FROM counted WHERE ack_user IS NOT NULL`)}
    )
    SELECT i.ord, i.vote_id IN ${open} AS open, i.ord IN ${fresh} AS fresh, i.ord IN (SELECT ord FROM known) AS known,
           r.ack AS replay, a.ord IS NOT NULL AS absent, a.status, ${owned} AS owned
      FROM input i CROSS JOIN commit_mode LEFT JOIN replayed r ON r.ord = i.ord LEFT JOIN absent a ON a.ord = i.ord`);
  for (const r of rows) {
    const b = batch[r.ord];
    if (r.replay != null) outcomes[r.ord] = new BallotReplay(r.replay);
    else if (!r.owned) outcomes[r.ord] = notOwner(b.fence!.meetingId, null);
    else if (!r.open) outcomes[r.ord] = err('vote_closed', 'The vote is closed');
    else if (r.absent) outcomes[r.ord] = new BallotAbsent(r.status);
    else if (!b.sealed || r.fresh || r.known) outcomes[r.ord] = true;
    else outcomes[r.ord] = err('already_voted', 'This vote was already cast');
  }
}

/** A ballot's audit details: a secret one names no choice (nor, when cast in person, the voter). */
function auditDetails(b: BallotWrite): Record<string, unknown> {
  if (b.sealed) return b.castBy === b.voterId ? { secret: true } : { secret: true, onBehalfOf: b.voterId };
  return { voterId: b.voterId, choices: b.choices };
}

/** One ballot inside the SQLite batch transaction. Secret ballots: nothing here links voter and choice. */
function writeBallotSqlite(s: BallotStatements, b: BallotWrite): void {
  const existing = s.hasVoted.get(b.voteId, b.voterId);
  if (b.sealed) {
    if (existing) {
      // The same device retrying (same receipt) after a lost acknowledgement: already counted.
      if (s.findSealed.get(b.voteId, b.sealed.tag)) return;
      throw err('already_voted', 'This vote was already cast');
    }
    s.insertParticipation.run(b.voteId, b.voterId, b.castBy);
    // Sealed: the participation row and this one share a commit, but not in a readable form.
    s.insertSealed.run(b.voteId, b.sealed.tag, b.sealed.sealed);
    s.audit.run(b.castBy, 'vote.ballot_cast', String(b.voteId), JSON.stringify(b.castBy === b.voterId ? { secret: true } : { secret: true, onBehalfOf: b.voterId }));
  } else {
    if (!existing) s.insertParticipation.run(b.voteId, b.voterId, b.castBy);
    s.upsertNamed.run(b.voteId, b.voterId, JSON.stringify(b.choices), new Date().toISOString());
    s.audit.run(b.castBy, existing ? 'vote.ballot_changed' : 'vote.ballot_cast', String(b.voteId), JSON.stringify({ voterId: b.voterId, choices: b.choices }));
  }
}

/** Whether a sealed ballot with this tag is in a vote's box. */
export async function sealedExists(store: Store, voteId: number, tag: Buffer): Promise<boolean> {
  if (store.dialect === 'sqlite') return store.sqlite((db) => !!ballotStatements(db).findSealed.get(voteId, tag));
  const [r] = await store.q.select({ v: voteSealedBallots.voteId }).from(voteSealedBallots).where(and(eq(voteSealedBallots.voteId, voteId), eq(voteSealedBallots.tag, tag))).limit(1);
  return !!r;
}

/** A vote's sealed ballots (at the close, inside the closing transaction). */
export async function sealedBallots(store: Store, voteId: number): Promise<{ tag: Buffer; sealed: Buffer }[]> {
  return store.q.select({ tag: voteSealedBallots.tag, sealed: voteSealedBallots.sealed }).from(voteSealedBallots).where(eq(voteSealedBallots.voteId, voteId));
}

/** Rows per INSERT at a secret vote's close on PostgreSQL: 3 parameters each, well under its 65535. */
const PUBLISH_CHUNK = 5000;

/**
 * Inside the closing transaction: writes the opened ballots (already in random order) into
 * `vote_secret_ballots` and deletes the vote's sealed rows — on SQLite with `secure_delete` on, so their
 * bytes are zeroed rather than left in free pages.
 */
export async function publishSealed(store: Store, voteId: number, ballots: { receiptKey: Buffer; choices: number[] }[]): Promise<void> {
  if (store.dialect === 'sqlite') {
    await store.sqlite((db) => {
      const insertOpen = db.prepare<[number, Buffer, string]>('INSERT INTO vote_secret_ballots (vote_id, receipt_key, choices) VALUES (?, ?, ?)');
      for (const b of ballots) insertOpen.run(voteId, b.receiptKey, JSON.stringify(b.choices));
      secureDeleteSealed(db, voteId);
    });
    return;
  }
  // Multi-row inserts in the shuffled order: the rows' physical order (ctid), the WAL and the cluster's
  // statement log follow it; all share one transaction id and, within a chunk, one command id (cmin).
  for (let i = 0; i < ballots.length; i += PUBLISH_CHUNK) {
    await store.q.insert(voteSecretBallots).values(ballots.slice(i, i + PUBLISH_CHUNK).map((b) => ({ voteId, receiptKey: b.receiptKey, choices: JSON.stringify(b.choices) })));
  }
  await store.q.delete(voteSealedBallots).where(eq(voteSealedBallots.voteId, voteId));
}

/** An annulled open vote's sealed ballots deleted unopened (SQLite: with `secure_delete` on). @returns how many */
export async function discardSealed(store: Store, voteId: number): Promise<number> {
  if (store.dialect === 'sqlite') return store.sqlite((db) => secureDeleteSealed(db, voteId));
  return (await store.q.delete(voteSealedBallots).where(eq(voteSealedBallots.voteId, voteId)).returning({ v: voteSealedBallots.voteId })).length;
}

function secureDeleteSealed(db: Database.Database, voteId: number): number {
  const before = db.pragma('secure_delete', { simple: true }) as number;
  db.pragma('secure_delete = ON');
  try {
    return db.prepare('DELETE FROM vote_sealed_ballots WHERE vote_id = ?').run(voteId).changes;
  } finally {
    db.pragma(`secure_delete = ${before ? 'ON' : 'OFF'}`);
  }
}

/**
 * After a secret vote's close or annulment (its transaction committed), what the store can remove of the
 * sealed ballots. SQLite: the WAL (page images in commit order) is emptied (server/db/wal-erase.ts).
 * PostgreSQL: a DELETE leaves the rows as dead tuples in their pages, each with the transaction id (xmin)
 * it shares with its voter's participation row, until a VACUUM, which runs here rather than whenever
 * autovacuum gets to it (a plain one: VACUUM FULL's exclusive lock would queue every ballot write behind
 * any long reader of the table). PostgreSQL's WAL cannot be emptied from a client: it keeps the sealed
 * rows, as ciphertext, until its segments are recycled and overwritten (docs/VOTING.md, "Secret ballots
 * on PostgreSQL").
 */
export async function eraseWal(store: Store): Promise<void> {
  if (store.dialect === 'sqlite') {
    await store.sqlite((db) => eraseSqliteWal(db));
    return;
  }
  try {
    await (store.q as unknown as NodePgDatabase).execute(sql`VACUUM vote_sealed_ballots`);
  } catch {
    // The close is committed and acknowledged whatever happens here; autovacuum removes the tuples later.
  }
}

/**
 * Ballot durability before the acknowledgement. SQLite: the WAL fsync after the commit (group commit on
 * the thread pool, server/db/wal-sync.ts). PostgreSQL: the batch commits with `synchronous_commit = off`
 * ({@link asyncCommit}) and the WAL flush is waited for here, outside the transaction turn (PgWalFlush) — the
 * same shape as SQLite's: the next batch is written while this one's WAL reaches the disk. Where the
 * database does not let us flush that way, batches commit synchronously and there is nothing to wait for.
 */
export class BallotDurability {
  private wal: WalSync | null = null;
  private pgFlush: Promise<PgWalFlush | null> | null = null;
  private stopped = false;

  /** @param log told once when PostgreSQL does not let us flush that way (batches then commit synchronously). */
  constructor(
    private readonly store: Store,
    private readonly log?: { warn(obj: object, msg: string): void },
  ) {}

  /**
   * PostgreSQL: whether ballot batches may commit without waiting for the WAL flush ({@link durable} then
   * waits for it). Asked once, before the first batch; false on SQLite (its commit never waits for an fsync).
   */
  async asyncCommit(): Promise<boolean> {
    return (await this.pgFlusher()) !== null;
  }

  /** Resolves once everything committed before this call is on disk. */
  async durable(): Promise<void> {
    if (this.store.dialect !== 'sqlite') {
      const flusher = await this.pgFlusher();
      return flusher?.durable();
    }
    if (!this.wal) {
      const wal = await this.store.sqlite((db) => this.wal ?? new WalSync(db));
      this.wal = wal;
      if (this.stopped) wal.close();
    }
    return this.wal.durable();
  }

  /** Closes the WAL descriptor (server shutdown). */
  close(): void {
    this.stopped = true;
    this.wal?.close();
    void this.pgFlush?.then(
      (f) => f?.close(),
      () => undefined,
    );
  }

  private pgFlusher(): Promise<PgWalFlush | null> {
    if (this.store.dialect === 'sqlite') return Promise.resolve(null);
    if (this.pgFlush) return this.pgFlush;
    // Asked once; a question the database did not answer (it was down) is asked again by the next batch.
    const asked = pgWalFlushAvailable(this.store).then((ok) => {
      if (ok) return new PgWalFlush(this.store);
      this.log?.warn({ function: 'pg_logical_emit_message' }, 'votes: this database role may not execute the WAL flush function; ballot batches commit synchronously (as durable, slower under load)');
      return null;
    });
    asked.catch(() => {
      if (this.pgFlush === asked) this.pgFlush = null;
    });
    return (this.pgFlush = asked);
  }
}

/** A participant's attendance status at the meeting (server/live's table; undefined: no row). */
export async function attendanceStatus(store: Store, meetingId: number, userId: number): Promise<string | undefined> {
  if (store.dialect === 'sqlite') return store.sqlite((db) => ballotStatements(db).attendance.get(meetingId, userId)?.status);
  let find = attendanceLookups.get(store);
  if (!find) {
    // One query per event-loop turn: every ballot reads its caller's attendance.
    find = tickBatch(async (keys: { meetingId: number; userId: number }[]) => {
      const rows = await store.q
        .select({ meetingId: attendance.meetingId, userId: attendance.userId, status: attendance.status })
        .from(attendance)
        .where(and(inArray(attendance.meetingId, [...new Set(keys.map((k) => k.meetingId))]), inArray(attendance.userId, [...new Set(keys.map((k) => k.userId))])));
      const found = new Map(rows.map((r) => [`${r.meetingId}:${r.userId}`, r.status]));
      return keys.map((k) => found.get(`${k.meetingId}:${k.userId}`));
    });
    attendanceLookups.set(store, find);
  }
  return find({ meetingId, userId });
}
const attendanceLookups = new WeakMap<Store, (key: { meetingId: number; userId: number }) => Promise<string | undefined>>();

// ------------------------------------------------------------------------------------------------
// Reads

/** Voting participants of a meeting: not guests, with the right to vote. */
export async function votingMembers(store: Store, meetingId: number): Promise<{ userId: number; fullName: string; role: string }[]> {
  return store.q
    .select({ userId: meetingParticipants.userId, fullName: users.fullName, role: meetingParticipants.role })
    .from(meetingParticipants)
    .innerJoin(users, eq(users.id, meetingParticipants.userId))
    .where(and(eq(meetingParticipants.meetingId, meetingId), eq(meetingParticipants.canVote, true), ne(meetingParticipants.role, 'guest')))
    .orderBy(asc(meetingParticipants.userId));
}

/** Delegations of a meeting: delegator → proxy. */
export async function delegationsOf(store: Store, meetingId: number): Promise<Map<number, number>> {
  const rows = await store.q.select().from(voteDelegations).where(eq(voteDelegations.meetingId, meetingId));
  return new Map(rows.map((r) => [r.fromUserId, r.toUserId]));
}

export async function delegatorMayVote(store: Store, committeeId: number): Promise<boolean> {
  const [r] = await store.q.select().from(voteCommitteeSettings).where(eq(voteCommitteeSettings.committeeId, committeeId)).limit(1);
  return r?.delegatorMayVote ?? false;
}

/**
 * Counts per option, ballots with a choice and abstentions, from the ballot tables. A secret vote is
 * counted from `vote_secret_ballots`, which holds its ballots only once the close opened the sealed box
 * (server/votes/votes.ballots.ts): call it after `BallotBox.publish`.
 */
export async function countVote(store: Store, vote: VoteRow): Promise<{ counts: number[]; voted: number; abstentions: number }> {
  // vote_secret_ballots keeps its choices as JSON text, vote_named_ballots as a JSON column.
  const rows = vote.secret
    ? (await store.q.select({ c: voteSecretBallots.choices }).from(voteSecretBallots).where(eq(voteSecretBallots.voteId, vote.id))).map((r) => JSON.parse(r.c) as number[])
    : (await store.q.select({ c: voteNamedBallots.choices }).from(voteNamedBallots).where(eq(voteNamedBallots.voteId, vote.id))).map((r) => r.c);
  const counts = new Array<number>(vote.options.length).fill(0);
  let voted = 0;
  let abstentions = 0;
  for (const choices of rows) {
    if (choices.length === 0) abstentions++;
    else voted++;
    for (const c of choices) counts[c]++;
  }
  return { counts, voted, abstentions };
}

export async function participationCount(store: Store, voteId: number): Promise<number> {
  const [r] = await store.q.select({ n: count() }).from(voteParticipation).where(eq(voteParticipation.voteId, voteId));
  return Number(r?.n ?? 0);
}

export async function participants(store: Store, voteId: number): Promise<Set<number>> {
  const rows = await store.q.select({ v: voteParticipation.voterId }).from(voteParticipation).where(eq(voteParticipation.voteId, voteId));
  return new Set(rows.map((r) => r.v));
}

/** A voter's named ballot (null: none). */
export async function namedChoices(store: Store, voteId: number, voterId: number): Promise<number[] | null> {
  const [r] = await store.q
    .select({ choices: voteNamedBallots.choices })
    .from(voteNamedBallots)
    .where(and(eq(voteNamedBallots.voteId, voteId), eq(voteNamedBallots.voterId, voterId)))
    .limit(1);
  return r ? r.choices : null;
}

/** A closed secret vote's published ballots: every receipt key (hex) with its choice, sorted by key. */
export async function publishedBallots(store: Store, voteId: number): Promise<{ key: string; choices: number[] }[]> {
  const rows = await store.q
    .select({ k: voteSecretBallots.receiptKey, c: voteSecretBallots.choices })
    .from(voteSecretBallots)
    .where(eq(voteSecretBallots.voteId, voteId))
    .orderBy(asc(voteSecretBallots.receiptKey));
  return rows.map((r) => ({ key: r.k.toString('hex'), choices: JSON.parse(r.c) as number[] }));
}

/** The roll of a named vote: each voter's choice. */
export async function namedRoll(store: Store, voteId: number) {
  const rows = await store.q
    .select({ userId: voteNamedBallots.voterId, fullName: users.fullName, choices: voteNamedBallots.choices, castBy: voteParticipation.castBy })
    .from(voteNamedBallots)
    .innerJoin(users, eq(users.id, voteNamedBallots.voterId))
    .innerJoin(voteParticipation, and(eq(voteParticipation.voteId, voteNamedBallots.voteId), eq(voteParticipation.voterId, voteNamedBallots.voterId)))
    .where(eq(voteNamedBallots.voteId, voteId))
    .orderBy(asc(users.fullName));
  // A ballot cast by a proxy names its holder: the roll-call table says "by proxy: <name>".
  const holders = await userNames(store, [...new Set(rows.filter((r) => r.castBy !== r.userId).map((r) => r.castBy))]);
  return rows.map((r) => ({ ...r, castByName: r.castBy !== r.userId ? (holders.get(r.castBy) ?? null) : null }));
}

export async function userNames(store: Store, ids: number[]): Promise<Map<number, string>> {
  if (!ids.length) return new Map();
  const rows = await store.q.select({ id: users.id, n: users.fullName }).from(users).where(inArray(users.id, ids));
  return new Map(rows.map((r) => [r.id, r.n]));
}

/**
 * Meetings with an open timed vote that no node runs now (PostgreSQL, cluster mode): no unexpired lease by the
 * database's clock — the owner died, or every node stopped. Soonest deadline first.
 */
export async function orphanedTimedVotes(store: Store): Promise<number[]> {
  const { rows } = await (store.q as unknown as NodePgDatabase).execute<{ meeting_id: number }>(sql`
    SELECT v.meeting_id FROM votes v
     WHERE v.state = 'open' AND v.closes_at IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM meeting_owners o WHERE o.meeting_id = v.meeting_id AND o.expires_at > now())
     GROUP BY v.meeting_id ORDER BY min(v.closes_at)`);
  return rows.map((r) => Number(r.meeting_id));
}
