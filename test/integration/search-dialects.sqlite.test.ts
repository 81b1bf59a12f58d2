import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe } from 'vitest';
import { type Db, openDb } from '../../server/db/client.js';
import { sqliteStore } from '../../server/db/store.sqlite.js';
import { searchContract } from '../helpers/search-contract.js';

describe('full-text search on SQLite (FTS5, bm25): the shared search contract', () => {
  let dir: string | undefined;
  let db: Db | undefined;
  afterAll(() => {
    db?.$client.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  searchContract(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec-search-'));
    db = openDb(dir);
    return sqliteStore(db);
  });
});
