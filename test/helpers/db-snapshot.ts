import crypto from 'node:crypto';
import type { Db } from '../../server/db/client.js';

/**
 * A digest per table of every row: equal digests mean the table did not change.
 * Compare with `toEqual` so a failure names the tables that changed.
 */
export function dbDigest(db: Db, except: string[] = []): Record<string, string> {
  const sqlite = db.$client;
  const tables = (sqlite.prepare("select name from sqlite_master where type='table' and name not like 'sqlite_%' and name not like '%fts%' order by name").all() as { name: string }[])
    .map((t) => t.name)
    .filter((t) => !except.includes(t));
  const out: Record<string, string> = {};
  for (const t of tables) {
    // Sorted in JS: some tables are WITHOUT ROWID (secret ballots) and have no natural order.
    const rows = sqlite
      .prepare(`select * from "${t}"`)
      .raw()
      .all()
      .map((row) => JSON.stringify(row, (_k, v) => (Buffer.isBuffer(v) ? v.toString('base64') : typeof v === 'bigint' ? String(v) : v)))
      .sort();
    const h = crypto.createHash('sha256');
    for (const row of rows) h.update(row);
    out[t] = `${rows.length}:${h.digest('hex').slice(0, 16)}`;
  }
  return out;
}
