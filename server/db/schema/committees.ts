import { integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt } from './common.js';
import { users } from './auth.js';

export const committees = sqliteTable('committees', {
  id: integer().primaryKey({ autoIncrement: true }),
  name: text().notNull(),
  description: text().notNull().default(''),
  active: integer({ mode: 'boolean' }).notNull().default(true),
  createdAt: createdAt(),
});

export const committeeMembers = sqliteTable(
  'committee_members',
  {
    committeeId: integer()
      .notNull()
      .references(() => committees.id, { onDelete: 'cascade' }),
    userId: integer()
      .notNull()
      .references(() => users.id),
    defaultRole: text({ enum: ['chair', 'secretary', 'member', 'guest'] }).notNull(),
    votingRight: integer({ mode: 'boolean' }).notNull().default(true),
  },
  (t) => [primaryKey({ columns: [t.committeeId, t.userId] })],
);

export const rooms = sqliteTable('rooms', {
  id: integer().primaryKey({ autoIncrement: true }),
  name: text().notNull(),
  location: text().notNull().default(''),
  capacity: integer(),
  active: integer({ mode: 'boolean' }).notNull().default(true),
  createdAt: createdAt(),
});
