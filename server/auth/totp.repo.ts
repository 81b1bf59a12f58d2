import type Database from 'better-sqlite3';
import { and, eq, isNotNull, notLike } from 'drizzle-orm';
import type { Store } from '../db/store.js';
import { users } from '../db/tables.js';
import { eraseWal } from '../db/wal-erase.js';
import { PENDING, SEALED, sealTotpSecret } from './totp.js';

/** The stored value sealed: `pending:` kept in front of the sealed secret. */
const sealStored = (serverSecret: string, userId: number, stored: string) => {
  const pending = stored.startsWith(PENDING);
  return sealTotpSecret(serverSecret, userId, pending ? stored.slice(PENDING.length) : stored, pending);
};

/**
 * Data migration run at every start (the auth module's `start`, after the SQL migrations): seals the
 * TOTP secrets a database from before sealing still holds in clear (enrolled or pending). Idempotent
 * (sealed rows are left alone).
 * - SQLite: the rewrite runs with `secure_delete` on, so the clear bytes are zeroed rather than left in
 *   free space, then VACUUM rewrites every page and the WAL is folded and truncated, so no copy of
 *   them stays in the files.
 * - PostgreSQL: the rows are rewritten in one transaction; the old tuple versions go at the next
 *   (auto)vacuum — PostgreSQL has no equivalent of zeroing them at once (docs/SECURITY.md).
 * @returns how many secrets were sealed
 */
export async function sealClearTotpSecrets(store: Store, serverSecret: string): Promise<number> {
  if (store.dialect === 'sqlite') return store.sqlite((sqlite) => sealOnSqlite(sqlite, serverSecret));
  return store.tx(async (q) => {
    const rows = await q
      .select({ id: users.id, s: users.totpSecret })
      .from(users)
      .where(and(isNotNull(users.totpSecret), notLike(users.totpSecret, `${SEALED}%`), notLike(users.totpSecret, `${PENDING}${SEALED}%`)));
    for (const r of rows) await q.update(users).set({ totpSecret: sealStored(serverSecret, r.id, r.s!) }).where(eq(users.id, r.id));
    return rows.length;
  });
}

function sealOnSqlite(sqlite: Database.Database, serverSecret: string): number {
  const rows = sqlite
    .prepare(`SELECT id, totp_secret AS s FROM users WHERE totp_secret IS NOT NULL AND totp_secret NOT LIKE '${SEALED}%' AND totp_secret NOT LIKE '${PENDING}${SEALED}%'`)
    .all() as { id: number; s: string }[];
  if (rows.length === 0) return 0;
  const secureDelete = sqlite.pragma('secure_delete', { simple: true }) as number;
  sqlite.pragma('secure_delete = ON');
  try {
    const update = sqlite.prepare('UPDATE users SET totp_secret = ? WHERE id = ?');
    sqlite.transaction(() => {
      for (const r of rows) update.run(sealStored(serverSecret, r.id, r.s), r.id);
    })();
    // VACUUM rewrites every page (free pages that held older copies of the rows included).
    sqlite.exec('VACUUM');
  } finally {
    sqlite.pragma(`secure_delete = ${secureDelete}`);
  }
  eraseWal(sqlite);
  return rows.length;
}
