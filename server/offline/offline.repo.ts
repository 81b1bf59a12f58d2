import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { and, eq } from 'drizzle-orm';
import type { Store } from '../db/store.js';
import { devices } from '../db/tables.js';

/** `last_seen_at` is written at most this often per device. */
const SEEN_EVERY_MS = 60_000;

interface Statements {
  get: Statement<[string, number], { revoked_at: string | null; last_seen_at: string }>;
  insert: Statement<[string, number, string, string]>;
  seen: Statement<[string, string, number]>;
}

// Every signed-in request of the app passes here (the device guard). On SQLite: prepared statements, as
// before the store; on PostgreSQL the builder.
const prepared = new WeakMap<Database.Database, Statements>();
function statements(db: Database.Database): Statements {
  let s = prepared.get(db);
  if (!s) {
    s = {
      get: db.prepare('select revoked_at, last_seen_at from devices where token_hash = ? and user_id = ?'),
      insert: db.prepare('insert into devices (token_hash, user_id, label, last_seen_at) values (?, ?, ?, ?) on conflict do nothing'),
      seen: db.prepare('update devices set last_seen_at = ? where token_hash = ? and user_id = ?'),
    };
    prepared.set(db, s);
  }
  return s;
}

/**
 * Records that a user's device was seen (creating its row the first time, labelled `label`) and tells
 * whether an administrator revoked it. `last_seen_at` moves at most once a minute.
 */
export async function deviceSeen(store: Store, d: { tokenHash: string; userId: number; label: string; now: Date }): Promise<'ok' | 'revoked'> {
  const now = d.now.toISOString();
  if (store.dialect === 'sqlite') {
    return store.sqlite((db) => {
      const s = statements(db);
      const row = s.get.get(d.tokenHash, d.userId);
      if (!row) {
        s.insert.run(d.tokenHash, d.userId, d.label, now);
        return 'ok';
      }
      if (row.revoked_at) return 'revoked';
      if (d.now.getTime() - Date.parse(row.last_seen_at) > SEEN_EVERY_MS) s.seen.run(now, d.tokenHash, d.userId);
      return 'ok';
    });
  }
  const mine = and(eq(devices.tokenHash, d.tokenHash), eq(devices.userId, d.userId));
  const [row] = await store.q.select({ revokedAt: devices.revokedAt, lastSeenAt: devices.lastSeenAt }).from(devices).where(mine).limit(1);
  if (!row) {
    await store.q.insert(devices).values({ tokenHash: d.tokenHash, userId: d.userId, label: d.label, lastSeenAt: now }).onConflictDoNothing();
    return 'ok';
  }
  if (row.revokedAt) return 'revoked';
  if (d.now.getTime() - Date.parse(row.lastSeenAt) > SEEN_EVERY_MS) await store.q.update(devices).set({ lastSeenAt: now }).where(mine);
  return 'ok';
}
