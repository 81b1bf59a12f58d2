import { sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { Store } from '../db/store.js';

/**
 * The `sha256` column of a portable SQL query assembled from the domains' registered references
 * (`registerFileReferences`): raw SQL runs differently on each dialect's driver (issue #17).
 */
export async function referencedShas(store: Store, query: string): Promise<Set<string>> {
  if (store.dialect === 'sqlite') return store.sqlite((c) => new Set((c.prepare(query).all() as { sha256: string }[]).map((r) => r.sha256)));
  const { rows } = await (store.q as unknown as NodePgDatabase).execute<{ sha256: string }>(sql.raw(query));
  return new Set(rows.map((r) => r.sha256));
}
