import { txScope } from './store.js';

/**
 * Look-ups made during one event-loop turn, answered by one query (PostgreSQL's hot reads: under a burst of
 * a thousand ballots a second, one statement per look-up queued on the pool ahead of the writes, and most
 * of each ballot's wait was that queue). `load` gets the turn's keys and answers each in order. It runs
 * outside the callers' transactions (committed data, on the pool); a failed load fails every look-up of its turn.
 */
export function tickBatch<K, V>(load: (keys: K[]) => Promise<V[]>): (key: K) => Promise<V> {
  let pending: { key: K; resolve(v: V): void; reject(e: unknown): void }[] = [];
  const run = async () => {
    const batch = pending;
    pending = [];
    try {
      const values = await load(batch.map((p) => p.key));
      batch.forEach((p, i) => p.resolve(values[i]));
    } catch (e) {
      for (const p of batch) p.reject(e);
    }
  };
  return (key) =>
    new Promise<V>((resolve, reject) => {
      if (!pending.length) txScope.exit(() => setImmediate(() => void run()));
      pending.push({ key, resolve, reject });
    });
}
