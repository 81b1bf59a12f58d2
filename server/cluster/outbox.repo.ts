import { asc, gt, lt, max, sql } from 'drizzle-orm';
import type { Q, Store } from '../db/store.js';
import { eventOutbox } from '../db/tables.js';
import type { OutboxTopic } from '../events.js';

/** One event as another node wrote it. */
export interface OutboxRow {
  id: number;
  nodeId: string;
  topic: string;
  payload: Record<string, unknown>;
}

/** Writes one event in the transaction `q`; the table's trigger wakes the listening nodes when it commits (migrations-pg 0005). */
export async function insertOutbox(q: Q, nodeId: string, topic: OutboxTopic, payload: object): Promise<void> {
  await q.insert(eventOutbox).values({ nodeId, topic, payload: payload as Record<string, unknown> });
}

/** The newest id so far (0 when empty): where a starting node begins reading. */
export async function lastOutboxId(store: Store): Promise<number> {
  const [r] = await store.q.select({ id: max(eventOutbox.id) }).from(eventOutbox);
  return Number(r?.id ?? 0);
}

/** Rows after `afterId`, oldest first, at most `limit`. */
export async function outboxAfter(store: Store, afterId: number, limit: number): Promise<OutboxRow[]> {
  return await store.q
    .select({ id: eventOutbox.id, nodeId: eventOutbox.nodeId, topic: eventOutbox.topic, payload: eventOutbox.payload })
    .from(eventOutbox)
    .where(gt(eventOutbox.id, afterId))
    .orderBy(asc(eventOutbox.id))
    .limit(limit);
}

/** Deletes rows older than `seconds` by the database's clock (every node's clock may differ; the database's is one). */
export async function pruneOutbox(store: Store, seconds: number): Promise<number> {
  const gone = await store.q
    .delete(eventOutbox)
    .where(lt(eventOutbox.createdAt, sql`now() - make_interval(secs => ${seconds})`))
    .returning({ id: eventOutbox.id });
  return gone.length;
}
