import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import type { TallyResultView } from '../../../shared/protocol/votes.js';
import type { VoteQuorum } from '../../../shared/rules/majority.js';
import { users } from './auth.js';
import { committees } from './committees.js';
import { bytea, createdAt, id, isoTimestamp } from './common.js';
import { agendaItems, meetings } from './meetings.js';

/*
 * PostgreSQL twin of ../schema/votes.ts. Ballot secrecy: SQLite stores vote_participation,
 * vote_secret_ballots and vote_sealed_ballots WITHOUT ROWID so no rowid records arrival order. PostgreSQL
 * has no such option and leaks order in other places: a heap row's ctid (physical position), xmin (the
 * inserting transaction id), dead tuples kept until VACUUM, the WAL, and pg_stat counters. The schema
 * alone cannot close that; issue #17's attacker test on PostgreSQL decides the measures (e.g. secret
 * ballots written only at the close in a random order, as today; VACUUM of the sealed table after the
 * close; no per-row timestamps, as here).
 */
export const votes = pgTable(
  'votes',
  {
    id: id(),
    meetingId: integer()
      .notNull()
      .references(() => meetings.id, { onDelete: 'cascade' }),
    agendaItemId: integer().references(() => agendaItems.id, { onDelete: 'set null' }),
    title: text().notNull(),
    kind: text({ enum: ['motion', 'single', 'multiple', 'election'] }).notNull(),
    secret: boolean().notNull(),
    options: jsonb().$type<string[]>().notNull(),
    maxChoices: integer().notNull(),
    seats: integer().notNull(),
    majority: text({ enum: ['simple', 'absolute_present', 'absolute_members', 'two_thirds', 'unanimity'] }).notNull(),
    abstentions: text({ enum: ['excluded', 'included'] }).notNull(),
    tieBreak: text({ enum: ['fails', 'casting_vote'] }).notNull(),
    quorum: jsonb().$type<VoteQuorum>().notNull(),
    durationSeconds: integer(),
    state: text({ enum: ['draft', 'open', 'closed', 'announced', 'annulled'] }).notNull().default('draft'),
    openedAt: isoTimestamp(),
    closesAt: isoTimestamp(),
    closedAt: isoTimestamp(),
    announcedAt: isoTimestamp(),
    result: jsonb().$type<TallyResultView>(),
    quorumOverrideReason: text(),
    annulledAt: isoTimestamp(),
    annulReason: text(),
    rerunOf: integer(),
    bloc: jsonb().$type<{ agendaItemId: number; pulledBy: number | null }[]>(),
    createdBy: integer().references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [index('votes_meeting_idx').on(t.meetingId, t.state)],
);

export const voteEligibility = pgTable(
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

export const voteParticipation = pgTable(
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

export const voteNamedBallots = pgTable(
  'vote_named_ballots',
  {
    voteId: integer()
      .notNull()
      .references(() => votes.id, { onDelete: 'cascade' }),
    voterId: integer()
      .notNull()
      .references(() => users.id),
    choices: jsonb().$type<number[]>().notNull(),
    updatedAt: isoTimestamp().notNull(),
  },
  (t) => [primaryKey({ columns: [t.voteId, t.voterId] })],
);

export const voteSecretBallots = pgTable(
  'vote_secret_ballots',
  {
    voteId: integer()
      .notNull()
      .references(() => votes.id, { onDelete: 'cascade' }),
    receiptKey: bytea().notNull(),
    /** Plain text on SQLite too (not a JSON column). */
    choices: text().notNull(),
  },
  (t) => [primaryKey({ columns: [t.voteId, t.receiptKey] })],
);

export const voteSealedBallots = pgTable(
  'vote_sealed_ballots',
  {
    voteId: integer()
      .notNull()
      .references(() => votes.id, { onDelete: 'cascade' }),
    tag: bytea().notNull(),
    sealed: bytea().notNull(),
  },
  (t) => [primaryKey({ columns: [t.voteId, t.tag] })],
);

export const voteDelegations = pgTable(
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

export const voteCommitteeSettings = pgTable('vote_committee_settings', {
  committeeId: integer()
    .primaryKey()
    .references(() => committees.id, { onDelete: 'cascade' }),
  delegatorMayVote: boolean().notNull().default(false),
  maxProxies: integer().notNull().default(1),
  substitutesMayVote: boolean().notNull().default(false),
  substitutesCountPresent: boolean().notNull().default(true),
  majority: text({ enum: ['simple', 'absolute_present', 'absolute_members', 'two_thirds', 'unanimity'] }).notNull().default('absolute_members'),
});

export const consultations = pgTable(
  'consultations',
  {
    id: id(),
    committeeId: integer()
      .notNull()
      .references(() => committees.id),
    title: text().notNull(),
    question: text().notNull(),
    documentIds: jsonb().$type<number[]>().notNull().default(sql`'[]'::jsonb`),
    deadline: isoTimestamp().notNull(),
    state: text({ enum: ['open', 'closed'] }).notNull().default('open'),
    closedAt: isoTimestamp(),
    createdBy: integer().references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [index('consultations_committee_idx').on(t.committeeId, t.state)],
);

export const consultationRecipients = pgTable(
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

export const consultationAnswers = pgTable(
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
    answeredAt: isoTimestamp().notNull(),
  },
  (t) => [primaryKey({ columns: [t.consultationId, t.userId] })],
);
