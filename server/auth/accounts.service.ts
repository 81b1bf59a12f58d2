import { eq } from 'drizzle-orm';
import type { Q } from '../db/store.js';
import { users } from '../db/tables.js';

/*
 * Writes of user accounts for other domains (the users module's administration, the demo seed). The
 * account row holds the credentials, so the table is auth's (server/db/owners.ts); sign-in, password
 * and TOTP changes are written by auth.routes.ts itself. Each takes the query builder of the caller's
 * transaction (`store.q` or the `q` of `store.tx`).
 */

export type UserRow = typeof users.$inferSelect;

/** Inserts an account; returns the row. */
export async function insertUser(q: Q, values: typeof users.$inferInsert): Promise<UserRow> {
  const [row] = await q.insert(users).values(values).returning();
  return row;
}

/** Changes an account's fields; returns the row, or undefined when there is no such account. */
export async function updateUser(q: Q, userId: number, fields: Partial<typeof users.$inferInsert>): Promise<UserRow | undefined> {
  const [row] = await q.update(users).set(fields).where(eq(users.id, userId)).returning();
  return row;
}
