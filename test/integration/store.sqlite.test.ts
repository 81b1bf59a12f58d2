import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe } from 'vitest';
import { type Db, openDb } from '../../server/db/client.js';
import { sqliteStore } from '../../server/db/store.sqlite.js';
import { storeContract } from '../helpers/store-contract.js';

describe('the SQLite store (server/db/store.sqlite.ts)', () => {
  const dirs: string[] = [];
  const dbs: Db[] = [];
  afterAll(() => {
    for (const db of dbs) db.$client.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  storeContract(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec-store-'));
    dirs.push(dir);
    const db = openDb(dir);
    dbs.push(db);
    return sqliteStore(db);
  });
});
