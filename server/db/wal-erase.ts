import type Database from 'better-sqlite3';

/**
 * Folds the WAL into the database and truncates it to zero bytes, so the page images of the vote
 * (sealed ballots in commit order) leave the `-wal` file. Never waits on the event loop: the checkpoint
 * runs with no busy timeout, and while another connection (the Yjs store and its checkpointer,
 * server/yjs/yjs.store.ts) is checkpointing or still reading an older snapshot, it is retried every
 * 250 ms, up to `attempts` times. What such a reader keeps alive meanwhile is ciphertext.
 */
export function eraseWal(sqlite: Database.Database, attempts = 40): void {
  if (sqlite.memory || !sqlite.open) return;
  const busyTimeout = sqlite.pragma('busy_timeout', { simple: true }) as number;
  let done = false;
  try {
    sqlite.pragma('busy_timeout = 0');
    const [r] = sqlite.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number }[];
    done = r.busy === 0 && r.log <= 0;
  } catch {
    done = false;
  } finally {
    sqlite.pragma(`busy_timeout = ${busyTimeout}`);
  }
  if (!done && attempts > 1) setTimeout(() => eraseWal(sqlite, attempts - 1), 250).unref();
}
