import crypto from 'node:crypto';
import type { Db } from '../../server/db/client.js';

/**
 * A digest of every row of every table: equal digests mean the database did not change.
 * `except` names tables that legitimately change in the background (none today).
 */
export function dbDigest(db: Db, except: string[] = []): string {
  const sqlite = db.$client;
  const tables = (sqlite.prepare("select name from sqlite_master where type='table' and name not like 'sqlite_%' and name not like '%fts%' order by name").all() as { name: string }[])
    .map((t) => t.name)
    .filter((t) => !except.includes(t));
  const h = crypto.createHash('sha256');
  for (const t of tables) {
    h.update(`#${t}\n`);
    for (const row of sqlite.prepare(`select * from "${t}" order by rowid`).raw().all()) {
      h.update(JSON.stringify(row, (_k, v) => (Buffer.isBuffer(v) ? v.toString('base64') : typeof v === 'bigint' ? String(v) : v)));
    }
  }
  return h.digest('hex');
}
