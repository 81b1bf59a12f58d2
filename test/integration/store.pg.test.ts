import { type SQL, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rooms } from '../../server/db/tables.js';
import type { Q, Store } from '../../server/db/store.js';
import { openPgStore } from '../../server/db/store.pg.js';
import { type ThrowawayPg, startThrowawayPg } from '../helpers/pg.js';
import { storeContract } from '../helpers/store-contract.js';

/** Raw SQL on node-postgres' Drizzle (the store's Q types only the query builder both dialects share). */
const run = (q: Q, s: SQL) => (q as unknown as { execute(s: SQL): Promise<unknown> }).execute(s);

describe('the PostgreSQL store (server/db/store.pg.ts)', () => {
  let pg: ThrowawayPg;
  let store: Store;
  beforeAll(async () => {
    pg = await startThrowawayPg();
    store = await openPgStore(await pg.createDatabase('store_contract'));
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await pg?.stop();
  });
  // One database for the contract's cases (each uses its own rows): migrating one per case would dominate the run.
  storeContract(() => store);

  // A transaction's statements share one connection: two at once are queued by node-postgres with a
  // deprecation warning (an error in pg 9). In tests the store refuses the second, so a Promise.all inside
  // a transaction fails where it is written instead of warning somewhere in the log.
  it('refuses a statement started in a transaction while another is running, and rolls the transaction back', async () => {
    const err = await store
      .tx(async (q) => {
        await q.insert(rooms).values({ name: 'concurrent-a' });
        await Promise.all([run(q, sql`select pg_sleep(0.05)`), run(q, sql`select 1`)]);
      })
      .then(() => null, (e: Error & { cause?: Error }) => e);
    // Drizzle wraps the driver's error: the refusal is its cause.
    expect(err?.cause?.message ?? err?.message).toMatch(/still executing/);
    expect(await store.q.select().from(rooms).where(eq(rooms.name, 'concurrent-a'))).toEqual([]);
    // The connection went back to the pool usable, outside any transaction.
    for (let i = 0; i < 12; i++) await store.tx(async (q) => void (await run(q, sql`select 1`)));
    await store.tx(async (q) => void (await q.insert(rooms).values({ name: 'concurrent-b' })));
    expect(await store.q.select().from(rooms).where(eq(rooms.name, 'concurrent-b'))).toHaveLength(1);
  });

  it('runs statements outside a transaction at once on the pool', async () => {
    const rows = await Promise.all([run(store.q, sql`select pg_sleep(0.05)`), run(store.q, sql`select 2 as n`)]);
    expect(rows).toHaveLength(2);
  });
});
