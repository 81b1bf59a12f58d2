import crypto from 'node:crypto';
import type Database from 'better-sqlite3';
import { and, asc, eq, inArray, ne } from 'drizzle-orm';
import { prepareAudit } from '../audit/audit.repo.js';
import type { Db } from '../db/client.js';
import { meetingParticipants, users, voteCommitteeSettings, voteDelegations, voteNamedBallots, voteParticipation, votes } from '../db/schema/index.js';

export type VoteRow = typeof votes.$inferSelect;

/**
 * The key a secret ballot is stored under: SHA-256 of the vote id and the voter's receipt. Knowing
 * the receipt (only the voter's device does) finds the ballot; the key alone reveals nothing.
 */
export function receiptKey(voteId: number, receipt: string): Buffer {
  return crypto.createHash('sha256').update(`${voteId}:${receipt}`).digest();
}

/**
 * Prepared statements of the ballot hot path (raw better-sqlite3: Drizzle's query builder measured
 * about 2× slower here). One instance per database connection.
 */
export class BallotStatements {
  readonly hasVoted: Database.Statement<[number, number], { castBy: number }>;
  readonly insertParticipation: Database.Statement<[number, number, number]>;
  readonly upsertNamed: Database.Statement<[number, number, string, string]>;
  readonly audit: Database.Statement<[number, string, string, string]>;
  /** One participant's attendance row (server/live owns the table). */
  readonly attendance: Database.Statement<[number, number], { status: string; holder: number | null }>;
  /** Every attendance row of a meeting. */
  readonly attendanceAll: Database.Statement<[number], { userId: number; status: string; holder: number | null }>;

  constructor(readonly sqlite: Database.Database) {
    this.hasVoted = sqlite.prepare('SELECT cast_by AS castBy FROM vote_participation WHERE vote_id = ? AND voter_id = ?');
    this.insertParticipation = sqlite.prepare('INSERT INTO vote_participation (vote_id, voter_id, cast_by) VALUES (?, ?, ?)');
    this.upsertNamed = sqlite.prepare(
      'INSERT INTO vote_named_ballots (vote_id, voter_id, choices, updated_at) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (vote_id, voter_id) DO UPDATE SET choices = excluded.choices, updated_at = excluded.updated_at',
    );
    this.attendance = sqlite.prepare('SELECT status, proxy_holder_id AS holder FROM attendance WHERE meeting_id = ? AND user_id = ?');
    this.attendanceAll = sqlite.prepare('SELECT user_id AS userId, status, proxy_holder_id AS holder FROM attendance WHERE meeting_id = ?');
    this.audit = prepareAudit(sqlite, 'vote');
  }
}

/** Voting participants of a meeting: not guests, with the right to vote. */
export function votingMembers(db: Db, meetingId: number): { userId: number; fullName: string; role: string }[] {
  return db
    .select({ userId: meetingParticipants.userId, fullName: users.fullName, role: meetingParticipants.role })
    .from(meetingParticipants)
    .innerJoin(users, eq(users.id, meetingParticipants.userId))
    .where(and(eq(meetingParticipants.meetingId, meetingId), eq(meetingParticipants.canVote, true), ne(meetingParticipants.role, 'guest')))
    .orderBy(asc(meetingParticipants.userId))
    .all();
}

/** Delegations of a meeting: delegator → proxy. */
export function delegationsOf(db: Db, meetingId: number): Map<number, number> {
  const rows = db.select().from(voteDelegations).where(eq(voteDelegations.meetingId, meetingId)).all();
  return new Map(rows.map((r) => [r.fromUserId, r.toUserId]));
}

export function delegatorMayVote(db: Db, committeeId: number): boolean {
  return db.select().from(voteCommitteeSettings).where(eq(voteCommitteeSettings.committeeId, committeeId)).get()?.delegatorMayVote ?? false;
}

/**
 * Counts per option, ballots with a choice and abstentions, from the ballot tables. A secret vote is
 * counted from `vote_secret_ballots`, which holds its ballots only once the close opened the sealed box
 * (server/votes/votes.ballots.ts): call it after `BallotBox.publish`.
 */
export function countVote(sqlite: Database.Database, vote: VoteRow): { counts: number[]; voted: number; abstentions: number } {
  const table = vote.secret ? 'vote_secret_ballots' : 'vote_named_ballots';
  const rows = sqlite.prepare(`SELECT choices FROM ${table} WHERE vote_id = ?`).pluck().all(vote.id) as string[];
  const counts = new Array<number>(vote.options.length).fill(0);
  let voted = 0;
  let abstentions = 0;
  for (const r of rows) {
    const choices = JSON.parse(r) as number[];
    if (choices.length === 0) abstentions++;
    else voted++;
    for (const c of choices) counts[c]++;
  }
  return { counts, voted, abstentions };
}

export function participationCount(sqlite: Database.Database, voteId: number): number {
  return sqlite.prepare('SELECT count(*) FROM vote_participation WHERE vote_id = ?').pluck().get(voteId) as number;
}

export function participants(db: Db, voteId: number): Set<number> {
  return new Set(db.select({ v: voteParticipation.voterId }).from(voteParticipation).where(eq(voteParticipation.voteId, voteId)).all().map((r) => r.v));
}

/** The roll of a named vote: each voter's choice. */
export function namedRoll(db: Db, voteId: number) {
  const rows = db
    .select({ userId: voteNamedBallots.voterId, fullName: users.fullName, choices: voteNamedBallots.choices, castBy: voteParticipation.castBy })
    .from(voteNamedBallots)
    .innerJoin(users, eq(users.id, voteNamedBallots.voterId))
    .innerJoin(voteParticipation, and(eq(voteParticipation.voteId, voteNamedBallots.voteId), eq(voteParticipation.voterId, voteNamedBallots.voterId)))
    .where(eq(voteNamedBallots.voteId, voteId))
    .orderBy(asc(users.fullName))
    .all();
  // A ballot cast by a proxy names its holder: the roll-call table says "by proxy: <name>".
  const holders = userNames(db, [...new Set(rows.filter((r) => r.castBy !== r.userId).map((r) => r.castBy))]);
  return rows.map((r) => ({ ...r, castByName: r.castBy !== r.userId ? (holders.get(r.castBy) ?? null) : null }));
}

export function userNames(db: Db, ids: number[]): Map<number, string> {
  if (!ids.length) return new Map();
  return new Map(db.select({ id: users.id, n: users.fullName }).from(users).where(inArray(users.id, ids)).all().map((r) => [r.id, r.n]));
}
