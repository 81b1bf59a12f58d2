import type { Db } from '../../server/db/client.js';
import { digestRows } from './sql.js';

/**
 * A digest per table of every row of a SQLite database opened from a file (backups); for a running test
 * server on either store, `dbDigest` in test/helpers/sql.ts. Compare with `toEqual` so a failure names the tables that changed.
 */
export function sqliteFileDigest(db: Db, except: string[] = []): Record<string, string> {
  const sqlite = db.$client;
  const tables = (sqlite.prepare("select name from sqlite_master where type='table' and name not like 'sqlite_%' and name not like '%fts%' order by name").all() as { name: string }[])
    .map((t) => t.name)
    .filter((t) => !except.includes(t));
  return Object.fromEntries(tables.map((t) => [t, digestRows(sqlite.prepare(`select * from "${t}"`).raw().all() as unknown[][])]));
}
