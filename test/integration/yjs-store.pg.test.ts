import { afterAll, beforeAll, describe } from 'vitest';
import type { Store } from '../../server/db/store.js';
import { openPgStore } from '../../server/db/store.pg.js';
import { PgYjsStore } from '../../server/yjs/yjs.store.pg.js';
import { type ThrowawayPg, startThrowawayPg } from '../helpers/pg.js';
import { yjsStoreContract } from '../helpers/yjs-store-contract.js';

describe('Yjs updates on PostgreSQL (server/yjs/yjs.store.pg.ts)', () => {
  let pg: ThrowawayPg;
  let store: Store;
  beforeAll(async () => {
    pg = await startThrowawayPg();
    store = await openPgStore(await pg.createDatabase('yjs_store'));
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await pg?.stop();
  });
  yjsStoreContract(() => new PgYjsStore(store));
});
