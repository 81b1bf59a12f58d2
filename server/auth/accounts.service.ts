import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { users } from '../db/schema/index.js';

/*
 * Writes of user accounts for other domains (the users module's administration, the demo seed). The
 * account row holds the credentials, so the table is auth's (server/db/owners.ts); sign-in, password
 * and TOTP changes are written by auth.routes.ts itself. Each takes the `Db` of the caller's transaction.
 */

export type UserRow = typeof users.$inferSelect;

/** Inserts an account; returns the row. */
export function insertUser(db: Db, values: typeof users.$inferInsert): UserRow {
  return db.insert(users).values(values).returning().get();
}

/** Changes an account's fields; returns the row, or undefined when there is no such account. */
export function updateUser(db: Db, userId: number, fields: Partial<typeof users.$inferInsert>): UserRow | undefined {
  return db.update(users).set(fields).where(eq(users.id, userId)).returning().get();
}
