import { sql } from 'drizzle-orm';
import { blob, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import type { TallyResultView } from '../../../shared/protocol/votes.js';
import type { VoteQuorum } from '../../../shared/rules/majority.js';
import { createdAt } from './common.js';
import { users } from './auth.js';
import { committees } from './committees.js';
import { agendaItems, meetings } from './meetings.js';

/**
 * A vote in a meeting: its configuration, lifecycle and, once closed, its counted result.
 * See docs/VOTING.md.
 */
export const votes = sqliteTable(
  'votes',
  {
    id: integer().primaryKey({ autoIncrement: true }),
    meetingId: integer()
      .notNull()
      .references(() => meetings.id, { onDelete: 'cascade' }),
    agendaItemId: integer().references(() => agendaItems.id, { onDelete: 'set null' }),
    title: text().notNull(),
    kind: text({ enum: ['motion', 'single', 'multiple', 'election'] }).notNull(),
    secret: integer({ mode: 'boolean' }).notNull(),
    /** Option labels by index (a motion: ["for", "against"]). */
    options: text({ mode: 'json' }).$type<string[]>().notNull(),
    maxChoices: integer().notNull(),
    seats: integer().notNull(),
    majority: text({ enum: ['simple', 'absolute_present', 'absolute_members', 'two_thirds', 'unanimity'] }).notNull(),
    abstentions: text({ enum: ['excluded', 'included'] }).notNull(),
    tieBreak: text({ enum: ['fails', 'casting_vote'] }).notNull(),
    quorum: text({ mode: 'json' }).$type<VoteQuorum>().notNull(),
    durationSeconds: integer(),
    state: text({ enum: ['draft', 'open', 'closed', 'announced', 'annulled'] }).notNull().default('draft'),
    openedAt: text(),
    /** When an open vote closes by itself (null: the chair closes it). */
    closesAt: text(),
    closedAt: text(),
    announcedAt: text(),
    /** The tally at close (and after the casting vote, at announce). */
    result: text({ mode: 'json' }).$type<TallyResultView>(),
    /** The chair opened the vote without quorum: the recorded reason (null: quorum was met). */
    quorumOverrideReason: text(),
    /** Annulled by the chair: when and why (state `annulled`). */
    annulledAt: text(),
    annulReason: text(),
    /** A re-run of an annulled vote: the vote it replaces. */
    rerunOf: integer(),
    /**
     * Consent (bloc) vote: the agenda items proposed for adoption together; an item pulled out for
     * separate debate before the vote opened keeps who pulled it. Null for other votes.
     */
    bloc: text({ mode: 'json' }).$type<{ agendaItemId: number; pulledBy: number | null }[]>(),
    createdBy: integer().references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [index('votes_meeting_idx').on(t.meetingId, t.state)],
);

/** Who was eligible, snapshotted at close (the record; casting checks eligibility live). */
export const voteEligibility = sqliteTable(
  'vote_eligibility',
  {
    voteId: integer()
      .notNull()
      .references(() => votes.id, { onDelete: 'cascade' }),
    userId: integer()
      .notNull()
      .references(() => users.id),
  },
  (t) => [primaryKey({ columns: [t.voteId, t.userId] })],
);

/**
 * Who has voted (named and secret votes alike). The primary key is the database's guarantee of one
 * ballot per voter per vote. `castBy` differs from `voterId` when a proxy cast it. No timestamp, and
 * WITHOUT ROWID (custom SQL in the migration) so rows sit in voter-id order, not in arrival order.
 */
export const voteParticipation = sqliteTable(
  'vote_participation',
  {
    voteId: integer()
      .notNull()
      .references(() => votes.id, { onDelete: 'cascade' }),
    voterId: integer()
      .notNull()
      .references(() => users.id),
    castBy: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.voteId, t.voterId] })],
);

/** Named (roll-call) ballots: the choice, which the voter may change until the close. */
export const voteNamedBallots = sqliteTable(
  'vote_named_ballots',
  {
    voteId: integer()
      .notNull()
      .references(() => votes.id, { onDelete: 'cascade' }),
    voterId: integer()
      .notNull()
      .references(() => users.id),
    choices: text({ mode: 'json' }).$type<number[]>().notNull(),
    updatedAt: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.voteId, t.voterId] })],
);

/**
 * Secret ballots of closed votes: what was voted, keyed by SHA-256(voteId:receipt) where the receipt is
 * a random secret only the voter's device holds. Written only at the close, all at once and in a random
 * order, from the sealed ballots (server/votes/votes.ballots.ts). No voter column, no shared id with
 * vote_participation, no timestamp; WITHOUT ROWID (custom SQL in the migration). Nobody can join this
 * table to vote_participation.
 */
export const voteSecretBallots = sqliteTable(
  'vote_secret_ballots',
  {
    voteId: integer()
      .notNull()
      .references(() => votes.id, { onDelete: 'cascade' }),
    receiptKey: blob({ mode: 'buffer' }).notNull(),
    choices: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.voteId, t.receiptKey] })],
);

/**
 * Secret ballots while their vote is open, sealed: `sealed` = AES-256-GCM(iv ‖ receipt key ‖ choice
 * bitmap ‖ tag) under a per-vote key derived from the server secret (never in the database); `tag` =
 * HMAC of the receipt key under another derived key (finds a retried ballot, means nothing without the
 * secret). Same length for every ballot of a vote. Emptied (secure_delete) at the close, when the
 * ballots move to vote_secret_ballots in a random order. WITHOUT ROWID (custom SQL in the migration).
 */
export const voteSealedBallots = sqliteTable(
  'vote_sealed_ballots',
  {
    voteId: integer()
      .notNull()
      .references(() => votes.id, { onDelete: 'cascade' }),
    tag: blob({ mode: 'buffer' }).notNull(),
    sealed: blob({ mode: 'buffer' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.voteId, t.tag] })],
);

/** Proxies: a member's vote in one meeting delegated to another participant. */
export const voteDelegations = sqliteTable(
  'vote_delegations',
  {
    meetingId: integer()
      .notNull()
      .references(() => meetings.id, { onDelete: 'cascade' }),
    fromUserId: integer()
      .notNull()
      .references(() => users.id),
    toUserId: integer()
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.meetingId, t.fromUserId] }), index('vote_delegations_to_idx').on(t.meetingId, t.toUserId)],
);

/** Per-committee voting options. */
export const voteCommitteeSettings = sqliteTable('vote_committee_settings', {
  committeeId: integer()
    .primaryKey()
    .references(() => committees.id, { onDelete: 'cascade' }),
  /** False: a member who delegated their vote may not also vote themselves. */
  delegatorMayVote: integer({ mode: 'boolean' }).notNull().default(false),
  /** How many proxies (vote proxies and paper authorizations together) one person may hold. */
  maxProxies: integer().notNull().default(1),
  /** An attendance substitute (cử người dự thay) may also cast the absent member's vote. */
  substitutesMayVote: integer({ mode: 'boolean' }).notNull().default(false),
  /** An absent member represented by a present substitute counts as present for the quorum. */
  substitutesCountPresent: integer({ mode: 'boolean' }).notNull().default(true),
  /** The committee's majority rule, the default of its votes (Vietnamese usual rule: more than half of all members). */
  majority: text({ enum: ['simple', 'absolute_present', 'absolute_members', 'two_thirds', 'unanimity'] }).notNull().default('absolute_members'),
});

/** Written consultations (lấy ý kiến bằng văn bản): a question to a committee with a deadline. */
export const consultations = sqliteTable(
  'consultations',
  {
    id: integer().primaryKey({ autoIncrement: true }),
    committeeId: integer()
      .notNull()
      .references(() => committees.id),
    title: text().notNull(),
    question: text().notNull(),
    /** Ids of documents attached (server/documents). */
    documentIds: text({ mode: 'json' }).$type<number[]>().notNull().default(sql`'[]'`),
    deadline: text().notNull(),
    state: text({ enum: ['open', 'closed'] }).notNull().default('open'),
    closedAt: text(),
    createdBy: integer().references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [index('consultations_committee_idx').on(t.committeeId, t.state)],
);

export const consultationRecipients = sqliteTable(
  'consultation_recipients',
  {
    consultationId: integer()
      .notNull()
      .references(() => consultations.id, { onDelete: 'cascade' }),
    userId: integer()
      .notNull()
      .references(() => users.id),
  },
  (t) => [primaryKey({ columns: [t.consultationId, t.userId] })],
);

/** One answer per recipient (changeable until the deadline). */
export const consultationAnswers = sqliteTable(
  'consultation_answers',
  {
    consultationId: integer()
      .notNull()
      .references(() => consultations.id, { onDelete: 'cascade' }),
    userId: integer()
      .notNull()
      .references(() => users.id),
    answer: text({ enum: ['agree', 'disagree', 'other'] }).notNull(),
    comment: text().notNull().default(''),
    answeredAt: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.consultationId, t.userId] })],
);
