import { afterAll, describe } from 'vitest';
import type { Store } from '../../server/db/store.js';
import { openPgStore } from '../../server/db/store.pg.js';
import { type ThrowawayPg, startThrowawayPg } from '../helpers/pg.js';
import { searchContract } from '../helpers/search-contract.js';

describe('full-text search on PostgreSQL (tsvector, to_tsquery, ts_rank_cd): the shared search contract', () => {
  let pg: ThrowawayPg | undefined;
  let store: Store | undefined;
  afterAll(async () => {
    await store?.close();
    await pg?.stop();
  });
  searchContract(async () => {
    pg = await startThrowawayPg();
    store = await openPgStore(await pg.createDatabase('search_dialects'));
    return store;
  });
});
