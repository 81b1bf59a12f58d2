import { afterAll, beforeAll, describe } from 'vitest';
import type { Store } from '../../server/db/store.js';
import { openPgStore } from '../../server/db/store.pg.js';
import { type ThrowawayPg, startThrowawayPg } from '../helpers/pg.js';
import { storeContract } from '../helpers/store-contract.js';

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
});
