import { asc, eq } from 'drizzle-orm';
import type { Q, Store } from '../db/store.js';
import { yjsUpdates } from '../db/tables.js';
import type { Db } from '../db/client.js';
import { type CompactResult, YjsStore, type YjsUpdateStore } from './yjs.store.js';

export type { YjsUpdateStore };

/**
 * The hub's update store for the app's database: on SQLite its own connection to the database's
 * file (`db`) and worker, on PostgreSQL the app's store.
 * @throws Error on SQLite without `db`.
 */
export function openYjsStore(store: Store, db: Db | undefined): YjsUpdateStore {
  if (store.dialect === 'postgres') return new PgYjsStore(store);
  if (!db) throw new Error('the SQLite Yjs store needs the app database (ctx.db) to open its own connection');
  return new YjsStore(db);
}

const toBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/**
 * Yjs updates on PostgreSQL, through the app's store: an append is one multi-row INSERT committed
 * before the hub relays it (node-postgres resolves after the server's commit; synchronous_commit is
 * on by default, so it is on disk). No worker: PostgreSQL checkpoints by itself, and compaction runs
 * in place (`compactInWorker` rejects, the hub's documented fallback).
 */
export class PgYjsStore implements YjsUpdateStore {
  readonly hasWorker = false;
  /**
   * Several server nodes (#18): the lease check of a meeting, run inside the transaction of every write of
   * its documents' rows (appends and compactions, which delete rows), so a former owner writes nothing.
   * Null on one node: the writes are as they were.
   */
  fence: ((q: Q, meetingId: number) => Promise<void>) | null = null;
  constructor(private readonly store: Store) {}

  async append(rows: { docName: string; data: Uint8Array; meetingId?: number | null }[]): Promise<number[]> {
    if (rows.length === 0) return [];
    const fence = this.fence;
    const meetings = fence ? [...new Set(rows.flatMap((r) => (r.meetingId == null ? [] : [r.meetingId])))] : [];
    if (fence && meetings.length) {
      return this.store.tx(async (q) => {
        for (const m of meetings) await fence(q, m);
        return this.insert(q, rows);
      });
    }
    return this.insert(this.store.q, rows);
  }

  private async insert(q: Q, rows: { docName: string; data: Uint8Array }[]): Promise<number[]> {
    const ids = await q
      .insert(yjsUpdates)
      .values(rows.map((r) => ({ docName: r.docName, data: toBuffer(r.data) })))
      .returning({ id: yjsUpdates.id });
    // A multi-row INSERT … RETURNING gives its rows in VALUES order; ids come from one sequence, ascending.
    return ids.map((r) => r.id);
  }

  async load(docName: string): Promise<{ id: number; data: Uint8Array }[]> {
    return this.store.q.select({ id: yjsUpdates.id, data: yjsUpdates.data }).from(yjsUpdates).where(eq(yjsUpdates.docName, docName)).orderBy(asc(yjsUpdates.id));
  }

  async replaceAll(docName: string, state: Uint8Array, meetingId?: number | null): Promise<number> {
    return this.store.tx(async (q) => {
      if (this.fence && meetingId != null) await this.fence(q, meetingId);
      await q.delete(yjsUpdates).where(eq(yjsUpdates.docName, docName));
      const [row] = await q.insert(yjsUpdates).values({ docName, data: toBuffer(state) }).returning({ id: yjsUpdates.id });
      return row.id;
    });
  }

  compactInWorker(): Promise<CompactResult | null> {
    return Promise.reject(new Error('no compaction worker on PostgreSQL'));
  }

  async close(): Promise<void> {}
}
