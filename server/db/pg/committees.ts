import { boolean, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { users } from './auth.js';
import { createdAt, id } from './common.js';

/** PostgreSQL twin of ../schema/committees.ts. */
export const committees = pgTable('committees', {
  id: id(),
  name: text().notNull(),
  description: text().notNull().default(''),
  active: boolean().notNull().default(true),
  createdAt: createdAt(),
});

export const committeeMembers = pgTable(
  'committee_members',
  {
    committeeId: integer()
      .notNull()
      .references(() => committees.id, { onDelete: 'cascade' }),
    userId: integer()
      .notNull()
      .references(() => users.id),
    defaultRole: text({ enum: ['chair', 'secretary', 'member', 'guest'] }).notNull(),
    votingRight: boolean().notNull().default(true),
  },
  (t) => [primaryKey({ columns: [t.committeeId, t.userId] })],
);

export const rooms = pgTable('rooms', {
  id: id(),
  name: text().notNull(),
  location: text().notNull().default(''),
  capacity: integer(),
  active: boolean().notNull().default(true),
  createdAt: createdAt(),
});
